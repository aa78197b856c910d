//! Reliability and trust boundaries of the running server (issue: no incident wedged or lost,
//! hostile clients bounded): decisions racing the gate, slow event subscribers, slowloris,
//! slow bodies, idle connections, browser-origin webhooks, signed-delivery replays,
//! revocable sessions, server-function argument errors.

mod common;

use reqwest::StatusCode;
use sentinel::config::HttpLimits;
use sentinel::http::{AppState, Application};
use sentinel::ingest::IngestConfig;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OPERATOR: &str = "test-operator-token";

struct Srv {
    _dir: tempfile::TempDir,
    base: String,
    addr: std::net::SocketAddr,
    state: AppState,
    http: reqwest::Client,
}

async fn start_with(
    ingest: IngestConfig,
    tweak: impl FnOnce(&mut sentinel::config::Config),
) -> Srv {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::test_config(dir.path());
    tweak(&mut cfg);
    let app = Application::build_with(cfg, "127.0.0.1:0".parse().unwrap(), ingest)
        .await
        .unwrap();
    let addr = app.addr;
    let state = app.state.clone();
    tokio::spawn(app.run());
    Srv {
        _dir: dir,
        base: format!("http://{addr}"),
        addr,
        state,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

async fn start() -> Srv {
    start_with(IngestConfig::default(), |_| {}).await
}

/// Polls `f` until it is true or `within` passes (generous: never a timing assertion).
async fn eventually<F: std::future::Future<Output = bool>>(
    within: Duration,
    mut f: impl FnMut() -> F,
) -> bool {
    let end = Instant::now() + within;
    loop {
        if f().await {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn status_of(s: &Srv, id: &str) -> String {
    let v: Value = s
        .http
        .get(format!("{}/api/incidents/{id}", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["status"].as_str().unwrap_or_default().to_string()
}

/// A decision sent the moment the gate could open — before, during and right after it — is
/// never lost: the incident always reaches its final state. (Before the gate committed the
/// approval and the status together, a retrying client lost the decision 40 times in 40.)
#[tokio::test]
async fn a_decision_racing_the_gate_is_never_lost() {
    let s = start().await;
    let sentinel = &s.state.sentinel;
    for _ in 0..20 {
        let id = sentinel
            .fire_scenario("bad_deploy_01", "test")
            .await
            .unwrap();
        loop {
            let d = app::model::ApprovalDecision::parse("approve", "", "racer").unwrap();
            match sentinel.decide(&id, d).await {
                Ok(_) => break,
                Err(sentinel::service::ServiceError::Conflict(m)) if m.contains("already") => break,
                Err(sentinel::service::ServiceError::Conflict(_)) => tokio::task::yield_now().await,
                Err(e) => panic!("{e}"),
            }
        }
        let settled = eventually(Duration::from_secs(30), || async {
            status_of(&s, &id).await == "resolved"
        })
        .await;
        assert!(
            settled,
            "incident {id} is {} after its approval",
            status_of(&s, &id).await
        );
        let pending = sentinel.store.pending_approval(&id).await.unwrap();
        assert!(pending.is_none());
    }
}

/// A subscriber that stops reading while far more events than the live channel holds are
/// written gets every one of them once it reads again, in order, with no gap.
#[tokio::test]
async fn a_slow_event_subscriber_misses_nothing() {
    let s = start().await;
    let sentinel = &s.state.sentinel;
    let id = sentinel
        .fire_scenario("memory_leak_01", "test")
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(30), || async {
            status_of(&s, &id).await != "investigating" && status_of(&s, &id).await != "open"
        })
        .await
    );
    let start_seq = sentinel.store.max_event_seq().await.unwrap();
    // Subscribe, then do not read.
    let mut sock = TcpStream::connect(s.addr).await.unwrap();
    sock.write_all(format!("GET /api/events?after={start_seq} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n", s.addr).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let n = 30_000; // the live channel holds 4,096; the old catch-up read one page of 10,000
    for i in 0..n {
        sentinel
            .events
            .emit(
                &id,
                app::model::AgentRole::Orchestrator,
                app::model::RunEventKind::AgentSkipped {
                    reason: format!("filler {i}"),
                },
            )
            .await
            .unwrap();
    }
    sentinel.events.flush().await.unwrap();
    let last = sentinel.store.max_event_seq().await.unwrap();
    assert!(last - start_seq >= n as i64);
    // Now read everything.
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut seqs: Vec<i64> = Vec::new();
    let mut tail = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seqs.last().copied().unwrap_or(0) < last && Instant::now() < deadline {
        let got = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut chunk)).await;
        let Ok(Ok(k)) = got else { break };
        if k == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..k]);
        tail.push_str(&String::from_utf8_lossy(&buf));
        buf.clear();
        while let Some(pos) = tail.find('\n') {
            let line: String = tail.drain(..=pos).collect();
            if let Some(v) = line
                .trim_end()
                .strip_prefix("id: ")
                .or_else(|| line.trim_end().strip_prefix("id:"))
            {
                seqs.push(v.trim().parse().unwrap());
            }
        }
    }
    let want: Vec<i64> = (start_seq + 1..=last).collect();
    assert_eq!(
        seqs.len(),
        want.len(),
        "received {} of {} events",
        seqs.len(),
        want.len()
    );
    assert!(seqs == want, "events out of order or with gaps");
}

/// Half-sent requests are closed after the header timeout, connections past the
/// per-address cap are refused at once, an idle keep-alive connection is closed, a body
/// shorter than declared is a 408 — and the server keeps answering throughout.
#[tokio::test]
async fn slow_and_idle_clients_are_bounded() {
    let s = start_with(IngestConfig::default(), |c| {
        c.http = HttpLimits {
            header_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            max_connections_per_ip: 40,
            ..HttpLimits::default()
        }
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..40 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        held.push(c);
    }
    // Over the cap: closed without an answer.
    let mut over = TcpStream::connect(s.addr).await.unwrap();
    let _ = over
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut b = [0u8; 64];
    let r = tokio::time::timeout(Duration::from_secs(10), over.read(&mut b)).await;
    assert!(
        matches!(r, Ok(Ok(0)) | Ok(Err(_))),
        "a connection over the cap was served: {r:?}"
    );
    // The held ones are closed once their header timeout passes.
    for c in &mut held {
        let r = tokio::time::timeout(Duration::from_secs(15), c.read(&mut b)).await;
        match r {
            Ok(Ok(0)) | Ok(Err(_)) => {}
            Ok(Ok(k)) => {
                // hyper may answer 408 before closing; then the next read is EOF.
                assert!(String::from_utf8_lossy(&b[..k]).starts_with("HTTP/1.1 408"));
            }
            Err(_) => panic!("a half-sent request was kept open past the header timeout"),
        }
    }
    drop(held);
    // Served again once they are gone.
    assert!(
        eventually(Duration::from_secs(10), || async {
            s.http
                .get(format!("{}/health", s.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await
    );
    // A body shorter than its Content-Length: 408, not a hang.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(
        b"POST /webhooks/alert HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"source\":",
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), c.read_to_end(&mut got)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\""), "{text}");
    // An idle keep-alive connection is closed.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = vec![0u8; 4096];
    let k = c.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..k]).starts_with("HTTP/1.1 200"));
    let mut rest = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(20), c.read_to_end(&mut rest)).await;
    assert!(r.is_ok(), "an idle connection stayed open");
}

