//! Alert ingestion end to end: the real app on a loopback port with a fresh database, driven
//! through the webhook routes (dedup, resolve, auth, signatures, bad input, full queue).

mod common;

use reqwest::StatusCode;
use sentinel::http::{AppState, Application};
use sentinel::ingest::IngestConfig;
use serde_json::{Value, json};
use std::time::Duration;

const TOKEN: &str = "test-webhook-token";
const PD_SECRET: &str = "pd-test-secret";

struct Srv {
    _dir: tempfile::TempDir,
    base: String,
    state: AppState,
    http: reqwest::Client,
}

async fn start(cfg: IngestConfig) -> Srv {
    let dir = tempfile::tempdir().unwrap();
    let app = Application::build_with(
        common::test_config(dir.path()),
        "127.0.0.1:0".parse().unwrap(),
        cfg,
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    tokio::spawn(app.run());
    // Alert senders declare JSON; requests that test otherwise set their own header.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    Srv {
        _dir: dir,
        base,
        state,
        http: reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap(),
    }
}

fn secured() -> IngestConfig {
    IngestConfig {
        webhook_token: Some(TOKEN.into()),
        pagerduty_secret: Some(PD_SECRET.into()),
        ..IngestConfig::default()
    }
}

/// A recorded payload. PagerDuty deliveries are re-stamped to "now" (signed deliveries older
/// than the freshness window are refused as replays).
fn fixture(name: &str) -> Vec<u8> {
    let raw = std::fs::read(common::fixtures().join("webhooks").join(name)).unwrap();
    if !name.starts_with("pagerduty") {
        return raw;
    }
    let mut v: Value = serde_json::from_slice(&raw).unwrap();
    v["event"]["occurred_at"] = json!(chrono::Utc::now().to_rfc3339());
    serde_json::to_vec(&v).unwrap()
}

impl Srv {
    async fn post(&self, route: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{route}", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.state.sentinel.store.pool())
            .await
            .unwrap()
    }

