//! Full offline incidents per second, SQLite writes included: every public scenario in turn,
//! opened, investigated by the built-in engine, approved, summarised and remembered.
//! Run with `cargo bench -p sentinel-server --bench incidents`.

use app::model::ApprovalDecision;
use sentinel::agents::RunOutcome;
use sentinel::config::{Config, ModelConfig};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::defaults(dir.path());
        cfg.database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        cfg.scenarios_dir = root.join("data/scenarios");
        cfg.services_dir = root.join("data/services");
        cfg.site_root = root.join("target/site");
        cfg.models = ModelConfig::builtin();
        cfg.approval_timeout = Duration::from_secs(900);
        let s = sentinel::bootstrap::sentinel(cfg).await.unwrap();
        let scenarios = s.scenarios().unwrap();
        let n: usize = std::env::var("BENCH_INCIDENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
        let concurrency: usize = std::env::var("BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(4).max(1);
        // Warm-up.
        for sc in &scenarios {
            run_one(&s, sc).await;
        }
        let start = Instant::now();
        let mut latencies = Vec::with_capacity(n);
        let mut set = tokio::task::JoinSet::new();
        let mut next = 0;
        while next < n || !set.is_empty() {
            while set.len() < concurrency && next < n {
                let s = s.clone();
                let sc = scenarios[next % scenarios.len()].clone();
                set.spawn(async move {
                    let t = Instant::now();
                    run_one(&s, &sc).await;
                    t.elapsed()
                });
                next += 1;
            }
            if let Some(r) = set.join_next().await {
                latencies.push(r.unwrap());
            }
        }
        let secs = start.elapsed().as_secs_f64();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
        println!(
            "incidents: {n} full offline incidents in {secs:.2} s → {:.0} incidents/s (p50 {:.1} ms, p99 {:.1} ms per incident, concurrency {concurrency}, memory size {})",
            n as f64 / secs,
            pct(0.5),
            pct(0.99),
            s.memory.as_ref().map(|m| m.len()).unwrap_or(0)
        );
    });
}

async fn run_one(s: &sentinel::service::Sentinel, sc: &sentinel::scenario::Scenario) {
    let (id, telemetry) = s.open_scenario(sc).await.unwrap();
    if let RunOutcome::Suspended(_) = s.run_incident(&id, Some(telemetry)).await.unwrap() {
        s.decide(
            &id,
            ApprovalDecision::parse("approve", "bench", "bench").unwrap(),
        )
        .await
        .unwrap();
    }
}
