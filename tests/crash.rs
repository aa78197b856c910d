//! Fault injection against the real binary: `sentinel serve` is killed with SIGKILL at random
//! moments while scenarios are fired, webhook alerts arrive and operators race to decide
//! approvals (a poller deciding the moment an approval appears, and a client that retries
//! until it is answered). After every kill the server restarts on the same database. At the
//! end every incident must have reached a final state or a live pending approval, every
//! acknowledged alert and decision must be there, and no decision may be applied twice.
//!
//! `SENTINEL_CRASH_ROUNDS` (default 50) sets the number of kill timings; the seed is printed
//! (`SENTINEL_CRASH_SEED` replays one).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "crash-test-operator-token";

struct Server {
    child: Child,
    base: String,
}

fn start(data: &Path) -> Server {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sentinel"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .current_dir(root)
        .env("SENTINEL_DATA_DIR", data)
        .env_remove("SENTINEL_DATABASE_URL")
        .env_remove("SENTINEL_WEBHOOK_TOKEN")
        .env("SENTINEL_OPERATOR_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .env_remove("SENTINEL_TRIAGE_MODEL")
        .env_remove("SENTINEL_ANALYSIS_MODEL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sentinel serve");
    // The bound address is announced on stderr ("Sentinel is running at http://…").
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && let Some(url) = line.split("running at ").nth(1) {
                let _ = tx.send(url.trim().to_string());
                sent = true;
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("sentinel serve announced its address");
    Server { child, base }
}

impl Server {
    fn kill(mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

#[derive(Default)]
struct Acked {
    /// Incidents opened by acknowledged webhook alerts.
    alert_incidents: BTreeSet<String>,
    /// Incident → the decision whose request was answered 200.
    decisions: BTreeMap<String, String>,
    /// Every incident id we were told about.
    incidents: BTreeSet<String>,
}

/// When a round's server is killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after the round started: lands anywhere, depending on the machine's speed.
    After(Duration),
    /// This long after the round's first acknowledged decision: right between the decision's
    /// commit and the resumed run, however fast or slow the machine is.
    AfterDecision(Duration),
}

async fn round(base: &str, rng: &mut StdRng, acked: &Arc<Mutex<Acked>>, kill: Kill, n: usize) {
    // Generous: on a loaded machine a decision (which runs Comms before it answers) can take
    // seconds, and a client that gives up early would only measure the machine.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let decided = Arc::new(tokio::sync::Notify::new());
    let scenarios = [
        "bad_deploy_01",
        "db_pool_01",
        "memory_leak_01",
        "config_regression_01",
        "downstream_outage_01",
    ];
    let mut tasks = Vec::new();
    for i in 0..3 {
        let (http, base, acked) = (http.clone(), base.to_string(), acked.clone());
        let decided = decided.clone();
        let scenario = scenarios[rng.random_range(0..scenarios.len())];
        let approve = rng.random_bool(0.7);
        let alert = rng.random_bool(0.5);
        tasks.push(tokio::spawn(async move {
            // Fire a scenario, then decide its approval as soon as it can be decided,
            // retrying until answered.
            let r = http
                .post(format!("{base}/api/scenarios/{scenario}/fire"))
                .bearer_auth(TOKEN)
                .send()
                .await;
            let Ok(r) = r else { return };
            if r.status() != 202 {
                return;
            }
            let Ok(v) = r.json::<Value>().await else {
                return;
            };
            let id = v["incident_id"].as_str().unwrap().to_string();
            acked.lock().unwrap().incidents.insert(id.clone());
            if alert {
                let body = json!({
                    "source": "crash-test", "service": "checkout", "metric": "error_rate",
                    "threshold": 0.05, "current_value": 0.4, "severity": "high",
                    "labels": { "round": format!("{n}-{i}") }
                });
                if let Ok(r) = http
                    .post(format!("{base}/webhooks/alert"))
                    .json(&body)
                    .send()
                    .await
                    && r.status() == 202
                    && let Ok(v) = r.json::<Value>().await
                    && let Some(aid) = v["incident_id"].as_str()
                {
                    let mut a = acked.lock().unwrap();
                    a.alert_incidents.insert(aid.to_string());
                    a.incidents.insert(aid.to_string());
                }
            }
            let (decision, comment) = if approve {
                ("approve", "")
            } else {
                ("reject", "crash test says no")
            };
            loop {
                let r = http
                    .post(format!("{base}/api/incidents/{id}/approval"))
                    .bearer_auth(TOKEN)
                    .json(&json!({ "decision": decision, "comment": comment }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        acked
                            .lock()
                            .unwrap()
                            .decisions
                            .insert(id.clone(), decision.to_string());
                        decided.notify_one();
                        return;
                    }
                    Ok(r) if r.status() == 409 => {
                        let v: Value = r.json().await.unwrap_or_default();
                        if v["error"]
                            .as_str()
                            .unwrap_or("")
                            .contains("already decided")
                        {
                            return;
                        }
                        // Not pending yet (or the scenario escalates without a gate).
                    }
                    Ok(_) => {}
                    Err(e) if e.is_timeout() => {} // slow, not gone: ask again
                    Err(_) => return,              // the server is gone
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    match kill {
        Kill::After(d) => tokio::time::sleep(d).await,
        Kill::AfterDecision(d) => {
            // A cap: a round whose decisions do not come through in time (a slow machine, or
            // scenarios without a gate) is killed anyway and only loses this timing.
            let _ = tokio::time::timeout(Duration::from_secs(10), decided.notified()).await;
            tokio::time::sleep(d).await;
        }
    }
    for t in tasks {
        t.abort();
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Option<Value> {
    let r = http.get(url).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_incident_survives_kill_minus_nine_at_random_moments() {
    let rounds: usize = std::env::var("SENTINEL_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("SENTINEL_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!(
        "crash test: {rounds} kill timings, seed {seed} (SENTINEL_CRASH_SEED={seed} replays it)"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let acked = Arc::new(Mutex::new(Acked::default()));
    for n in 0..rounds {
        let server = start(dir.path());
        // Half the timings anywhere from right at the start to well after the runs finished,
        // half right after a decision was acknowledged (0-20 ms later).
        let kill = if rng.random_bool(0.5) {
            Kill::After(Duration::from_millis(rng.random_range(0..400)))
        } else {
            Kill::AfterDecision(Duration::from_millis(rng.random_range(0..20)))
        };
        round(&server.base, &mut rng, &acked, kill, n).await;
        server.kill();
    }

    // The last life: every incident must settle.
    let server = start(dir.path());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let base = server.base.clone();
    let settle_by = Instant::now() + Duration::from_secs(90);
    let mut unsettled: Vec<(String, String)>;
    loop {
        let list = get(&http, &format!("{base}/api/incidents?limit=1000"))
            .await
            .expect("incident list");
        unsettled = Vec::new();
        for inc in list.as_array().unwrap() {
            let id = inc["incident_id"].as_str().unwrap().to_string();
            let status = inc["status"].as_str().unwrap().to_string();
            let settled = match status.as_str() {
                "resolved" | "escalated" | "failed" => true,
                "awaiting_approval" => {
                    let d = get(&http, &format!("{base}/api/incidents/{id}")).await;
                    d.is_some_and(|d| {
                        d["pending_approval"]["expires_at"]
                            .as_str()
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                            .is_some_and(|t| t > chrono::Utc::now())
                    })
                }
                _ => false,
            };
            if !settled {
                unsettled.push((id, status));
            }
        }
        if unsettled.is_empty() || Instant::now() > settle_by {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    // Every acknowledged alert's incident exists; every acknowledged decision took effect.
    let mut lost = Vec::new();
    for id in acked.alert_incidents.iter().chain(acked.decisions.keys()) {
        if get(&http, &format!("{base}/api/incidents/{id}"))
            .await
            .is_none()
        {
            lost.push(id.clone());
        }
    }
    let mut wrong = Vec::new();
    for (id, decision) in &acked.decisions {
        let d = get(&http, &format!("{base}/api/incidents/{id}"))
            .await
            .unwrap_or_default();
        let want = if decision == "approve" {
            ("approved", "resolved")
        } else {
            ("rejected", "escalated")
        };
        if d["remediation"]["approval"] != want.0 || d["status"] != want.1 {
            wrong.push(format!(
                "{id}: decided {decision}, now {} / {}",
                d["status"], d["remediation"]["approval"]
            ));
        }
    }
    server.kill();
    // No decision recorded twice, no incident with two decided approvals.
    let store = sentinel::store::Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("sentinel.db").display()
    ))
    .await
    .unwrap();
    let twice: Vec<(String, i64)> = sqlx::query_as(
        "SELECT incident_id, COUNT(*) FROM events WHERE kind = 'approval_decided' GROUP BY incident_id HAVING COUNT(*) > 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let decided_twice: Vec<(String, i64)> = sqlx::query_as(
        "SELECT incident_id, COUNT(*) FROM approvals WHERE status != 'pending' GROUP BY incident_id HAVING COUNT(*) > 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
        .fetch_one(store.pool())
        .await
        .unwrap();
    eprintln!(
        "crash test: {total} incidents, {} acknowledged alerts, {} acknowledged decisions",
        acked.alert_incidents.len(),
        acked.decisions.len()
    );
    assert!(
        unsettled.is_empty(),
        "seed {seed}: incidents wedged after restart: {unsettled:?}"
    );
    assert!(
        lost.is_empty(),
        "seed {seed}: acknowledged work lost: {lost:?}"
    );
    assert!(
        wrong.is_empty(),
        "seed {seed}: decisions not applied: {wrong:?}"
    );
    assert!(
        twice.is_empty(),
        "seed {seed}: decisions recorded twice: {twice:?}"
    );
    assert!(
        decided_twice.is_empty(),
        "seed {seed}: approvals decided twice: {decided_twice:?}"
    );
    assert!(
        total as usize >= rounds,
        "the workload opened too few incidents ({total})"
    );
    assert!(
        !acked.decisions.is_empty(),
        "no decision was ever acknowledged: the test exercised nothing"
    );
}
