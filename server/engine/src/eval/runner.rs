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
    /// Directory of scenario files (default: data/scenarios), run as one suite named after
    /// the directory.
    #[arg(long)]
    pub scenarios_dir: Option<PathBuf>,
    /// A named suite, `NAME=DIR` (repeatable; subfolders of DIR included), e.g.
    /// `--suite public=data/scenarios --suite regression=server/tests/fixtures/regression`.
    #[arg(long = "suite", value_name = "NAME=DIR")]
    pub suites: Vec<String>,
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
    /// Exit non-zero when the solved rate (0..1) is below this.
    #[arg(long, default_value_t = 0.0)]
    pub min_solved_rate: f64,
    /// Exit non-zero when more scenarios than this end with a harmful action.
    #[arg(long)]
    pub max_harmful: Option<usize>,
}

/// A suite's name: letters, digits, '-', '_', '.' or '/' (it names the suite in reports and
/// is how the server's evaluation picks a configured suite).
pub fn check_suite_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return Err("the name must be letters, digits, '-', '_', '.' or '/'".into());
    }
    Ok(())
}

/// A `--suite NAME=DIR` argument, checked at the edge.
pub fn parse_suite(raw: &str) -> Result<(String, PathBuf), String> {
    let (name, dir) = raw
        .split_once('=')
        .ok_or_else(|| format!("--suite {raw:?}: expected NAME=DIR"))?;
    let name = name.trim();
    if let Err(e) = check_suite_name(name) {
        return Err(format!("--suite {raw:?}: {e}"));
    }
    if dir.trim().is_empty() {
        return Err(format!("--suite {raw:?}: the directory is empty"));
    }
    Ok((name.to_string(), PathBuf::from(dir.trim())))
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
        usage: r.trajectory.usage.clone(),
    }
}

/// Runs one scenario end to end with auto-approval in a fresh database under `work`.
pub async fn run_scenario(base: &Config, s: &Scenario, work: &Path) -> Result<ScenarioRun, String> {
    run_scenario_judged(base, s, work, None).await
}

/// A scenario run's throw-away database (and its WAL and shared-memory files), deleted when
/// the run is over, whether it finished or stopped at an error. On Unix a connection still
/// open on the file keeps working on the unlinked inode until it closes.
struct WorkDb(PathBuf);

impl Drop for WorkDb {
    fn drop(&mut self) {
        for f in crate::store::sqlite_files(&self.0) {
            match std::fs::remove_file(&f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(file = %f.display(), error = %e, "cannot remove an evaluation database")
                }
            }
        }
    }
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
    // Removed however this run ends (an early error used to leave the files behind).
    let _work_db = WorkDb(db.clone());
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
    let cat = sentinel.catalogue();
    let mut dims = judge::score_in(s, &rec.report, &state, Some(&cat));
    let verdict = judge::verdict_in(s, &rec.report, Some(&cat));
    if let Some(j) = judge {
        dims = j.refine(s, &condensed, dims).await;
        judge::cap(&mut dims, &verdict);
    }
    let total = report::round2(dims.iter().map(|d| d.score).sum::<f64>() / dims.len() as f64);
    sentinel.store.close().await;
    Ok(ScenarioRun {
        result: EvalResult {
            incident_id: id,
            scenario_id: s.scenario_id.clone(),
            total_score: total,
            passed: total >= PASS_THRESHOLD && !verdict.harmful,
            solved: verdict.solved,
            harmful: verdict.harmful,
            verdict: verdict.reason,
            suite: String::new(),
            dimension_scores: dims,
            trajectory: Some(condensed),
        },
        report: rec.report,
        events,
    })
}

/// The scenarios of `suites`, each with its suite's name, in suite order: an id in two suites
/// is an error, and so is an id in `only` (when given: run just those) that no suite has.
pub fn load_suites(
    suites: &[(String, PathBuf)],
    only: &[String],
) -> Result<Vec<(String, Scenario)>, String> {
    let mut scenarios: Vec<(String, Scenario)> = Vec::new();
    for (name, dir) in suites {
        for s in scenario::load_scenario_dir(dir).map_err(|e| format!("suite {name}: {e}"))? {
            if let Some((other, _)) = scenarios
                .iter()
                .find(|(_, o)| o.scenario_id == s.scenario_id)
            {
                return Err(format!(
                    "scenario id {:?} is in both suite {other} and suite {name}",
                    s.scenario_id
                ));
            }
            scenarios.push((name.clone(), s));
        }
    }
    if !only.is_empty() {
        for want in only {
            if !scenarios.iter().any(|(_, s)| &s.scenario_id == want) {
                return Err(format!(
                    "--scenarios: no scenario {want:?} in the suites run"
                ));
            }
        }
        scenarios.retain(|(_, s)| only.contains(&s.scenario_id));
    }
    Ok(scenarios)
}