/// Without a webhook token, what a web page could make the operator's browser send is
/// refused: non-JSON bodies, browser origins, foreign Host names (DNS rebinding).
/// Firing a scenario is an operator act on both the REST route and the server function.
#[tokio::test]
async fn webhooks_refuse_what_a_browser_can_send_and_firing_needs_the_operator() {
    let s = start().await;
    let alert = r#"{"source":"x","service":"checkout","metric":"m","threshold":1,"current_value":2,"severity":"high"}"#;
    for route in ["alert", "alertmanager", "grafana", "datadog", "pagerduty"] {
        let url = format!("{}/webhooks/{route}", s.base);
        let r = s
            .http
            .post(&url)
            .header("content-type", "text/plain")
            .body(alert)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{route}");
        let r = s
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("origin", "http://evil.example")
            .body(alert)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{route}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains("browser"), "{v}");
        let r = s
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("host", "evil.example")
            .body(alert)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{route}");
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM alerts")
        .fetch_one(s.state.sentinel.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let r = s
        .http
        .post(format!("{}/webhooks/alert", s.base))
        .header("content-type", "application/json")
        .body(alert)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    let fire = format!("{}/api/scenarios/bad_deploy_01/fire", s.base);
    assert_eq!(
        s.http.post(&fire).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.http
            .post(&fire)
            .bearer_auth(OPERATOR)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    let r = s
        .http
        .post(format!("{}/api/fire_scenario", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("scenario_id=bad_deploy_01")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// A captured signed delivery cannot be replayed, and a stale one is refused.
#[tokio::test]
async fn signed_deliveries_cannot_be_replayed() {
    let secret = "pd-secret";
    let s = start_with(
        IngestConfig {
            pagerduty_secret: Some(secret.into()),
            ..IngestConfig::default()
        },
        |_| {},
    )
    .await;
    let raw = std::fs::read(common::fixtures().join("webhooks/pagerduty_triggered.json")).unwrap();
    let mut v: Value = serde_json::from_slice(&raw).unwrap();
    v["event"]["occurred_at"] = json!(chrono::Utc::now().to_rfc3339());
    let body = serde_json::to_vec(&v).unwrap();
    let send = |b: Vec<u8>| {
        let sig = sentinel::ingest::pagerduty::sign(secret, &b);
        s.http
            .post(format!("{}/webhooks/pagerduty", s.base))
            .header("content-type", "application/json")
            .header("x-pagerduty-signature", sig)
            .body(b)
            .send()
    };
    assert_eq!(
        send(body.clone()).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let r = send(body.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("replay"), "{e}");
    // Stale (signed, new id, 2019): refused.
    v["event"]["id"] = json!("01OLD");
    v["event"]["occurred_at"] = json!("2019-01-01T00:00:00Z");
    let r = send(serde_json::to_vec(&v).unwrap()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(s.state.sentinel.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "one incident from one delivery");
}

/// Sessions are server-side: after logout a copy of the cookie no longer works.
#[tokio::test]
async fn logout_revokes_the_session_and_cookies_are_secure_over_tls() {
    let s = start().await;
    let login = |tls: bool| {
        let mut r = s.http.get(format!(
            "{}/login?token={OPERATOR}&next=/\\evil.example",
            s.base
        ));
        if tls {
            r = r.header("x-forwarded-proto", "https");
        }
        r.send()
    };
    let r = login(false).await.unwrap();
    assert_eq!(
        r.headers()["location"],
        "/",
        "a bent redirect is replaced by /"
    );
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"));
    let cookie = set.split(';').next().unwrap().to_string();
    assert_ne!(cookie.split('=').nth(1).unwrap(), OPERATOR);
    let fire = format!("{}/api/scenarios/memory_leak_01/fire", s.base);
    let r = s
        .http
        .post(&fire)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = s
        .http
        .post(format!("{}/logout", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let r = s
        .http
        .post(&fire)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the copied cookie still works after logout"
    );
    let r = login(true).await.unwrap();
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");
}

/// Malformed server-function arguments are a 400 with a JSON message, not a 500; acting
/// server functions check the operator before reading their arguments.
#[tokio::test]
async fn server_function_argument_errors_are_400_and_auth_comes_first() {
    let s = start().await;
    let form = "application/x-www-form-urlencoded";
    for (path, body) in [
        ("/api/get_incident_view", ""),
        ("/api/get_incident_view", "id=%ZZ"),
        ("/api/list_incidents", "status=1&status=2&status[x]=3"),
        ("/api/live_snapshot", "pin[a][b]=%"),
    ] {
        let r = s
            .http
            .post(format!("{}{path}", s.base))
            .header("content-type", form)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_client_error(),
            "{path} {body:?}: {}",
            r.status()
        );
        let v: Value = r
            .json()
            .await
            .unwrap_or_else(|_| panic!("{path}: JSON error body"));
        assert!(v["error"].is_string(), "{v}");
    }
    let r = s
        .http
        .post(format!("{}/api/decide_approval", s.base))
        .header("content-type", form)
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s
        .http
        .post(format!("{}/api/decide_approval", s.base))
        .bearer_auth(OPERATOR)
        .header("content-type", form)
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// An approval nobody decides is timed out and the incident escalated, without waiting for
/// a human or a restart.
#[tokio::test]
async fn an_undecided_approval_times_out_into_an_escalation() {
    let s = start_with(IngestConfig::default(), |c| {
        c.approval_timeout = Duration::from_secs(1)
    })
    .await;
    let id = s
        .state
        .sentinel
        .fire_scenario("bad_deploy_01", "test")
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(30), || async {
            status_of(&s, &id).await == "escalated"
        })
        .await
    );
    let v: Value = s
        .http
        .get(format!("{}/api/incidents/{id}", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["remediation"]["approval"], "timed_out");
}

/// Event streams are capped: past the limit a subscriber gets a JSON 503 with Retry-After,
/// and a slot frees up when a stream closes.
#[tokio::test]
async fn event_streams_are_capped() {
    let s = start_with(IngestConfig::default(), |c| {
        c.http = HttpLimits {
            max_event_streams: 2,
            ..HttpLimits::default()
        }
    })
    .await;
    let url = format!("{}/api/events", s.base);
    let a = s.http.get(&url).send().await.unwrap();
    let b = s.http.get(&url).send().await.unwrap();
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let c = s.http.get(&url).send().await.unwrap();
    assert_eq!(c.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(c.headers().get("retry-after").is_some());
    let v: Value = c.json().await.unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("event streams"),
        "{v}"
    );
    drop(a);
    assert!(
        eventually(Duration::from_secs(30), || async {
            s.http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
        })
        .await,
        "a closed stream never gave its slot back"
    );
}

/// A caller that goes away while its decision is being applied (an HTTP client that
/// disconnects) cancels only its wait: the run still reaches its end.
#[tokio::test]
async fn a_decision_whose_caller_goes_away_still_finishes_the_run() {
    let s = start().await;
    let sentinel = s.state.sentinel.clone();
    for _ in 0..10 {
        let id = sentinel
            .fire_scenario("bad_deploy_01", "test")
            .await
            .unwrap();
        assert!(
            eventually(Duration::from_secs(30), || async {
                status_of(&s, &id).await == "awaiting_approval"
            })
            .await
        );
        let approval = sentinel.store.pending_approval(&id).await.unwrap().unwrap();
        let (sn, iid) = (sentinel.clone(), id.clone());
        let caller = tokio::spawn(async move {
            let d = app::model::ApprovalDecision::parse("approve", "", "leaver").unwrap();
            sn.decide(&iid, d).await
        });
        // Abort the caller the moment its decision is committed, mid-run.
        loop {
            let a = sentinel
                .store
                .get_approval(&approval.request.approval_id)
                .await
                .unwrap()
                .unwrap();
            if a.status != "pending" {
                caller.abort();
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(
            eventually(Duration::from_secs(30), || async {
                status_of(&s, &id).await == "resolved"
            })
            .await,
            "incident {id} is {} after its caller went away",
            status_of(&s, &id).await
        );
    }
}
