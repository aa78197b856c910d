//! Webhook ingestion throughput: the real app on a loopback port, driven by a bounded Rust
//! load generator (bare hyper HTTP/1.1 keep-alive connections, a fixed number of requests, then it stops) sending
//! Alertmanager v4 webhooks whose fingerprints mostly repeat (the dedup path), with a small
//! share of new fingerprints that open incidents and queue investigations.
//! Run with `cargo bench -p sentinel-server --bench ingest`; tune with BENCH_REQUESTS
//! (default 100000), BENCH_CONNS (32), BENCH_FINGERPRINTS (100), BENCH_ALERTS_PER_REQ (1),
//! BENCH_NEW_PER_MILLE (1 new fingerprint per 1000 requests), BENCH_QUEUE_WORKERS (2).

#[path = "../tests/common.rs"]
mod common;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use sentinel::http::Application;
use sentinel::ingest::IngestConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const TOKEN: &str = "bench-token";
const BEARER: &str = "Bearer bench-token";

fn env(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One Alertmanager v4 notification of group `fp` with `per_req` alerts (one incident per
/// group).
fn webhook(fp: usize, per_req: usize) -> Vec<u8> {
    let alerts: Vec<serde_json::Value> = (0..per_req)
        .map(|k| {
            let id = format!("{:016x}", fp * 1000 + k);
            serde_json::json!({
                "status": "firing",
                "labels": {"alertname": "HighErrorRate", "service": "payment-service",
                           "severity": "critical", "instance": format!("10.0.{}.{}:8080", fp % 250, k)},
                "annotations": {"summary": "payment-service error rate above 5%", "value": "0.137", "threshold": "0.05"},
                "startsAt": "2025-03-14T09:26:53.114Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=errors",
                "fingerprint": id,
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "receiver": "sentinel", "status": "firing", "alerts": alerts,
        "groupLabels": {"alertname": "HighErrorRate"}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"HighErrorRate\", group=\"{fp}\"}}"), "truncatedAlerts": 0
    }))
    .unwrap()
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 Hz ticks).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// One keep-alive HTTP/1.1 connection to the webhook route.
struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    async fn open(addr: std::net::SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        Self {
            sender,
            host: addr.to_string(),
        }
    }

    /// Posts one webhook; the status code, or 0 if the connection failed.
    async fn post(&mut self, body: Bytes) -> u16 {
        let req = hyper::Request::post("/webhooks/alertmanager")
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::AUTHORIZATION, BEARER)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .unwrap();
        if self.sender.ready().await.is_err() {
            return 0;
        }
        match self.sender.send_request(req).await {
            Ok(r) => {
                let code = r.status().as_u16();
                let _ = r.into_body().collect().await;
                code
            }
            Err(_) => 0,
        }
    }
}

fn main() {
    let requests = env("BENCH_REQUESTS", 100_000);
    let conns = env("BENCH_CONNS", 32).max(1);
    let fingerprints = env("BENCH_FINGERPRINTS", 100).max(1);
    let per_req = env("BENCH_ALERTS_PER_REQ", 1).max(1);
    let new_per_mille = env("BENCH_NEW_PER_MILLE", 1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let app = Application::build_with(
            common::test_config(dir.path()),
            "127.0.0.1:0".parse().unwrap(),
            IngestConfig {
                webhook_token: Some(TOKEN.into()),
                queue_workers: env("BENCH_QUEUE_WORKERS", 2),
                ..IngestConfig::default()
            },
        )
        .await
        .unwrap();
        let state = app.state.clone();
        let addr = app.addr;
        tokio::spawn(app.run());
        let bodies: Arc<Vec<Bytes>> = Arc::new(
            (0..fingerprints)
                .map(|i| Bytes::from(webhook(i, per_req)))
                .collect(),
        );
        // Warm-up: every repeating fingerprint once (opens its incident).
        let mut warm = Conn::open(addr).await;
        for b in bodies.iter() {
            assert_eq!(warm.post(b.clone()).await, 202);
        }
        // Let the warm-up's investigations finish (a burst of 100 distinct new alerts is not
        // what is measured; the 1-per-mille new ones below do run during the measurement).
        for _ in 0..600 {
            let busy: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM incidents WHERE status IN ('open', 'investigating')",
            )
            .fetch_one(state.sentinel.store.pool())
            .await
            .unwrap();
            if busy == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let next = Arc::new(AtomicUsize::new(0));
        let cpu_start = cpu_seconds();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let (bodies, next) = (bodies.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::open(addr).await;
                let mut lat = Vec::new();
                let mut status = std::collections::BTreeMap::<u16, usize>::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let body = if new_per_mille > 0 && i % 1000 < new_per_mille {
                        Bytes::from(webhook(1_000_000 + i, per_req))
                    } else {
                        bodies[i % bodies.len()].clone()
                    };
                    let t = Instant::now();
                    let code = conn.post(body).await;
                    lat.push(t.elapsed().as_micros() as u32);
                    *status.entry(code).or_default() += 1;
                }
                (lat, status)
            }));
        }
        let mut lat = Vec::with_capacity(requests);
        let mut status = std::collections::BTreeMap::<u16, usize>::new();
        for t in tasks {
            let (l, s) = t.await.unwrap();
            lat.extend(l);
            for (k, v) in s {
                *status.entry(k).or_default() += v;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let cores = cpu_seconds().zip(cpu_start).map(|(b, a)| (b - a) / secs);
        lat.sort_unstable();
        let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0;
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM alerts")
            .fetch_one(state.sentinel.store.pool())
            .await
            .unwrap();
        let incidents: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
            .fetch_one(state.sentinel.store.pool())
            .await
            .unwrap();
        let alerts = requests * per_req;
        println!(
            "ingest bench: {requests} webhooks x {per_req} alert(s), {conns} connections, {fingerprints} repeating fingerprints, {new_per_mille}/1000 new"
        );
        println!(
            "  {:.0} requests/s, {:.0} alerts/s in {secs:.2} s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            requests as f64 / secs,
            alerts as f64 / secs,
            pct(0.50),
            pct(0.90),
            pct(0.99),
            pct(1.0)
        );
        println!(
            "  statuses {status:?}; alert rows stored {stored} (expected {}), incidents {incidents}; CPU {} cores (server and load generator together)",
            alerts + fingerprints * per_req,
            cores.map_or("?".into(), |c| format!("{c:.2}"))
        );
    });
}
