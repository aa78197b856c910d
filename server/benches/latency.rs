//! Alert → proposal with a model that takes a fixed time per turn (1 s by default,
//! `BENCH_MODEL_DELAY_MS`): every role played by `DelayedBrains` (the built-in engine's answers
//! behind the delay), once with the specialists in sequence and once with the log analyst and
//! the deploy correlator overlapped, on the same scenarios in the same run. Prints both and
//! their ratio. Run with `cargo bench -p sentinel-server --bench latency`.

use sentinel::agents::RunOutcome;
use sentinel::agents::delayed::DelayedBrains;
use sentinel::config::{Config, ModelConfig};
use sentinel::service::Sentinel;
use sentinel::tools::Registry;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCENARIOS: &[&str] = &[
    "bad_deploy_01",
    "db_pool_01",
    "config_regression_01",
    "memory_leak_01",
];

async fn sentinel(dir: &std::path::Path, overlap: bool, delay: Duration) -> Sentinel {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut cfg = Config::defaults(dir);
    cfg.database_url = format!("sqlite://{}", dir.join("bench.db").display());
    cfg.scenarios_dir = root.join("data/scenarios");
    cfg.services_dir = root.join("data/services");
    cfg.site_root = root.join("target/site");
    cfg.models = ModelConfig::builtin();
    cfg.approval_timeout = Duration::from_secs(900);
    cfg.overlap_specialists = overlap;
    Sentinel::build(
        cfg,
        Arc::new(DelayedBrains::new(delay)),
        Arc::new(Registry::standard()),
    )
    .await
    .unwrap()
}

/// Wall time from opening the incident to the proposal (the run suspends at the gate) or its
/// end, and the model turns it took.
async fn alert_to_proposal(s: &Sentinel, scenario: &str) -> (Duration, u32, String) {
    let sc = s.scenario(scenario).unwrap();
    let t = Instant::now();
    let (id, telemetry) = s.open_scenario(&sc).await.unwrap();
    let out = s.run_incident(&id, Some(telemetry)).await.unwrap();
    let took = t.elapsed();
    let r = s.store.get_incident(&id).await.unwrap().unwrap().report;
    let ended = match out {
        RunOutcome::Suspended(req) => format!("proposal {}", req.action),
        RunOutcome::Finished(st) => format!("{st}"),
        RunOutcome::Running => "running".into(),
    };
    (took, r.trajectory.llm_calls, ended)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let delay = Duration::from_millis(
        std::env::var("BENCH_MODEL_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
    );
    rt.block_on(async {
        let mut totals = [Duration::ZERO; 2];
        println!(
            "latency: alert → proposal, every role a model answering in {} ms per turn",
            delay.as_millis()
        );
        println!(
            "{:<24} {:>22} {:>22}",
            "scenario", "sequential", "overlapped"
        );
        for scenario in SCENARIOS {
            let mut cells = Vec::new();
            for (i, overlap) in [false, true].into_iter().enumerate() {
                let dir = tempfile::tempdir().unwrap();
                let s = sentinel(dir.path(), overlap, delay).await;
                let (took, turns, ended) = alert_to_proposal(&s, scenario).await;
                totals[i] += took;
                cells.push(format!(
                    "{:.2} s ({turns} turns, {ended})",
                    took.as_secs_f64()
                ));
            }
            println!("{scenario:<24} {:>22} {:>22}", cells[0], cells[1]);
        }
        println!(
            "latency: total sequential {:.2} s, overlapped {:.2} s → overlapped/sequential = {:.2}",
            totals[0].as_secs_f64(),
            totals[1].as_secs_f64(),
            totals[1].as_secs_f64() / totals[0].as_secs_f64()
        );
    });
}