    /// `GET /api/incidents/:id`.
    async fn incident(&self, id: &str) -> Value {
        self.http
            .get(format!("{}/api/incidents/{id}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn event_kinds(&self, id: &str) -> Vec<String> {
        self.state
            .sentinel
            .store
            .events_after(Some(id), 0, 10_000)
            .await
            .unwrap()
            .iter()
            .map(|e| e.kind.name().to_string())
            .collect()
    }
}

fn outcomes(v: &Value) -> Vec<(String, String)> {
    v["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["incident_id"].as_str().unwrap_or_default().to_string(),
                o["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn alertmanager_dedups_repeats_and_records_resolves() {
    let s = start(secured()).await;
    let (st, v) = s
        .post(
            "/webhooks/alertmanager",
            fixture("alertmanager_firing.json"),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    // One group (two alerts) is one incident: the first alert opens it, the second joins.
    let first = outcomes(&v);
    let pay = first[0].0.clone();
    assert_eq!(
        first,
        vec![
            (pay.clone(), "opened".to_string()),
            (pay.clone(), "repeated".to_string())
        ]
    );
    assert_eq!(v["incidents"][1]["alert_count"], 2);
    assert_eq!(s.scalar("SELECT count(*) FROM incidents").await, 1);
    // Persisted before the 202.
    assert_eq!(s.scalar("SELECT count(*) FROM alerts").await, 2);

    // Alertmanager re-sends the group: repeats, no new incident.
    let (st, v) = s
        .post(
            "/webhooks/alertmanager",
            fixture("alertmanager_firing.json"),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(
        outcomes(&v),
        vec![
            (pay.clone(), "repeated".to_string()),
            (pay.clone(), "repeated".to_string())
        ]
    );
    assert_eq!(v["incidents"][1]["alert_count"], 4);
    assert_eq!(s.scalar("SELECT count(*) FROM incidents").await, 1);
    let detail = s.incident(&pay).await;
    assert_eq!(detail["alert_count"], 4);
    assert_eq!(detail["service"], "payment-service");
    assert!(s.event_kinds(&pay).await.contains(&"alert_repeated".into()));

    // One alert of the group clears while the other still fires: recorded, still open.
    let mut partial: Value = serde_json::from_slice(&fixture("alertmanager_firing.json")).unwrap();
    partial["alerts"][1]["status"] = "resolved".into();
    let (_, v) = s
        .post(
            "/webhooks/alertmanager",
            serde_json::to_vec(&partial).unwrap(),
        )
        .await;
    assert_eq!(
        outcomes(&v),
        vec![
            (pay.clone(), "repeated".to_string()),
            (pay.clone(), "cleared".to_string())
        ]
    );

    // The whole group resolves at the source: recorded on its incident, once.
    let (st, v) = s
        .post(
            "/webhooks/alertmanager",
            fixture("alertmanager_resolved.json"),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(
        outcomes(&v),
        vec![
            (pay.clone(), "resolved".to_string()),
            (pay.clone(), "resolved".to_string())
        ]
    );
    let kinds = s.event_kinds(&pay).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "alert_resolved").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        s.scalar("SELECT count(*) FROM alerts WHERE status = 'resolved'")
            .await,
        2
    );

    // It fires again after the resolve: a new incident.
    let (_, v) = s
        .post(
            "/webhooks/alertmanager",
            fixture("alertmanager_firing.json"),
        )
        .await;
    let again = outcomes(&v);
    assert_eq!(again[0].1, "opened");
    assert_ne!(again[0].0, pay);
    let order = again[0].0.clone();
    assert_eq!(again[1], (order.clone(), "repeated".to_string()));

    // Not from a scenario: investigated with no telemetry, and the agents escalate.
    let mut status = Value::Null;
    for _ in 0..200 {
        status = s.incident(&order).await["status"].clone();
        if status == "escalated" || status == "resolved" || status == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "escalated");
    // Escalated incidents keep collecting repeats (no storm of new investigations).
    let (_, v) = s
        .post(
            "/webhooks/alertmanager",
            fixture("alertmanager_firing.json"),
        )
        .await;
    assert_eq!(outcomes(&v)[0], (order.clone(), "repeated".to_string()));
}

#[tokio::test]
async fn webhook_auth() {
    let s = start(secured()).await;
    let url = format!("{}/webhooks/alertmanager", s.base);
    let body = fixture("alertmanager_firing.json");
    for req in [
        s.http.post(&url),
        s.http.post(&url).bearer_auth("wrong"),
        s.http.post(&url).basic_auth("alertmanager", Some("wrong")),
        s.http.post(&url).header("authorization", "Token abc"),
    ] {
        let r = req.body(body.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains("token"), "{v}");
    }
    assert_eq!(s.scalar("SELECT count(*) FROM alerts").await, 0);
    // Basic auth with the token as password, as Alertmanager's basic_auth sends it.
    for route in ["alertmanager", "grafana"] {
        let r = s
            .http
            .post(format!("{}/webhooks/{route}", s.base))
            .basic_auth("alertmanager", Some(TOKEN))
            .body(fixture(&format!("{route}_firing.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{route}");
    }
    let r = s
        .http
        .post(format!("{}/webhooks/datadog", s.base))
        .body(fixture("datadog_triggered.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // With a token configured, the generic route needs it too.
    let r = s
        .http
        .post(format!("{}/webhooks/alert", s.base))
        .body(r#"{"source":"x","service":"a","metric":"m","threshold":1,"current_value":2,"severity":"high"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_a_token_only_loopback_callers_are_accepted() {
    // The test client is on loopback, so it is accepted without credentials; the refusal of
    // other hosts is covered by the unit test `ingest::tests::token_rule`.
    let s = start(IngestConfig::default()).await;
    let r = s
        .http
        .post(format!("{}/webhooks/datadog", s.base))
        .body(fixture("datadog_triggered.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn pagerduty_signatures_and_lifecycle() {
    let s = start(secured()).await;
    let url = format!("{}/webhooks/pagerduty", s.base);
    let send = |body: Vec<u8>, sig: Option<String>| {
        let mut r = s.http.post(&url).header("content-type", "application/json");
        if let Some(sig) = sig {
            r = r.header("x-pagerduty-signature", sig);
        }
        r.body(body).send()
    };
    let trig = fixture("pagerduty_triggered.json");
    let r = send(trig.clone(), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = send(
        trig.clone(),
        Some(sentinel::ingest::pagerduty::sign("wrong", &trig)),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("signature"));
    // Tampered body with a signature of the original.
    let mut tampered = trig.clone();
    tampered.extend_from_slice(b" ");
    let r = send(
        tampered,
        Some(sentinel::ingest::pagerduty::sign(PD_SECRET, &trig)),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(s.scalar("SELECT count(*) FROM alerts").await, 0);

    // Rotation: an old and the current signature.
    let sig = format!(
        "v1=00112233,{}",
        sentinel::ingest::pagerduty::sign(PD_SECRET, &trig)
    );
    let r = send(trig.clone(), Some(sig)).await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    let id = v["incident_id"].as_str().unwrap().to_string();
    for (name, outcome) in [
        ("pagerduty_acknowledged.json", "acknowledged"),
        ("pagerduty_resolved.json", "resolved"),
    ] {
        let b = fixture(name);
        let sig = sentinel::ingest::pagerduty::sign(PD_SECRET, &b);
        let r = send(b, Some(sig)).await.unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(outcomes(&v), vec![(id.clone(), outcome.to_string())]);
    }
    assert_eq!(s.scalar("SELECT count(*) FROM incidents").await, 1);
    assert_eq!(
        s.scalar("SELECT count(*) FROM alerts WHERE source = 'pagerduty'")
            .await,
        3
    );
    assert!(s.event_kinds(&id).await.contains(&"alert_resolved".into()));
    // A ping is accepted and ignored.
    let ping = serde_json::to_vec(&json!({"event":{"id":"01","event_type":"pagey.ping","resource_type":"pagey","occurred_at": chrono::Utc::now().to_rfc3339(),"data":{"message":"Hello from your friend Pagey!","type":"ping"}}})).unwrap();
    let sig = sentinel::ingest::pagerduty::sign(PD_SECRET, &ping);
    let r = send(ping, Some(sig)).await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["accepted"], 0);
}

#[tokio::test]
async fn grafana_and_datadog_dedup() {
    let s = start(secured()).await;
    let (st, v) = s
        .post("/webhooks/grafana", fixture("grafana_firing.json"))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let (_, v2) = s
        .post("/webhooks/grafana", fixture("grafana_firing.json"))
        .await;
    assert_eq!(outcomes(&v2)[0].1, "repeated");
    assert_eq!(outcomes(&v2)[0].0, outcomes(&v)[0].0);

    let (st, v) = s
        .post("/webhooks/datadog", fixture("datadog_triggered.json"))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let id = outcomes(&v)[0].0.clone();
    let (_, v) = s
        .post("/webhooks/datadog", fixture("datadog_triggered.json"))
        .await;
    assert_eq!(outcomes(&v)[0], (id.clone(), "repeated".into()));
    let (_, v) = s
        .post("/webhooks/datadog", fixture("datadog_recovered.json"))
        .await;
    assert_eq!(outcomes(&v)[0], (id.clone(), "resolved".into()));
    assert_eq!(s.scalar("SELECT count(*) FROM incidents").await, 2);
}

#[tokio::test]
async fn bad_input_is_a_json_4xx() {
    let s = start(secured()).await;
    let (st, v) = s
        .post("/webhooks/alertmanager", b"{\"alerts\": [".to_vec())
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["error"].as_str().unwrap().contains("malformed JSON"),
        "{v}"
    );

    let (st, v) = s
        .post(
            "/webhooks/alertmanager",
            br#"{"version":"4","status":"firing"}"#.to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"].as_str().unwrap().contains("alerts"), "{v}");

    let (st, v) = s
        .post(
            "/webhooks/alertmanager",
            br#"{"status":"firing","alerts":[{"status":"firing"}]}"#.to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let e = v["error"].as_str().unwrap();
    assert!(e.contains("alerts[0]") && e.contains("labels"), "{e}");

    let (st, v) = s
        .post(
            "/webhooks/datadog",
            br#"{"alert_transition":"Triggered"}"#.to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"].as_str().unwrap().contains("alert_id"), "{v}");

    // Oversized, with a Content-Length (refused by the limit layer) ...
    let big = vec![b' '; sentinel::config::HttpLimits::default().max_body_bytes + 1024];
    let (st, v) = s.post("/webhooks/alertmanager", big.clone()).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(v["error"].as_str().unwrap().contains("larger"), "{v}");
    // ... and streamed without one (refused while reading).
    let (status, body) = chunked_post(&s, "/webhooks/alertmanager", &big).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("{\"error\""), "{body}");
    assert_eq!(s.scalar("SELECT count(*) FROM alerts").await, 0);
}

#[tokio::test]
async fn full_queue_answers_429_and_keeps_the_alert() {
    // No workers: the queue (capacity 1) never drains.
    let s = start(IngestConfig {
        queue_capacity: 1,
        queue_workers: 0,
        ..secured()
    })
    .await;
    let one = br#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A","service":"api-gateway"},"fingerprint":"aaaa"}]}"#.to_vec();
    let two = br#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"B","service":"api-gateway"},"fingerprint":"bbbb"}]}"#.to_vec();
    let (st, v) = s.post("/webhooks/alertmanager", one).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    assert_eq!(s.state.ingest.queue.len(), 1);

    let r = s
        .http
        .post(format!("{}/webhooks/alertmanager", s.base))
        .bearer_auth(TOKEN)
        .body(two.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("queue full"), "{v}");
    let deferred = v["deferred"][0].as_str().unwrap().to_string();
    // Nothing lost: the incident and its alert are stored, waiting for the re-drive.
    let rec = s
        .state
        .sentinel
        .store
        .get_incident(&deferred)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status.as_str(), "open");
    assert_eq!(
        s.scalar("SELECT count(*) FROM alerts WHERE fingerprint = 'alertmanager:bbbb'")
            .await,
        1
    );
    // The sender retries: a repeat of the stored incident, accepted.
    let (st, v) = s.post("/webhooks/alertmanager", two).await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(outcomes(&v), vec![(deferred, "repeated".to_string())]);
}

#[tokio::test]
async fn generic_webhook_still_works_and_dedups() {
    let s = start(IngestConfig::default()).await;
    let body = json!({"source":"prometheus","service":"payment-service","metric":"error_rate",
        "threshold":0.05,"current_value":0.2,"severity":"critical","labels":{"env":"prod"}})
    .to_string()
    .into_bytes();
    let (st, v) = s.post("/webhooks/alert", body.clone()).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let id = v["incident_id"].as_str().unwrap().to_string();
    let (_, v) = s.post("/webhooks/alert", body).await;
    assert_eq!(v["incident_id"], id.as_str());
    assert_eq!(outcomes(&v)[0].1, "repeated");
    let (st, v) = s
        .post("/webhooks/alert", br#"{"source":"x"}"#.to_vec())
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"].as_str().unwrap().contains("service"), "{v}");
}

/// POSTs `body` with `Transfer-Encoding: chunked` (no Content-Length) over a raw socket.
async fn chunked_post(s: &Srv, route: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {route} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    for c in body.chunks(64 * 1024) {
        let frame = [format!("{:x}\r\n", c.len()).as_bytes(), c, b"\r\n"].concat();
        if sock.write_all(&frame).await.is_err() {
            break; // the server may answer and close before the end
        }
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Raw alerts of finished incidents are pruned after the retention period, oldest first;
/// alerts of open incidents and recent ones stay, and the counts an incident shows do not
/// change.
#[tokio::test]
async fn old_raw_alerts_of_finished_incidents_are_pruned_and_counts_kept() {
    let dir = tempfile::tempdir().unwrap();
    let s = sentinel::bootstrap::sentinel(common::test_config(dir.path()))
        .await
        .unwrap();
    let sc = s.scenario("bad_deploy_01").unwrap();
    let (done, _) = s.open_scenario(&sc).await.unwrap();
    let (open, _) = s.open_scenario(&sc).await.unwrap();
    sqlx::query("UPDATE incidents SET status = 'resolved' WHERE id = ?")
        .bind(&done)
        .execute(s.store.writer())
        .await
        .unwrap();
    let now = chrono::Utc::now();
    // UUIDv7-shaped ids for the given time, as the ingestion writer makes them.
    let id_at = |t: chrono::DateTime<chrono::Utc>, n: usize| {
        let ms = t.timestamp_millis() as u64;
        format!("{:08x}-{:04x}-7000-8000-{n:012x}", ms >> 16, ms & 0xffff)
    };
    let old = now - chrono::Duration::days(40);
    let mut rows = Vec::new();
    for n in 0..2500 {
        rows.push((id_at(old, n), done.clone(), old));
    }
    for n in 0..3 {
        rows.push((id_at(old, 10_000 + n), open.clone(), old));
        rows.push((id_at(now, 20_000 + n), done.clone(), now));
    }
    for (id, incident, at) in &rows {
        sqlx::query("INSERT INTO alerts (id, incident_id, source, fingerprint, status, outcome, received_at, payload_json) VALUES (?,?,?,?,?,?,?,?)")
            .bind(id)
            .bind(incident)
            .bind("alertmanager")
            .bind("fp")
            .bind("firing")
            .bind("repeat")
            .bind(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .bind("{}")
            .execute(s.store.writer())
            .await
            .unwrap();
    }
    let count = |incident: String| {
        let s = &s;
        async move {
            s.store
                .get_incident(&incident)
                .await
                .unwrap()
                .unwrap()
                .summary()
                .alert_count
        }
    };
    let (done_before, open_before) = (count(done.clone()).await, count(open.clone()).await);

    let pruned = s
        .store
        .prune_alerts(now - chrono::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(
        pruned, 2500,
        "every old alert of the resolved incident, over several batches"
    );
    let left: Vec<(String, i64)> = sqlx::query_as(
        "SELECT incident_id, count(*) FROM alerts WHERE source = 'alertmanager' GROUP BY incident_id ORDER BY incident_id",
    )
    .fetch_all(s.store.pool())
    .await
    .unwrap();
    let mut want = vec![(done.clone(), 3), (open.clone(), 3)];
    want.sort();
    assert_eq!(left, want, "the open incident's and the recent alerts stay");
    assert_eq!(count(done.clone()).await, done_before);
    assert_eq!(count(open.clone()).await, open_before);
    // Nothing left to prune.
    assert_eq!(
        s.store
            .prune_alerts(now - chrono::Duration::days(30))
            .await
            .unwrap(),
        0
    );
}

/// CI/CD change routes: GitHub deliveries verified by `X-Hub-Signature-256` (bad or missing
/// signature 401, replayed delivery 409, a pending deployment ignored), Argo CD
/// notifications behind the webhook token; what they store is what the change source lists.
#[tokio::test]
async fn github_and_argocd_deliveries_become_change_events() {
    use hmac::{Hmac, Mac};
    const GH_SECRET: &str = "gh-test-secret";
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::test_config(dir.path());
    let toml = format!(
        "[changes.github]\nsecret = \"{GH_SECRET}\"\n[changes.github.services]\n\"shop/checkout\" = \"checkout\"\n"
    );
    cfg.file = sentinel::config::FileConfig::parse(std::path::Path::new("s.toml"), &toml).unwrap();
    let app = Application::build_with(cfg, "127.0.0.1:0".parse().unwrap(), secured())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    tokio::spawn(app.run());
    let http = reqwest::Client::new();
    let sign = |body: &str| {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(GH_SECRET.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let deployment = json!({
        "action": "created",
        "deployment_status": {"state": "success", "created_at": "2026-12-01T10:00:00Z"},
        "deployment": {"id": 42, "sha": "abc1234def5678", "ref": "v2.4.0", "environment": "production", "description": "checkout v2.4.0"},
        "repository": {"name": "checkout", "full_name": "shop/checkout"}
    })
    .to_string();
    let post = |event: &str, body: String, sig: Option<String>, delivery: &str| {
        let mut r = http
            .post(format!("{base}/webhooks/change/github"))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .body(body);
        if let Some(s) = sig {
            r = r.header("x-hub-signature-256", s);
        }
        r.send()
    };
    let r = post("deployment_status", deployment.clone(), None, "d-1")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = post(
        "deployment_status",
        deployment.clone(),
        Some(sign("other")),
        "d-1",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = post(
        "deployment_status",
        deployment.clone(),
        Some(sign(&deployment)),
        "d-1",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap()["stored"], 1);
    let r = post(
        "deployment_status",
        deployment.clone(),
        Some(sign(&deployment)),
        "d-1",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let pending = deployment.replace("\"success\"", "\"pending\"");
    let r = post(
        "deployment_status",
        pending.clone(),
        Some(sign(&pending)),
        "d-2",
    )
    .await
    .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["stored"], 0);

    // Argo CD: the webhook token rule.
    let argo = json!({"app": "search", "revision": "feedbeef00112233", "status": "Succeeded", "finished_at": "2026-12-01T10:05:00Z"});
    let r = http
        .post(format!("{base}/webhooks/change/argocd"))
        .json(&argo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .post(format!("{base}/webhooks/change/argocd"))
        .bearer_auth(TOKEN)
        .json(&argo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    let since = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let stored = state
        .sentinel
        .store
        .changes_since(None, since, 100)
        .await
        .unwrap();
    let ids: Vec<(&str, &str)> = stored
        .iter()
        .map(|c| (c.id.as_str(), c.service.as_str()))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("github-deployment-42", "checkout"),
            ("argocd-search-feedbeef0011", "search")
        ]
    );
    assert_eq!(stored[0].commit.as_deref(), Some("abc1234def5678"));

    // The changes list.
    let list: Value = http
        .get(format!("{base}/api/changes?hours=2160&service=checkout"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["github-deployment-42"]);
    let r = http
        .get(format!("{base}/api/changes?hours=-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("hours"));
}

/// Commits a push delivery stored belong to the deploy that shipped them (the one naming the
/// commit, else the next deploy of the service): the deploy gets their files and subjects,
/// and only the commits no deploy shipped stay changes of their own.
#[tokio::test]
async fn pushed_commits_are_attached_to_the_deploy_that_shipped_them() {
    use sentinel::store::{ChangeEvent, StoredChanges};
    use sentinel::telemetry::ChangeSource;
    use sentinel::telemetry::changes::ChangeSources;
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::test_config(dir.path());
    let sentinel = sentinel::bootstrap::sentinel(cfg).await.unwrap();
    let store = sentinel.store.clone();
    let at = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let ev = |id: &str, kind: &str, ts: &str, desc: &str, commit: Option<&str>, files: &[&str]| {
        ChangeEvent {
            id: id.into(),
            service: "checkout".into(),
            kind: app::model::ChangeKind::parse(kind),
            ts: at(ts),
            author: "dev".into(),
            description: desc.into(),
            commit: commit.map(String::from),
            version: None,
            files_changed: files.iter().map(|f| f.to_string()).collect(),
        }
    };
    for (e, source) in [
        (
            ev(
                "abc1234def56",
                "commit",
                "2026-12-01T09:50:00Z",
                "commit on main: Lower the cart pool timeout",
                Some("abc1234def5678"),
                &["src/cart/pool.rs"],
            ),
            "github",
        ),
        (
            ev(
                "github-deployment-42",
                "deploy",
                "2026-12-01T10:00:00Z",
                "checkout v2.4.0",
                Some("abc1234def5678"),
                &[],
            ),
            "github",
        ),
        (
            ev(
                "0ff1ce000000",
                "commit",
                "2026-12-01T10:20:00Z",
                "commit on main: Docs for the cart",
                Some("0ff1ce0000001111"),
                &["docs/cart.md"],
            ),
            "github",
        ),
    ] {
        assert!(store.insert_change(&e, source).await.unwrap());
    }
    let src = ChangeSources {
        events: std::sync::Arc::new(StoredChanges {
            store: store.clone(),
        }),
        git: vec![],
        versions: None,
    };
    let since = at("2026-12-01T00:00:00Z");
    let deploys = src.deploys(Some("checkout"), since).await.unwrap();
    assert_eq!(deploys.len(), 1);
    assert_eq!(deploys[0].files_changed.paths(), ["src/cart/pool.rs"]);
    assert!(
        deploys[0]
            .description
            .contains("Lower the cart pool timeout"),
        "{}",
        deploys[0].description
    );
    let changes: Vec<String> = src
        .changes(Some("checkout"), since)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        changes,
        vec!["0ff1ce000000"],
        "the shipped commit is part of its deploy"
    );
}
