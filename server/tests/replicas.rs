//! Two `sentinel serve` processes on one real PostgreSQL 15 (initdb + pg_ctl on a free
//! loopback port in a temp dir): the fleet behaviour issue 16 names, end to end through the
//! binary and HTTP.
//!
//! - a replica killed with SIGKILL while it investigates: the other one finishes the incident
//!   from its checkpoint (its lease names a process that is gone);
//! - the same Alertmanager group delivered to both at once opens one incident;
//! - both replicas asked to decide one approval at once: exactly one decision wins, and the
//!   run resumes once;
//! - an event stream on replica B carries the events replica A produced, in log order, and a
//!   reconnect with `Last-Event-ID` replays exactly what came after it.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::pg::Pg;
use support::replica::{OPERATOR, Replica, WEBHOOK, repo_root};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A PostgreSQL server and two replicas on it (the second with the same configuration).
async fn fleet(config: Option<&str>) -> (Pg, Replica, Replica) {
    assert!(
        Pg::available(),
        "initdb not installed (scripts/setup.sh --test installs PostgreSQL)"
    );
    let pg = tokio::task::spawn_blocking(Pg::start).await.unwrap();
    // One after the other: the second also finds the schema migrated.
    let a = Replica::start(env!("CARGO_BIN_EXE_sentinel"), &pg.url, config).await;
    let b = Replica::start(env!("CARGO_BIN_EXE_sentinel"), &pg.url, config).await;
    (pg, a, b)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An Alertmanager delivery of one firing alert (its group key is its fingerprint).
fn alertmanager_group(fingerprint: &str) -> Value {
    let raw =
        std::fs::read(repo_root().join("server/tests/fixtures/webhooks/alertmanager_firing.json"))
            .unwrap();
    let mut v: Value = serde_json::from_slice(&raw).unwrap();
    let mut first = v["alerts"][0].clone();
    first["fingerprint"] = json!(fingerprint);
    first["startsAt"] = json!(chrono::Utc::now().to_rfc3339());
    v["alerts"] = json!([first]);
    v["groupKey"] = json!(format!("{{}}:{{fingerprint=\"{fingerprint}\"}}"));
    v
}

async fn post_alert(r: &Replica, body: &Value) -> Value {
    post_alert_to(&r.base, body).await
}

async fn post_alert_to(base: &str, body: &Value) -> Value {
    let res = http()
        .post(format!("{base}/webhooks/alertmanager"))
        .bearer_auth(WEBHOOK)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    res.json().await.unwrap()
}

async fn incident(r: &Replica, id: &str) -> Value {
    http()
        .get(format!("{}/api/incidents/{id}", r.base))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn status(v: &Value) -> String {
    v["summary"]["status"]
        .as_str()
        .or(v["status"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Polls `r` until the incident's status is one of `want`.
async fn wait_status(r: &Replica, id: &str, want: &[&str], other: &Replica) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let v = incident(r, id).await;
        if want.contains(&status(&v).as_str()) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "incident {id} stuck at {:?}\n--- replica log ---\n{}\n--- other replica ---\n{}",
            status(&v),
            r.log(),
            other.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn pg_pool(pg: &Pg) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&pg.url)
        .await
        .unwrap()
}

/// The incident's run-lease holder, read from the database.
async fn lease_owner(db: &sqlx::PgPool, id: &str) -> Option<String> {
    sqlx::query_scalar("SELECT lease_owner FROM incidents WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

/// How many events the incident's log holds (of `kind`, or of any).
async fn events_of(db: &sqlx::PgPool, id: &str, kind: Option<&str>) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE incident_id = $1 AND ($2::text IS NULL OR kind = $2)",
    )
    .bind(id)
    .bind(kind)
    .fetch_one(db)
    .await
    .unwrap()
}

/// Who holds the fleet's periodic-jobs role.
async fn role_holder(db: &sqlx::PgPool) -> String {
    sqlx::query_scalar("SELECT owner FROM roles WHERE name = 'periodic'")
        .fetch_one(db)
        .await
        .unwrap()
}

/// A Prometheus-compatible endpoint that answers every query with no data, except the first
/// query after it is armed, which it never answers: the investigation asking it hangs there
/// until its process dies.
struct Blackhole {
    url: String,
    armed: Arc<AtomicBool>,
    stalled: Arc<tokio::sync::Notify>,
}

impl Blackhole {
    async fn start() -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let armed = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(tokio::sync::Notify::new());
        let (a, s) = (armed.clone(), stalled.clone());
        tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = vec![0u8; 16 * 1024];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                // The start-up ping is `query=vector(1)`; anything else after arming is the
                // investigation.
                if !path.contains("vector%281%29")
                    && !path.contains("vector(1)")
                    && a.swap(false, Ordering::SeqCst)
                {
                    held.push(sock);
                    s.notify_one();
                    continue;
                }
                let body = if path.starts_with("/api/v1/rules") {
                    r#"{"status":"success","data":{"groups":[]}}"#
                } else if path.starts_with("/api/v1/query") {
                    r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#
                } else {
                    r#"{"status":"success","data":[]}"#
                };
                let res = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(res.as_bytes()).await;
            }
        });
        Blackhole {
            url,
            armed,
            stalled,
        }
    }
}

