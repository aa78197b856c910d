//! `sentinel lab eval`: randomised faults end to end through the real path — the fleet's
//! metrics scraped by a real Prometheus, its rule firing through a real Alertmanager into
//! Sentinel's webhook, the agents reading Prometheus, the log files and the git history, the
//! proposal approved (as a person would, through the same decision path) and carried out by
//! the lab's executor — judged against the fault's ground truth, which only this module and
//! the fleet know. It starts everything itself on free loopback ports (Sentinel and the fleet
//! in this process, Prometheus and Alertmanager as children) and stops it at the end.
//!
//! A run is judged on every incident it opened: harmful when any proposes a harmful action;
//! solved when the incident of the fault's own service (else the first one) is solved by the
//! evaluation's verdict and none is harmful.

use crate::config::{Config, Env};
use crate::eval::{judge, report, runner};
use crate::scenario::{GroundTruth, Scenario, ScenarioAlert};
use app::model::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sentinel_lab::faults::{self, Kind};
use sentinel_lab::stack::{self, Ports};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct LabEvalArgs {
    /// How many faults to inject, one after another.
    #[arg(long, default_value_t = 6)]
    pub runs: usize,
    /// Seed of the fault sequence (default: a new one each run, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to write eval_report.json and eval_report.md.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit non-zero when fewer runs than this are solved.
    #[arg(long, default_value_t = 0)]
    pub min_solved: usize,
    /// Exit non-zero when more runs than this end with a harmful action.
    #[arg(long)]
    pub max_harmful: Option<usize>,
    /// Only these fault kinds (default: all, in a seeded order).
    #[arg(long, value_delimiter = ',')]
    pub faults: Vec<String>,
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `n` consecutive free ports (the fleet's /metrics listeners).
fn free_range(n: u16) -> Result<u16, String> {
    let mut rng = rand::rng();
    for _ in 0..50 {
        let base: u16 = rng.random_range(20000..60000);
        if (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return Ok(base);
        }
    }
    Err("no range of free ports for the fleet".into())
}

/// 24 random bytes as hex (tokens and signing secrets).
pub fn secret() -> String {
    let mut r = rand::rng();
    (0..24)
        .map(|_| format!("{:02x}", r.random::<u8>()))
        .collect()
}

/// One run's outcome, for the per-kind table.
struct Outcome {
    kind: Kind,
    solved: bool,
    harmful: bool,
    detect_s: Option<f64>,
    proposal_s: Option<f64>,
    recovered: bool,
}

pub async fn run(base: Config, args: LabEvalArgs) -> Result<ExitCode, String> {
    let seed = args.seed.unwrap_or_else(rand::random);
    eprintln!(
        "lab eval: {} runs, seed {seed} (repeat with --seed {seed})",
        args.runs
    );
    let mut kinds: Vec<Kind> = if args.faults.is_empty() {
        Kind::ALL.to_vec()
    } else {
        args.faults
            .iter()
            .map(|f| Kind::parse(f).map_err(|e| format!("--faults: {e}")))
            .collect::<Result<_, _>>()?
    };
    let mut rng = StdRng::seed_from_u64(seed);
    // A seeded order, every kind before any repeats.
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.random_range(0..=i));
    }

    let work = tempfile_dir(&base)?;
    let catalog =
        sentinel_lab::catalog::Catalog::load(&base.services_dir).map_err(|e| e.to_string())?;
    let services: Vec<String> = catalog.services.iter().map(|s| s.name.clone()).collect();
    let ports = Ports {
        sentinel: free_port()?,
        prometheus: free_port()?,
        alertmanager: free_port()?,
        control: free_port()?,
        metrics_base: free_range(services.len() as u16)?,
    };
    let (token, exec_secret) = (secret(), secret());
    stack::write_configs(&work, &services, ports, &token, &exec_secret)
        .map_err(|e| e.to_string())?;

    // Prometheus and Alertmanager first (Sentinel checks its metrics backend as it starts).
    let _monitoring = stack::Monitoring::spawn(&work, ports).await?;
    // Sentinel, in this process, with the lab's configuration and its own database.
    let mut config = Config::load(&Env::from_process(), Some(&work.join("sentinel.toml")))
        .map_err(|e| e.to_string())?;
    config.data_dir = work.join("sentinel");
    std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
    config.database_url = format!("sqlite://{}", config.data_dir.join("sentinel.db").display());
    let app = crate::http::Application::build_with(
        config,
        ([127, 0, 0, 1], ports.sentinel).into(),
        crate::ingest::IngestConfig {
            webhook_token: Some(token.clone()),
            ..base.ingest.clone()
        },
    )
    .await?;
    let state = app.state.clone();
    tokio::spawn(app.run());
    let sentinel = state.sentinel.clone();

    // The fleet, in this process.
    let lab_cfg = sentinel_lab::control::LabConfig {
        services_dir: base.services_dir.clone(),
        dir: work.join("fleet"),
        control: ([127, 0, 0, 1], ports.control).into(),
        metrics_base_port: ports.metrics_base,
        sentinel: Some(format!("http://127.0.0.1:{}", ports.sentinel)),
        webhook_token: Some(token.clone()),
        executor_secret: Some(exec_secret.clone()),
        seed,
    };
    tokio::spawn(async move {
        if let Err(e) = sentinel_lab::control::serve(lab_cfg).await {
            eprintln!("lab eval: the fleet stopped: {e}");
        }
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let control = format!("http://127.0.0.1:{}", ports.control);
    let prom = format!("http://127.0.0.1:{}", ports.prometheus);
    // A baseline before the first fault.
    tokio::time::sleep(Duration::from_secs(25)).await;

    let cat = sentinel.catalogue();
    let mut results: Vec<EvalResult> = Vec::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    for i in 0..args.runs {
        let kind = kinds[i % kinds.len()];
        let service = kind.candidates()[rng.random_range(0..kind.candidates().len())];
        let fault_seed: u64 = rng.random();
        let started = chrono::Utc::now();
        let resp: serde_json::Value = http
            .post(format!("{control}/inject"))
            .json(&serde_json::json!({ "fault": kind.as_str(), "service": service, "seed": fault_seed, "delay_secs": 15 }))
            .send()
            .await
            .map_err(|e| format!("the fleet does not answer: {}", e.without_url()))?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let onset: chrono::DateTime<chrono::Utc> = resp["onset"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or("the fleet's answer has no onset")?;
        let plan = faults::plan(kind, Some(service), fault_seed, onset)?;
        let truth = plan.truth.clone();
        // The incidents this fault opened, once none is still being investigated.
        let ids = settle(&sentinel.store, started, Duration::from_secs(150)).await;
        let recs: Vec<crate::store::IncidentRecord> = {
            let mut v = Vec::new();
            for id in &ids {
                if let Ok(Some(r)) = sentinel.store.get_incident(id).await {
                    v.push(r);
                }
            }
            v
        };
        let scenario = scenario_of(&plan, recs.first().map(|r| &r.alert));
        let primary = recs
            .iter()
            .find(|r| r.service == truth.origin)
            .or(recs.first());
        let mut harmful = false;
        let mut why: Vec<String> = Vec::new();
        for r in &recs {
            let v = judge::verdict_in(&scenario, &r.report, Some(&cat));
            if v.harmful {
                harmful = true;
                why.push(format!("{} ({}): {}", r.id, r.service, v.reason));
            }
        }
        let (verdict, dims, condensed, incident_id, proposal_s) = match primary {
            Some(r) => {
                let st: crate::agents::state::RunState = r
                    .state_json
                    .as_deref()
                    .and_then(|j| serde_json::from_str(j).ok())
                    .unwrap_or_default();
                let mut dims = judge::score_in(&scenario, &r.report, &st, Some(&cat));
                let v = judge::verdict_in(&scenario, &r.report, Some(&cat));
                judge::cap(&mut dims, &v);
                let proposal = proposal_at(&sentinel.store, &r.id)
                    .await
                    .map(|t| secs(t - onset));
                (
                    v,
                    dims,
                    Some(runner::condense(&r.report)),
                    r.id.clone(),
                    proposal,
                )
            }
            None => (
                judge::Verdict {
                    solved: false,
                    harmful: false,
                    wrong_culprit: false,
                    reason: "no incident was opened".into(),
                },
                Vec::new(),
                None,
                String::new(),
                None,
            ),
        };
        let detect_s = recs
            .iter()
            .map(|r| r.created_at)
            .min()
            .map(|t| secs(t - onset));
        // Every incident of the run, with its events, for whoever reads the report (the
        // fault's plan and truth beside them: this file is the evaluator's, not the agents').
        if let Some(out) = &args.out {
            let mut all = Vec::new();
            for r in &recs {
                let events = sentinel
                    .store
                    .events_after(Some(&r.id), 0, 100_000)
                    .await
                    .unwrap_or_default();
                all.push(serde_json::json!({ "incident_id": r.id, "service": r.service, "report": r.report, "events": events }));
            }
            let dir = out.join("trajectories");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(
                dir.join(format!("lab-{:02}-{}.json", i + 1, kind.as_str())),
                serde_json::to_string_pretty(
                    &serde_json::json!({ "fault": plan, "incidents": all }),
                )
                .unwrap_or_default(),
            );
        }
        // Act as the on-call engineer: approve the primary proposal; the others are handled
        // by it.
        for r in &recs {
            if r.status != IncidentStatus::AwaitingApproval {
                continue;
            }
            let d = if Some(&r.id) == primary.map(|p| &p.id) {
                ApprovalDecision::parse("approve", "approved by sentinel lab eval", "lab-eval")
            } else {
                ApprovalDecision::parse("reject", &format!("handled in {incident_id}"), "lab-eval")
            };
            if let Ok(d) = d {
                let _ = sentinel.decide(&r.id, d).await;
            }
        }
        let recovered = quiet(&http, &prom, Duration::from_secs(90)).await;
        let solved = verdict.solved && !harmful;
        let reason = if harmful {
            format!("harmful: {}", why.join("; "))
        } else {
            verdict.reason.clone()
        };
        eprintln!(
            "[{:>3}/{}] {:<20} {:<22} {} detect {} proposal {} {}",
            i + 1,
            args.runs,
            kind.as_str(),
            service,
            if harmful {
                "HARMFUL"
            } else if solved {
                "solved "
            } else {
                "no     "
            },
            detect_s.map(|s| format!("{s:.0}s")).unwrap_or("-".into()),
            proposal_s.map(|s| format!("{s:.0}s")).unwrap_or("-".into()),
            if recovered {
                "recovered"
            } else {
                "not recovered"
            },
        );
        if !solved {
            eprintln!("        {reason}");
        }
        let total = if dims.is_empty() {
            0.0
        } else {
            report::round2(dims.iter().map(|d| d.score).sum::<f64>() / dims.len() as f64)
        };
        results.push(EvalResult {
            incident_id,
            scenario_id: format!("lab-{:02}-{}", i + 1, kind.as_str()),
            total_score: total,
            passed: total >= PASS_THRESHOLD && !harmful,
            solved,
            harmful,
            verdict: format!(
                "{reason}; detect {}, proposal {}, {}",
                detect_s.map(|s| format!("{s:.0} s")).unwrap_or("-".into()),
                proposal_s
                    .map(|s| format!("{s:.0} s"))
                    .unwrap_or("-".into()),
                if recovered {
                    "recovered after the decision"
                } else {
                    "not recovered"
                }
            ),
            suite: "lab".into(),
            dimension_scores: dims,
            trajectory: condensed,
        });
        outcomes.push(Outcome {
            kind,
            solved,
            harmful,
            detect_s,
            proposal_s,
            recovered,
        });
        let _ = http.post(format!("{control}/reset")).send().await;
        if !recovered {
            quiet(&http, &prom, Duration::from_secs(120)).await;
        }
    }

    let rep = report::build_suites(results, "deterministic (builtin)", &["lab".to_string()]);
    let md = format!("{}\n{}", per_kind(&outcomes, seed), report::markdown(&rep));
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).map_err(|e| format!("--out {}: {e}", out.display()))?;
        std::fs::write(
            out.join("eval_report.json"),
            serde_json::to_string_pretty(&rep).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(out.join("eval_report.md"), &md).map_err(|e| e.to_string())?;
    }
    // The dashboard's eval page lists it as its own suite.
    if let Ok(store) = crate::store::Store::connect(&base.database_url).await {
        let _ = store
            .insert_eval_run(&format!("lab-{}", uuid_like()), &rep)
            .await;
    }
    eprint!("{}", per_kind(&outcomes, seed));
    let s = &rep.summary;
    eprintln!(
        "lab: solved {}/{}, harmful {} (seed {seed})",
        s.solved, s.scenarios_run, s.harmful
    );
    let mut failed = Vec::new();
    if s.solved < args.min_solved {
        failed.push(format!("solved {} < {}", s.solved, args.min_solved));
    }
    if let Some(m) = args.max_harmful
        && s.harmful > m
    {
        failed.push(format!("harmful {} > {m}", s.harmful));
    }
    let _ = std::fs::remove_dir_all(&work);
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("lab eval gate failed: {} (seed {seed})", failed.join("; "));
        Ok(ExitCode::FAILURE)
    }
}

fn uuid_like() -> String {
    secret()[..16].to_string()
}

fn secs(d: chrono::Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

fn tempfile_dir(base: &Config) -> Result<PathBuf, String> {
    let dir = base.data_dir.join(format!("lab-eval-{}", uuid_like()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// The incidents opened since `since`, once at least one exists and none has been
/// investigating for the last few seconds (or the timeout passed).
async fn settle(
    store: &crate::store::Store,
    since: chrono::DateTime<chrono::Utc>,
    timeout: Duration,
) -> Vec<String> {
    let t0 = Instant::now();
    let mut calm_since: Option<Instant> = None;
    loop {
        let list = store
            .list_incidents(&crate::store::IncidentFilter {
                limit: Some(50),
                ..Default::default()
            })
            .await
            .unwrap_or_default();
        let mine: Vec<&crate::store::IncidentRecord> =
            list.iter().filter(|r| r.created_at >= since).collect();
        let busy = mine.iter().any(|r| {
            matches!(
                r.status,
                IncidentStatus::Open | IncidentStatus::Investigating
            )
        });
        if !mine.is_empty() && !busy {
            let c = *calm_since.get_or_insert_with(Instant::now);
            if c.elapsed() >= Duration::from_secs(8) || t0.elapsed() >= timeout {
                let mut ids: Vec<(chrono::DateTime<chrono::Utc>, String)> =
                    mine.iter().map(|r| (r.created_at, r.id.clone())).collect();
                ids.sort();
                return ids.into_iter().map(|(_, id)| id).collect();
            }
        } else {
            calm_since = None;
        }
        if t0.elapsed() >= timeout {
            return mine.iter().map(|r| r.id.clone()).collect();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// When the incident's proposal reached the approval gate (or it concluded without one).
async fn proposal_at(
    store: &crate::store::Store,
    id: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let evs = store.events_after(Some(id), 0, 10_000).await.ok()?;
    evs.iter()
        .find(|e| matches!(e.kind, RunEventKind::ApprovalRequested { .. }))
        .or_else(|| {
            evs.iter().find(|e| {
                e.agent == AgentRole::Remediation
                    && matches!(e.kind, RunEventKind::AgentCompleted { .. })
            })
        })
        .map(|e| e.ts)
}

/// Waits until Prometheus has no firing or pending alert; whether that happened in time.
async fn quiet(http: &reqwest::Client, prom: &str, timeout: Duration) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        let firing = match http.get(format!("{prom}/api/v1/alerts")).send().await {
            Ok(r) => r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["data"]["alerts"].as_array().map(|a| a.len()))
                .unwrap_or(1),
            Err(_) => 1,
        };
        if firing == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    false
}

/// The fault's ground truth as a scenario, so the evaluation's own verdict and judge score it.
fn scenario_of(p: &faults::Plan, alert: Option<&Alert>) -> Scenario {
    let t = &p.truth;
    let (deploy_id, change_id) = match &p.culprit {
        Some(c) if c.kind == "deploy" => (Some(c.id.clone()), None),
        Some(c) => (None, Some(c.id.clone())),
        None => (None, None),
    };
    Scenario {
        scenario_id: format!("lab-{}", p.kind.as_str()),
        failure_class: p.kind.as_str().into(),
        description: p.kind.describe().into(),
        alert: ScenarioAlert {
            source: "alertmanager".into(),
            service: alert
                .map(|a| a.service.to_string())
                .unwrap_or_else(|| p.service.clone()),
            metric: alert.map(|a| a.metric.clone()).unwrap_or_default(),
            threshold: alert.map(|a| a.threshold).unwrap_or_default(),
            current_value: alert.map(|a| a.current_value).unwrap_or_default(),
            severity: "critical".into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            fired_at: alert.and_then(|a| a.fired_at),
        },
        known_root_cause: None,
        ground_truth: GroundTruth {
            severity: "P1".into(),
            affected_service: t.origin.clone(),
            root_cause_summary: p.kind.describe().into(),
            recommended_action: t.action.clone(),
            deploy_id,
            change_id,
            root_cause_keywords: vec![],
            acceptable_actions: t.acceptable.clone(),
            harmful_actions: t.harmful.clone(),
        },
        logs: vec![],
        deploys: vec![],
        metrics: vec![],
        changes: vec![],
    }
}

/// Solved, harmful, time to detect, time to proposal and recovery, per fault kind (Markdown).
fn per_kind(outcomes: &[Outcome], seed: u64) -> String {
    let mut by: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        by.entry(o.kind.as_str()).or_default().push(o);
    }
    let med = |mut v: Vec<f64>| -> String {
        if v.is_empty() {
            return "-".into();
        }
        v.sort_by(f64::total_cmp);
        format!("{:.0} s", v[v.len() / 2])
    };
    let mut s = format!(
        "## Lab evaluation (seed {seed})\n\n| fault | runs | solved | harmful | time to detect (median) | time to proposal (median) | recovered after the decision |\n|---|---|---|---|---|---|---|\n"
    );
    for (k, os) in by {
        s.push_str(&format!(
            "| {k} | {} | {} | {} | {} | {} | {} |\n",
            os.len(),
            os.iter().filter(|o| o.solved).count(),
            os.iter().filter(|o| o.harmful).count(),
            med(os.iter().filter_map(|o| o.detect_s).collect()),
            med(os.iter().filter_map(|o| o.proposal_s).collect()),
            os.iter().filter(|o| o.recovered).count()
        ));
    }
    s
}
