//! Alert → remediation proposal against real backends on loopback: a real Prometheus loaded
//! with a bad deploy's history (`promtool`), log files, a git repository and posted change
//! events, as in `tests/telemetry_real.rs`. Each round posts a new alert for the failing
//! service to the generic webhook and times until its incident awaits approval of the
//! rollback (every agent, every tool, every backend call and every SQLite write included);
//! the proposal is then rejected so the next alert is not a duplicate of an open incident.
//! Run with `cargo bench -p sentinel-server --bench real_backends` (needs Debian's
//! `prometheus`; `scripts/setup.sh --test` installs it). `BENCH_ROUNDS` (default 40).

#[path = "../tests/common.rs"]
mod common;
#[path = "../tests/support/fleet.rs"]
mod fleet;

use app::model::ApprovalDecision;
use fleet::*;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let http = reqwest::Client::new();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let prom_url = format!("http://127.0.0.1:{port}");
    let (f, sha) = fleet(Case::BadDeploy, &prom_url);
    let tsdb = work.path().join("tsdb");
    let om = work.path().join("history.om");
    std::fs::write(
        &om,
        openmetrics(&history(Case::BadDeploy, f.now, f.deploy), f.now),
    )
    .unwrap();
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&tsdb)
        .output()
        .expect("promtool (scripts/setup.sh --test installs Debian's prometheus)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = work.path().join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 1m\n").unwrap();
    let _prom = spawn(
        "prometheus",
        work.path(),
        Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg("--storage.tsdb.retention.time=100y")
            .arg(format!("--web.listen-address=127.0.0.1:{port}")),
    );
    wait_for("prometheus ready", Duration::from_secs(30), || {
        ready(&http, format!("{prom_url}/-/ready"))
    })
    .await;
    let (url, state) =
        start_sentinel(common::test_config(work.path()), work.path(), &f.config).await;
    post_changes(&http, &url, &f, &sha).await;

    let mut lat = Vec::with_capacity(rounds);
    for i in 0..rounds + 2 {
        let t = Instant::now();
        let r = http
            .post(format!("{url}/webhooks/alert"))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({
                "source": "bench", "service": "checkout", "metric": "error_ratio", "threshold": 0.05, "current_value": 0.3,
                "severity": "critical", "labels": {"alertname": format!("CheckoutErrors{i}")},
                "annotations": {"summary": "checkout is failing 30% of its requests"},
                "fired_at": chrono::Utc::now().to_rfc3339()
            }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(status.is_success(), "{status}: {body}");
        let id = body["incidents"][0]["incident_id"]
            .as_str()
            .unwrap()
            .to_string();
        let store = state.sentinel.store.clone();
        loop {
            let rec = store.get_incident(&id).await.unwrap().unwrap();
            if rec.status.as_str() == "awaiting_approval" {
                break;
            }
            assert!(
                !rec.status.is_terminal(),
                "round {i} ended {:?} without a proposal",
                rec.status
            );
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "round {i} took over 30 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if i >= 2 {
            lat.push(ms); // the first two warm up caches and connections
        }
        state
            .sentinel
            .decide(
                &id,
                ApprovalDecision::parse("reject", "bench", "next round").unwrap(),
            )
            .await
            .unwrap();
    }
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "real backends: alert → rollback proposal over {} alerts: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (Prometheus, log files, git, change events on loopback)",
        lat.len(),
        q(0.5),
        q(0.95),
        lat.last().copied().unwrap_or_default()
    );
}
