//! `sentinel eval`: runs scenarios, scores them, writes reports, and exits non-zero below the
//! thresholds (so CI can gate on it).

use super::{judge, report};
use crate::agents::RunOutcome;
use crate::agents::state::RunState;
use crate::config::Config;
use crate::scenario::{self, Scenario};
use futures::StreamExt;
use sentinel_model::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// Only these scenario ids (default: all).
    #[arg(long, num_args = 1..)]
    pub scenarios: Vec<String>,
    /// Directory of scenario files (default: data/scenarios).
    #[arg(long)]
    pub scenarios_dir: Option<PathBuf>,
    /// Where to write eval_report.json, eval_report.md and trajectories/ (default: reports).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Judge model (`provider/model`); default SENTINEL_JUDGE_MODEL or the deterministic judge.
    #[arg(long)]
    pub judge: Option<String>,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Exit non-zero when the average total score is below this.
    #[arg(long, default_value_t = 0.0)]
    pub min_avg: f64,
    /// Exit non-zero when the pass rate (0..1) is below this.
    #[arg(long, default_value_t = 0.0)]
    pub min_pass_rate: f64,
}

pub struct ScenarioRun {
    pub result: EvalResult,
    pub report: RunReport,
    pub events: Vec<RunEvent>,
}

/// The condensed trajectory the judge and the eval page see.
pub fn condense(r: &RunReport) -> CondensedTrajectory {
    let d = r.diagnosis.as_ref();
    let m = r.remediation.as_ref();
    CondensedTrajectory {
        status: r.status.as_str().into(),
        service: r.triage.as_ref().map(|t| t.service.clone()),
        severity: r.triage.as_ref().map(|t| t.severity.to_string()),
        origin_service: d.and_then(|d| d.origin_service.clone()),
        failure_class: d.map(|d| d.failure_class.to_string()),
        diagnosis: d.map(|d| d.summary.clone()),
        suspect: d.and_then(|d| d.suspect_deploy.clone().or(d.suspect_change.clone())),
        confidence: d.map(|d| d.confidence),
        action: m.map(|m| m.action.to_string()),
        target: m.and_then(|m| m.target.clone()),
        approval: m.map(|m| m.approval.as_str().to_string()),
        steps: r
            .trajectory
            .tool_calls
            .iter()
            .map(|c| {
                let args = c.args.to_string();
                let args: String = args.chars().take(160).collect();
                format!(
                    "{}: {}({args}) → {}",
                    c.agent,
                    c.tool,
                    if c.ok { "ok" } else { "error" }
                )
            })
            .collect(),
        comms: r.comms.as_ref().map(|c| c.summary.clone()),
        elapsed_ms: r.trajectory.elapsed_ms,
    }
}

/// Runs one scenario end to end with auto-approval in a fresh database under `work`.
pub async fn run_scenario(base: &Config, s: &Scenario, work: &Path) -> Result<ScenarioRun, String> {
    run_scenario_judged(base, s, work, None).await
}

