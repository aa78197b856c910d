//! Throughput of a fleet: `sentinel serve` processes (the bench-profile binary) on SQLite with
//! one replica, then on a real PostgreSQL 15 (started here on a free loopback port, fsync off as
//! in the tests) with one and with two replicas, all in the same run, so the figures compare as
//! ratios on the same machine and moment.
//!
//! Two measurements per setup, each on a fresh database:
//! - ingestion: Alertmanager webhooks over keep-alive connections spread round-robin over the
//!   replicas, fingerprints mostly repeating (the dedup path), 1 in 1000 new;
//! - offline incidents: scenario incidents fired over HTTP (alternating replicas), each taken
//!   through the approval gate (approved over HTTP) to its end, `BENCH_CONCURRENCY` at a time.
//!
//! `cargo bench -p sentinel-server --bench fleet`; tune with BENCH_REQUESTS (default 20000),
//! BENCH_CONNS (16), BENCH_INCIDENTS (40), BENCH_CONCURRENCY (4).

#[path = "../tests/support/pg.rs"]
mod pg;
#[path = "../tests/support/replica.rs"]
mod replica;

use replica::{OPERATOR, Replica, WEBHOOK};
use sentinel::store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn env(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn webhook(fp: usize) -> String {
    serde_json::json!({
        "receiver": "sentinel", "status": "firing", "version": "4",
        "groupKey": format!("{{}}:{{group=\"{fp}\"}}"), "truncatedAlerts": 0,
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "service": "payment-service", "severity": "critical"},
            "annotations": {"summary": "payment-service error rate above 5%"},
            "startsAt": "2026-12-01T09:26:53.114Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=errors",
            "fingerprint": format!("{fp:016x}"),
        }]
    })
    .to_string()
}

struct Setup {
    name: &'static str,
    url: String,
    replicas: usize,
}

struct Figures {
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    incidents_per_s: f64,
}

/// Waits until no incident is being investigated (the warm-up's and the load's new ones).
async fn settle(store: &Store) {
    for _ in 0..600 {
        let busy = store
            .list_incidents(&Default::default())
            .await
            .unwrap()
            .iter()
            .filter(|r| r.status.as_str() == "open" || r.status.as_str() == "investigating")
            .count();
        if busy == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Posts the webhook of group `fp` to the replica at `base`; it must be accepted.
async fn post_webhook(http: &reqwest::Client, base: &str, fp: usize) {
    let res = http
        .post(format!("{base}/webhooks/alertmanager"))
        .bearer_auth(WEBHOOK)
        .header("content-type", "application/json")
        .body(webhook(fp))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
}

async fn ingest(bases: &[String], store: &Store, requests: usize, conns: usize) -> (f64, f64, f64) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let fingerprints = 100;
    for (i, fp) in (0..fingerprints).enumerate() {
        post_webhook(&http, &bases[i % bases.len()], fp).await;
    }
    settle(store).await;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (http, next) = (http.clone(), next.clone());
        let base = bases[c % bases.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let fp = if i % 1000 == 0 {
                    1_000_000 + i
                } else {
                    i % fingerprints
                };
                let t = Instant::now();
                post_webhook(&http, &base, fp).await;
                lat.push(t.elapsed().as_micros() as u32);
            }
            lat
        }));
    }
    let mut lat = Vec::with_capacity(requests);
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0;
    (requests as f64 / secs, pct(0.5), pct(0.99))
}

async fn incidents(bases: &[String], store: &Store, n: usize, concurrency: usize) -> f64 {
    let scenarios = [
        "bad_deploy_01",
        "config_regression_01",
        "db_pool_01",
        "memory_leak_01",
    ];
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, next, store) = (http.clone(), next.clone(), store.clone());
        let bases = bases.to_vec();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let base = &bases[i % bases.len()];
                let sc = scenarios[i % scenarios.len()];
                let v: serde_json::Value = http
                    .post(format!("{base}/api/scenarios/{sc}/fire"))
                    .bearer_auth(OPERATOR)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let id = v["incident_id"].as_str().unwrap().to_string();
                let mut decided = false;
                loop {
                    let rec = store.get_incident(&id).await.unwrap().unwrap();
                    match rec.status.as_str() {
                        "awaiting_approval" if !decided => {
                            let res = http
                                .post(format!("{base}/api/incidents/{id}/approval"))
                                .bearer_auth(OPERATOR)
                                .json(
                                    &serde_json::json!({"decision": "approve", "comment": "bench"}),
                                )
                                .send()
                                .await
                                .unwrap();
                            assert!(res.status().is_success(), "{}", res.status());
                            decided = true;
                        }
                        "resolved" | "escalated" | "failed" => break,
                        _ => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn measure(
    s: &Setup,
    requests: usize,
    conns: usize,
    n: usize,
    concurrency: usize,
) -> Figures {
    let bin = env!("CARGO_BIN_EXE_sentinel");
    let mut replicas = Vec::new();
    for _ in 0..s.replicas {
        replicas.push(Replica::start(bin, &s.url, None).await);
    }
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    let store = Store::connect(&s.url).await.unwrap();
    let (requests_per_s, p50_ms, p99_ms) = ingest(&bases, &store, requests, conns).await;
    settle(&store).await;
    let incidents_per_s = incidents(&bases, &store, n, concurrency).await;
    drop(replicas);
    store.close().await;
    Figures {
        requests_per_s,
        p50_ms,
        p99_ms,
        incidents_per_s,
    }
}

async fn fresh_pg_database(pg: &pg::Pg, name: &str) -> String {
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg.url)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    pg.url.replace("/postgres", &format!("/{name}"))
}

fn main() {
    let requests = env("BENCH_REQUESTS", 20_000);
    let conns = env("BENCH_CONNS", 16).max(1);
    let n = env("BENCH_INCIDENTS", 40).max(1);
    let concurrency = env("BENCH_CONCURRENCY", 4).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        assert!(pg::Pg::available(), "initdb not installed (scripts/setup.sh --test)");
        let pg = tokio::task::spawn_blocking(pg::Pg::start).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let setups = [
            Setup {
                name: "SQLite, 1 replica",
                url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                replicas: 1,
            },
            Setup {
                name: "PostgreSQL, 1 replica",
                url: fresh_pg_database(&pg, "bench_one").await,
                replicas: 1,
            },
            Setup {
                name: "PostgreSQL, 2 replicas",
                url: fresh_pg_database(&pg, "bench_two").await,
                replicas: 2,
            },
        ];
        println!(
            "fleet bench: {requests} webhooks over {conns} connections; {n} offline incidents (fire → approve → end), {concurrency} at a time"
        );
        let mut base: Option<Figures> = None;
        for s in &setups {
            let f = measure(s, requests, conns, n, concurrency).await;
            let ratio = |x: f64, b: f64| format!("{:.2}", x / b);
            let (r1, r2) = base.as_ref().map_or(("1.00".into(), "1.00".into()), |b| {
                (
                    ratio(f.requests_per_s, b.requests_per_s),
                    ratio(f.incidents_per_s, b.incidents_per_s),
                )
            });
            println!(
                "  {:<24} ingest {:>7.0} req/s (x{r1} vs SQLite) p50 {:.2} ms p99 {:.2} ms | incidents {:>5.2}/s (x{r2} vs SQLite)",
                s.name, f.requests_per_s, f.p50_ms, f.p99_ms, f.incidents_per_s
            );
            if base.is_none() {
                base = Some(f);
            }
        }
    });
}