#[tokio::test]
async fn a_replica_killed_mid_investigation_is_finished_by_the_other() {
    let prom = Blackhole::start().await;
    let config = format!("[metrics]\nkind = \"prometheus\"\nurl = \"{}\"\n", prom.url);
    let (pg, mut a, b) = fleet(Some(&config)).await;
    prom.armed.store(true, Ordering::SeqCst);
    let v = post_alert(&a, &alertmanager_group("kill-1")).await;
    let id = v["incidents"][0]["incident_id"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::timeout(Duration::from_secs(60), prom.stalled.notified())
        .await
        .unwrap_or_else(|_| panic!("the investigation never queried metrics:\n{}", a.log()));
    let db = pg_pool(&pg).await;
    let owner = lease_owner(&db, &id).await;
    assert!(
        owner.is_some(),
        "replica A holds the run lease while it investigates"
    );
    let before = events_of(&db, &id, None).await;
    a.kill();
    let done = wait_status(
        &b,
        &id,
        &["resolved", "escalated", "failed", "awaiting_approval"],
        &a,
    )
    .await;
    let after = events_of(&db, &id, None).await;
    assert!(
        after > before,
        "replica B wrote the rest of the trajectory ({before} → {after} events)"
    );
    // The lease goes right after the final status is saved.
    let deadline = Instant::now() + Duration::from_secs(20);
    while lease_owner(&db, &id).await.is_some() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let owner = lease_owner(&db, &id).await;
    assert_eq!(owner, None, "B released the lease when it stopped: {done}");
    let opened = events_of(&db, &id, Some("incident_opened")).await;
    assert_eq!(opened, 1, "continued, not started over");
}

#[tokio::test]
async fn one_alert_group_delivered_to_both_replicas_at_once_opens_one_incident() {
    let (pg, a, b) = fleet(None).await;
    const ROUNDS: usize = 10;
    for round in 0..ROUNDS {
        let body = alertmanager_group(&format!("storm-{round}"));
        // Four deliveries to each replica at once, as two Alertmanager peers retrying would.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let base = if i % 2 == 0 { &a.base } else { &b.base }.clone();
                let body = body.clone();
                tokio::spawn(async move { post_alert_to(&base, &body).await })
            })
            .collect();
        let mut replies = Vec::new();
        for t in tasks {
            replies.push(t.await.unwrap());
        }
        let ids: std::collections::BTreeSet<_> = replies
            .iter()
            .map(|v| {
                v["incidents"][0]["incident_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            ids.len(),
            1,
            "round {round}: every delivery names one incident"
        );
        let opened = replies
            .iter()
            .filter(|v| v["incidents"][0]["outcome"] == "opened")
            .count();
        assert_eq!(
            opened, 1,
            "round {round}: one delivery opened it, the rest repeated"
        );
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(&pg_pool(&pg).await)
        .await
        .unwrap();
    assert_eq!(n, ROUNDS as i64, "one incident per group");
}

/// Fires bad_deploy_01 (which ends at the approval gate) on `r` and waits for the gate.
async fn at_the_gate(r: &Replica, other: &Replica) -> String {
    fire_to_gate(r, other, "bad_deploy_01").await
}

async fn fire_to_gate(r: &Replica, other: &Replica, scenario: &str) -> String {
    let res = http()
        .post(format!("{}/api/scenarios/{scenario}/fire", r.base))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<Value>().await.unwrap()["incident_id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_status(r, &id, &["awaiting_approval"], other).await;
    id
}

#[tokio::test]
async fn two_replicas_deciding_one_approval_at_once_resume_it_once() {
    let (pg, a, b) = fleet(None).await;
    let id = at_the_gate(&a, &b).await;
    let decide = |r: &Replica, who: &'static str| {
        http()
            .post(format!("{}/api/incidents/{id}/approval", r.base))
            .bearer_auth(OPERATOR)
            .json(&json!({"decision": "approve", "comment": who}))
            .send()
    };
    let (ra, rb) = tokio::join!(decide(&a, "via A"), decide(&b, "via B"));
    let mut codes = [ra.unwrap().status(), rb.unwrap().status()];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::CONFLICT],
        "one decision wins"
    );
    wait_status(&b, &id, &["resolved", "escalated", "failed"], &a).await;
    let db = pg_pool(&pg).await;
    for kind in ["approval_decided", "incident_resolved"] {
        let n = events_of(&db, &id, Some(kind)).await;
        assert!(n <= 1, "{kind} recorded {n} times");
        if kind == "approval_decided" {
            assert_eq!(n, 1);
        }
    }
}

/// Reads `run_event`s from an SSE response until `stop` says so or `limit` passes.
async fn read_sse(
    mut res: reqwest::Response,
    limit: Duration,
    stop: impl Fn(&[(i64, Value)]) -> bool,
) -> Vec<(i64, Value)> {
    let mut buf = String::new();
    let mut got = Vec::new();
    let deadline = Instant::now() + limit;
    while !stop(&got) && Instant::now() < deadline {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(1), res.chunk()).await
        else {
            continue;
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let mut id = None;
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse::<i64>().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if let (Some(id), Ok(v)) = (id, serde_json::from_str::<Value>(&data)) {
                got.push((id, v));
            }
        }
    }
    got
}