pub async fn run_scenario_judged(
    base: &Config,
    s: &Scenario,
    work: &Path,
    judge: Option<&super::llm_judge::LlmJudge>,
) -> Result<ScenarioRun, String> {
    let mut cfg = base.clone();
    let db = work.join(format!(
        "{}-{}.db",
        s.scenario_id,
        uuid::Uuid::new_v4().simple()
    ));
    cfg.database_url = format!("sqlite://{}", db.display());
    let sentinel = crate::bootstrap::sentinel(cfg)
        .await
        .map_err(|e| e.to_string())?;
    let (id, telemetry) = sentinel.open_scenario(s).await.map_err(|e| e.to_string())?;
    let outcome = sentinel
        .run_incident(&id, Some(telemetry))
        .await
        .map_err(|e| e.to_string())?;
    if let RunOutcome::Suspended(_) = outcome {
        let d = ApprovalDecision::parse("approve", "auto-approved by sentinel eval", "eval")
            .map_err(|e| e.to_string())?;
        sentinel.decide(&id, d).await.map_err(|e| e.to_string())?;
    }
    let rec = sentinel
        .store
        .get_incident(&id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("incident vanished")?;
    let state: RunState = rec
        .state_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    let events = sentinel
        .store
        .events_after(Some(&id), 0, 100_000)
        .await
        .map_err(|e| e.to_string())?;
    let condensed = condense(&rec.report);
    let mut dims = judge::score(s, &rec.report, &state);
    if let Some(j) = judge {
        dims = j.refine(s, &condensed, dims).await;
    }
    let total = report::round2(dims.iter().map(|d| d.score).sum::<f64>() / dims.len() as f64);
    sentinel.store.close().await;
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(db.with_extension("db-wal"));
    let _ = std::fs::remove_file(db.with_extension("db-shm"));
    Ok(ScenarioRun {
        result: EvalResult {
            incident_id: id,
            scenario_id: s.scenario_id.clone(),
            total_score: total,
            passed: total >= PASS_THRESHOLD,
            dimension_scores: dims,
            trajectory: Some(condensed),
        },
        report: rec.report,
        events,
    })
}

pub async fn run_cli(config: Config, args: EvalArgs) -> Result<ExitCode, String> {
    let dir = args
        .scenarios_dir
        .clone()
        .unwrap_or_else(|| config.scenarios_dir.clone());
    let mut scenarios = scenario::load_scenario_dir(&dir).map_err(|e| e.to_string())?;
    if !args.scenarios.is_empty() {
        for want in &args.scenarios {
            if !scenarios.iter().any(|s| &s.scenario_id == want) {
                return Err(format!(
                    "--scenarios: no scenario {want:?} in {}",
                    dir.display()
                ));
            }
        }
        scenarios.retain(|s| args.scenarios.contains(&s.scenario_id));
    }
    let spec = match &args.judge {
        Some(raw) => {
            crate::llm::spec::ModelSpec::parse(raw).map_err(|e| format!("--judge: {e}"))?
        }
        None => config.models.judge.clone(),
    };
    let judge_model = spec.to_string();
    let llm_judge = if spec.is_builtin() {
        None
    } else {
        let m = crate::llm::providers::from_spec(&spec, &config.providers)
            .map_err(|e| format!("--judge {judge_model}: {e}"))?;
        let m: std::sync::Arc<dyn crate::llm::ChatModel> =
            std::sync::Arc::new(crate::llm::retry::Retrying {
                inner: m,
                policy: Default::default(),
            });
        Some(super::llm_judge::LlmJudge { model: m })
    };
    if !spec.is_builtin() && (spec == config.models.analysis || spec == config.models.triage) {
        eprintln!(
            "warning: the judge {judge_model} is also an agent model; it will grade its own work (choose a different --judge)"
        );
    }
    let judge_name = if spec.is_builtin() {
        "deterministic (builtin)".to_string()
    } else {
        format!("{judge_model} + deterministic anchor")
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("reports"));
    let traj_dir = out.join("trajectories");
    std::fs::create_dir_all(&traj_dir).map_err(|e| format!("--out {}: {e}", out.display()))?;
    let work = config.data_dir.join("eval-work");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let total = scenarios.len();
    eprintln!("Evaluating {total} scenario(s) with judge {judge_name}");
    let mut done = 0usize;
    let mut results = Vec::new();
    let mut stream = futures::stream::iter(scenarios.iter().map(|s| {
        let cfg = config.clone();
        let work = work.clone();
        let judge = llm_judge.as_ref();
        async move {
            (
                s.scenario_id.clone(),
                run_scenario_judged(&cfg, s, &work, judge).await,
            )
        }
    }))
    .buffer_unordered(args.concurrency.max(1));
    while let Some((sid, r)) = stream.next().await {
        done += 1;
        match r {
            Ok(run) => {
                eprintln!(
                    "[{done:>3}/{total}] {:<28} {:.2} {}",
                    sid,
                    run.result.total_score,
                    if run.result.passed { "PASS" } else { "FAIL" }
                );
                let traj = serde_json::json!({ "scenario_id": sid, "report": run.report, "events": run.events, "scores": run.result.dimension_scores });
                std::fs::write(
                    traj_dir.join(format!("{sid}.json")),
                    serde_json::to_string_pretty(&traj).unwrap_or_default(),
                )
                .map_err(|e| e.to_string())?;
                results.push(run.result);
            }
            Err(e) => {
                eprintln!("[{done:>3}/{total}] {sid:<28} ERROR {e}");
                results.push(EvalResult {
                    incident_id: String::new(),
                    scenario_id: sid,
                    total_score: 0.0,
                    passed: false,
                    dimension_scores: vec![],
                    trajectory: None,
                });
            }
        }
    }
    results.sort_by(|a, b| a.scenario_id.cmp(&b.scenario_id));
    let rep = report::build(results, &judge_name);
    std::fs::write(
        out.join("eval_report.json"),
        serde_json::to_string_pretty(&rep).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(out.join("eval_report.md"), report::markdown(&rep))
        .map_err(|e| e.to_string())?;
    if let Ok(store) = crate::store::Store::connect(&config.database_url).await {
        let _ = store
            .insert_eval_run(&format!("eval-{}", uuid::Uuid::new_v4().simple()), &rep)
            .await;
    }
    eprintln!(
        "average {:.2} / 5, pass rate {:.0}% → {}",
        rep.summary.avg_total_score,
        rep.summary.pass_rate * 100.0,
        out.join("eval_report.md").display()
    );
    if rep.summary.avg_total_score < args.min_avg || rep.summary.pass_rate < args.min_pass_rate {
        eprintln!(
            "below thresholds (--min-avg {}, --min-pass-rate {})",
            args.min_avg, args.min_pass_rate
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