/// The judge an evaluation uses.
pub struct Judge {
    /// As the report names it (`deterministic (builtin)`, `openai/x + deterministic anchor`).
    pub name: String,
    pub llm: Option<super::llm_judge::LlmJudge>,
    /// Set when the judge is also an agent model (it would grade its own work).
    pub warning: Option<String>,
}

/// The judge `raw` names (`provider/model`), else the configured one; the built-in one is
/// the deterministic judge alone.
pub fn choose_judge(config: &Config, raw: Option<&str>) -> Result<Judge, String> {
    let spec = match raw {
        Some(raw) => {
            crate::llm::spec::ModelSpec::parse(raw).map_err(|e| format!("--judge: {e}"))?
        }
        None => config.models.judge.clone(),
    };
    let judge_model = spec.to_string();
    if spec.is_builtin() {
        return Ok(Judge {
            name: "deterministic (builtin)".into(),
            llm: None,
            warning: None,
        });
    }
    let m = crate::llm::providers::from_spec(&spec, &config.providers)
        .map_err(|e| format!("--judge {judge_model}: {e}"))?;
    let m: std::sync::Arc<dyn crate::llm::ChatModel> =
        std::sync::Arc::new(crate::llm::retry::Retrying {
            inner: m,
            policy: Default::default(),
        });
    let warning = (spec == config.models.analysis || spec == config.models.triage).then(|| {
        format!("the judge {judge_model} is also an agent model; it will grade its own work (choose a different --judge)")
    });
    Ok(Judge {
        name: format!("{judge_model} + deterministic anchor"),
        llm: Some(super::llm_judge::LlmJudge { model: m }),
        warning,
    })
}

/// Runs `scenarios` (`concurrency` at a time, each in its own database under the data
/// directory's `eval-work`) and calls `each(done, total, result, run)` as each one finishes
/// (`run` is the error for a run that failed; its result is then unsolved with score 0). An
/// error from `each` stops the evaluation. The results come back sorted by scenario id.
pub async fn run_all(
    config: &Config,
    scenarios: &[(String, Scenario)],
    judge: Option<&super::llm_judge::LlmJudge>,
    concurrency: usize,
    mut each: impl FnMut(usize, usize, &EvalResult, Result<&ScenarioRun, &str>) -> Result<(), String>,
) -> Result<Vec<EvalResult>, String> {
    let work = config.data_dir.join("eval-work");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let total = scenarios.len();
    let mut done = 0usize;
    let mut results = Vec::new();
    type Ran = (String, String, Result<ScenarioRun, String>);
    // Boxed up front rather than made by a closure inside the stream: a stream of closure-made
    // futures is not `Send` for every lifetime, and the server runs this in a spawned task.
    let runs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Ran> + Send + '_>>> =
        scenarios
            .iter()
            .map(|(suite, s)| {
                let work = work.clone();
                Box::pin(async move {
                    (
                        suite.clone(),
                        s.scenario_id.clone(),
                        run_scenario_judged(config, s, &work, judge).await,
                    )
                }) as _
            })
            .collect();
    let mut stream = futures::stream::iter(runs).buffer_unordered(concurrency.max(1));
    while let Some((suite, sid, r)) = stream.next().await {
        done += 1;
        match r {
            Ok(mut run) => {
                run.result.suite = suite;
                each(done, total, &run.result, Ok(&run))?;
                results.push(run.result);
            }
            Err(e) => {
                let result = EvalResult {
                    incident_id: String::new(),
                    scenario_id: sid,
                    total_score: 0.0,
                    passed: false,
                    solved: false,
                    harmful: false,
                    verdict: format!("not solved: the run failed: {e}"),
                    suite,
                    dimension_scores: vec![],
                    trajectory: None,
                };
                each(done, total, &result, Err(&e))?;
                results.push(result);
            }
        }
    }
    results.sort_by(|a, b| a.scenario_id.cmp(&b.scenario_id));
    Ok(results)
}