#[tokio::test]
async fn a_stream_on_one_replica_carries_the_other_replicas_events_in_order() {
    let (pg, a, b) = fleet(None).await;
    // Subscribe on B before anything happens on A.
    let sub = http()
        .get(format!("{}/api/events", b.base))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap();
    assert!(sub.status().is_success());
    let id = at_the_gate(&a, &b).await;
    let db = pg_pool(&pg).await;
    let read_log = async || -> Vec<i64> {
        sqlx::query_scalar("SELECT seq FROM events WHERE incident_id = $1 ORDER BY seq")
            .bind(&id)
            .fetch_all(&db)
            .await
            .unwrap()
    };
    // Settled: the run is suspended at the gate and its log no longer grows.
    let mut log = read_log().await;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = read_log().await;
        if again == log {
            break;
        }
        log = again;
    }
    assert!(log.len() > 5, "the run logged its steps");
    let last = *log.last().unwrap();
    let live = read_sse(sub, Duration::from_secs(30), |got| {
        got.last().is_some_and(|(s, _)| *s >= last)
    })
    .await;
    let seen: Vec<i64> = live
        .iter()
        .filter(|(_, v)| v["incident_id"] == json!(id))
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(
        seen, log,
        "B streamed A's events, all of them, in log order"
    );
    // A reconnect from the middle replays exactly the rest, from the log.
    let mid = log[log.len() / 2];
    let again = http()
        .get(format!("{}/api/incidents/{id}/events", b.base))
        .bearer_auth(OPERATOR)
        .header("last-event-id", mid.to_string())
        .send()
        .await
        .unwrap();
    let replay = read_sse(again, Duration::from_secs(30), |got| {
        got.last().is_some_and(|(s, _)| *s >= last)
    })
    .await;
    let rest: Vec<i64> = replay.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        rest,
        log.iter().copied().filter(|s| *s > mid).collect::<Vec<_>>()
    );
}

/// Webhook notifications received, as (event, incident id).
#[derive(Clone, Default)]
struct Hooks(Arc<std::sync::Mutex<Vec<(String, String)>>>);

impl Hooks {
    fn of(&self, incident: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, i)| i == incident)
            .map(|(e, _)| e.clone())
            .collect()
    }
}

async fn hook_receiver() -> (Hooks, String) {
    async fn receive(
        axum::extract::State(h): axum::extract::State<Hooks>,
        body: axum::body::Bytes,
    ) -> StatusCode {
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            let event = v["event"].as_str().unwrap_or_default().to_string();
            let id = v["incident"]["incident_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            h.0.lock().unwrap().push((event, id));
        }
        StatusCode::OK
    }
    let hooks = Hooks::default();
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(hooks.clone());
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (hooks, base)
}

/// Waits until `incident` has had `event` delivered, then a little longer for duplicates.
async fn delivered(hooks: &Hooks, incident: &str, event: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    while !hooks.of(incident).iter().any(|e| e == event) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second replica delivering too would do so within its own notifier's poll.
    tokio::time::sleep(Duration::from_secs(2)).await;
    hooks.of(incident)
}

/// Notifications are a once-per-fleet job: with both replicas configured to notify the same
/// webhook, every event reaches it once; when the replica running the notifier dies, the other
/// takes the role and the next incident is notified (once) within the role's lease.
#[tokio::test]
async fn notifications_go_out_once_and_survive_the_loss_of_the_replica_sending_them() {
    let (hooks, base) = hook_receiver().await;
    let config = format!("[notify.webhook]\nurl = \"{base}/hook\"\n");
    let (pg, mut a, b) = fleet(Some(&config)).await;
    let first = at_the_gate(&b, &a).await;
    let got = delivered(&hooks, &first, "incident.opened", Duration::from_secs(30)).await;
    let opened = got.iter().filter(|e| *e == "incident.opened").count();
    assert_eq!(
        opened, 1,
        "one notification per event across the fleet: {got:?}"
    );
    assert!(
        got.iter()
            .all(|e| got.iter().filter(|x| *x == e).count() == 1),
        "a duplicate: {got:?}"
    );
    // A started first and took the role; without it, B must take over.
    let db = pg_pool(&pg).await;
    let holder = role_holder(&db).await;
    a.kill();
    // Another scenario: a second bad_deploy_01 while the first is open is its duplicate.
    let second = fire_to_gate(&b, &a, "memory_leak_01").await;
    let within = sentinel::roles::ROLE_TTL + Duration::from_secs(20);
    let got = delivered(&hooks, &second, "incident.opened", within).await;
    assert_eq!(
        got.iter().filter(|e| *e == "incident.opened").count(),
        1,
        "B took over the notifications: {got:?}\n{}",
        b.log()
    );
    let now = role_holder(&db).await;
    assert_ne!(now, holder, "the role moved to B");
}