pub async fn run_cli(config: Config, args: EvalArgs) -> Result<ExitCode, String> {
    let mut suites: Vec<(String, PathBuf)> = args
        .suites
        .iter()
        .map(|raw| parse_suite(raw))
        .collect::<Result<_, _>>()?;
    if let Some(dir) = &args.scenarios_dir {
        suites.push((suite_name(dir), dir.clone()));
    }
    if suites.is_empty() {
        suites.push(("public".into(), config.scenarios_dir.clone()));
    }
    let scenarios = load_suites(&suites, &args.scenarios)?;
    let suite_order: Vec<String> = suites.iter().map(|(n, _)| n.clone()).collect();
    let judge = choose_judge(&config, args.judge.as_deref())?;
    if let Some(w) = &judge.warning {
        eprintln!("warning: {w}");
    }
    let judge_name = judge.name.clone();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("reports"));
    let traj_dir = out.join("trajectories");
    std::fs::create_dir_all(&traj_dir).map_err(|e| format!("--out {}: {e}", out.display()))?;
    eprintln!(
        "Evaluating {} scenario(s) with judge {judge_name}",
        scenarios.len()
    );
    let results = run_all(
        &config,
        &scenarios,
        judge.llm.as_ref(),
        args.concurrency,
        |done, total, result, run| {
            let sid = &result.scenario_id;
            match run {
                Ok(run) => {
                    eprintln!(
                        "[{done:>3}/{total}] {:<28} {:.2} {:<4} {}",
                        sid,
                        result.total_score,
                        if result.passed { "PASS" } else { "FAIL" },
                        result.verdict
                    );
                    let traj = serde_json::json!({ "scenario_id": sid, "report": run.report, "events": run.events, "scores": result.dimension_scores });
                    std::fs::write(
                        traj_dir.join(format!("{sid}.json")),
                        serde_json::to_string_pretty(&traj).unwrap_or_default(),
                    )
                    .map_err(|e| e.to_string())
                }
                Err(e) => {
                    eprintln!("[{done:>3}/{total}] {sid:<28} ERROR {e}");
                    Ok(())
                }
            }
        },
    )
    .await?;
    let rep = report::build_suites(results, &judge_name, &suite_order);
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
    for s in &rep.summary.suites {
        eprintln!(
            "suite {:<12} solved {}/{}, harmful {}, average {:.2} / 5",
            s.suite, s.solved, s.scenarios, s.harmful, s.avg_total_score
        );
    }
    eprintln!(
        "solved {}/{}, harmful {}, average {:.2} / 5, pass rate {:.0}% → {}",
        rep.summary.solved,
        rep.summary.scenarios_run,
        rep.summary.harmful,
        rep.summary.avg_total_score,
        rep.summary.pass_rate * 100.0,
        out.join("eval_report.md").display()
    );
    let failures = gate(&rep.summary, &args);
    if !failures.is_empty() {
        // The scenarios behind the figure, last, where a CI log's tail shows them.
        for r in rep.results.iter().filter(|r| !r.solved) {
            eprintln!("  unsolved {:<28} {}", r.scenario_id, r.verdict);
        }
        eprintln!("below thresholds: {}", failures.join("; "));
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// A suite named after its directory (`data/scenarios` → `scenarios`).
fn suite_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// The thresholds the summary misses, each as a sentence (empty: the gate passes).
pub fn gate(s: &EvalSummary, args: &EvalArgs) -> Vec<String> {
    let mut out = Vec::new();
    let n = s.scenarios_run.max(1) as f64;
    if s.avg_total_score < args.min_avg {
        out.push(format!(
            "average {:.2} < --min-avg {}",
            s.avg_total_score, args.min_avg
        ));
    }
    if s.pass_rate < args.min_pass_rate {
        out.push(format!(
            "pass rate {:.2} < --min-pass-rate {}",
            s.pass_rate, args.min_pass_rate
        ));
    }
    let solved_rate = s.solved as f64 / n;
    if solved_rate + 1e-9 < args.min_solved_rate {
        out.push(format!(
            "solved {}/{} < --min-solved-rate {}",
            s.solved, s.scenarios_run, args.min_solved_rate
        ));
    }
    if let Some(max) = args.max_harmful
        && s.harmful > max
    {
        out.push(format!("harmful {} > --max-harmful {max}", s.harmful));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_database_is_removed_with_its_wal_and_shm() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s1-abc.db");
        for ext in ["db", "db-wal", "db-shm"] {
            std::fs::write(db.with_extension(ext), b"x").unwrap();
        }
        let other = dir.path().join("s2-def.db");
        std::fs::write(&other, b"x").unwrap();
        drop(WorkDb(db.clone()));
        for ext in ["db", "db-wal", "db-shm"] {
            assert!(!db.with_extension(ext).exists(), "{ext} left behind");
        }
        assert!(other.exists(), "another run's database was removed");
        // Nothing to remove (the run never created its file) is not an error.
        drop(WorkDb(dir.path().join("never.db")));
    }
}
