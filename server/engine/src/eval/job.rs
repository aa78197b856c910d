//! An evaluation run by the server, started from the eval page or `POST /api/evals`: the
//! same runner as `sentinel eval`, in the background, its progress readable while it runs.
//!
//! One evaluation runs at a time per process (a second start is refused, not queued: an
//! evaluation takes the machine's cores). Each scenario runs in its own database under the
//! data directory, as `sentinel eval` does, so nothing it does touches live incidents; the
//! finished report goes into the server's `eval_runs`, where the eval page reads it. Suites are
//! chosen by name from `[eval] suites` only, never by a path from the request.

use super::{report, runner};
use crate::config::Config;
use crate::store::Store;
use chrono::Utc;
use sentinel_model::{EvalJobState, EvalProgress, EvalProgressLine, EvalStatus};
use std::sync::{Arc, Mutex};

/// What to evaluate: suite names from the configuration (empty: all of them).
#[derive(Debug, Clone, Default)]
pub struct EvalRequest {
    pub suites: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("evaluation {0} is still running; wait for it to finish")]
    Busy(String),
    /// The request names a suite that is not configured (or none with scenarios).
    #[error("suites: {0}")]
    Invalid(String),
    /// The server's own setup is broken (a configured suite does not load, the judge model
    /// cannot be built): details in the server log, not in the answer.
    #[error("the evaluation cannot start: {0} (see the server log)")]
    Setup(String),
}

/// The evaluation this process runs, or the last one it ran.
#[derive(Default)]
pub struct EvalJobs {
    slot: Mutex<Option<EvalProgress>>,
}

impl EvalJobs {
    /// The configured suites and the current (or last) evaluation.
    pub fn status(&self, config: &Config) -> EvalStatus {
        EvalStatus {
            suites: config.eval_suites().into_iter().map(|(n, _)| n).collect(),
            current: self.current(),
        }
    }

    pub fn current(&self) -> Option<EvalProgress> {
        self.lock().clone()
    }

    /// The slot; a panic while it was held leaves a usable value (every writer finishes its
    /// change in one assignment), so poisoning is ignored rather than freezing the state.
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<EvalProgress>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn running_id(&self) -> Option<String> {
        running_id(&self.lock())
    }

    fn update(&self, f: impl FnOnce(&mut EvalProgress)) {
        if let Some(p) = self.lock().as_mut() {
            f(p);
        }
    }

    /// Checks the request, loads its scenarios and starts the evaluation in the background;
    /// answers at once with its progress (state `running`). The report is stored in `store`.
    pub fn start(
        self: &Arc<Self>,
        config: &Config,
        store: Store,
        req: EvalRequest,
        started_by: &str,
    ) -> Result<EvalProgress, StartError> {
        // Refused before any file is read; checked again when the slot is taken.
        if let Some(id) = self.running_id() {
            return Err(StartError::Busy(id));
        }
        let configured = config.eval_suites();
        let chosen: Vec<(String, std::path::PathBuf)> = if req.suites.is_empty() {
            configured.clone()
        } else {
            let mut out = Vec::new();
            for name in &req.suites {
                let found = configured.iter().find(|(n, _)| n == name).ok_or_else(|| {
                    StartError::Invalid(format!(
                        "no suite {name:?} (configured: {})",
                        configured
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                if !out.iter().any(|(n, _): &(String, _)| n == name) {
                    out.push(found.clone());
                }
            }
            out
        };
        let scenarios = runner::load_suites(&chosen, &[]).map_err(|e| {
            tracing::error!(error = %e, "a configured evaluation suite does not load");
            StartError::Setup("a configured suite does not load".into())
        })?;
        if scenarios.is_empty() {
            return Err(StartError::Invalid(
                "the chosen suites hold no scenario".into(),
            ));
        }
        let judge = runner::choose_judge(config, None).map_err(|e| {
            tracing::error!(error = %e, "the judge model cannot be built");
            StartError::Setup("the judge model cannot be built".into())
        })?;
        if let Some(w) = &judge.warning {
            tracing::warn!("{w}");
        }
        let suite_order: Vec<String> = chosen.iter().map(|(n, _)| n.clone()).collect();
        let progress = EvalProgress {
            id: format!("eval-{}", uuid::Uuid::new_v4().simple()),
            state: EvalJobState::Running,
            started_by: started_by.to_string(),
            started_at: Utc::now(),
            finished_at: None,
            suites: suite_order.clone(),
            total: scenarios.len(),
            done: 0,
            solved: 0,
            harmful: 0,
            errors: 0,
            recent: vec![],
            error: None,
        };
        {
            let mut g = self.lock();
            if let Some(id) = running_id(&g) {
                return Err(StartError::Busy(id));
            }
            *g = Some(progress.clone());
        }
        let jobs = self.clone();
        let config = config.clone();
        let id = progress.id.clone();
        let concurrency = config.file.eval.concurrency.unwrap_or(2);
        tracing::info!(eval = %id, scenarios = scenarios.len(), suites = ?suite_order, started_by, "evaluation started");
        let inner_jobs = jobs.clone();
        let inner_id = id.clone();
        let work = tokio::spawn(async move {
            let (jobs, id) = (inner_jobs, inner_id);
            let ran = runner::run_all(
                &config,
                &scenarios,
                judge.llm.as_ref(),
                concurrency,
                |done, _total, r, run| {
                    jobs.update(|p| {
                        p.done = done;
                        p.solved += usize::from(r.solved);
                        p.harmful += usize::from(r.harmful);
                        p.errors += usize::from(run.is_err());
                        p.recent.push(EvalProgressLine {
                            suite: r.suite.clone(),
                            scenario_id: r.scenario_id.clone(),
                            solved: r.solved,
                            harmful: r.harmful,
                            total_score: r.total_score,
                            verdict: r.verdict.clone(),
                        });
                        let extra = p.recent.len().saturating_sub(EvalProgress::RECENT);
                        p.recent.drain(..extra);
                    });
                    Ok(())
                },
            )
            .await;
            match ran {
                Ok(results) => {
                    let rep = report::build_suites(results, &judge.name, &suite_order);
                    store
                        .insert_eval_run(&id, &rep)
                        .await
                        .map_err(|e| {
                            tracing::error!(eval = %id, error = %e, "storing the evaluation report failed");
                            "storing the report failed (see the server log)".to_string()
                        })
                }
                Err(e) => Err(e),
            }
        });
        // A panic in a run must not leave the evaluation `running` forever.
        tokio::spawn(async move {
            let stored = work.await.unwrap_or_else(|e| {
                tracing::error!(eval = %id, error = %e, "the evaluation task stopped");
                Err("the evaluation stopped unexpectedly (see the server log)".to_string())
            });
            jobs.update(|p| {
                p.finished_at = Some(Utc::now());
                match stored {
                    Ok(()) => p.state = EvalJobState::Finished,
                    Err(e) => {
                        p.state = EvalJobState::Failed;
                        p.error = Some(e);
                    }
                }
            });
            tracing::info!(eval = %id, "evaluation finished");
        });
        Ok(progress)
    }
}

/// The id of the evaluation in `slot`, if it is still running.
fn running_id(slot: &Option<EvalProgress>) -> Option<String> {
    slot.as_ref()
        .filter(|p| p.state == EvalJobState::Running)
        .map(|p| p.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(id: &str) -> EvalProgress {
        EvalProgress {
            id: id.into(),
            state: EvalJobState::Running,
            started_by: "alice".into(),
            started_at: Utc::now(),
            finished_at: None,
            suites: vec!["public".into()],
            total: 3,
            done: 1,
            solved: 1,
            harmful: 0,
            errors: 0,
            recent: vec![],
            error: None,
        }
    }

    #[tokio::test]
    async fn one_evaluation_at_a_time_and_suites_by_configured_name_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::defaults(dir.path());
        cfg.scenarios_dir =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios");
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let jobs = Arc::new(EvalJobs::default());
        // The default suite is the scenarios directory, named public.
        assert_eq!(jobs.status(&cfg).suites, ["public"]);
        let e = jobs
            .start(
                &cfg,
                store.clone(),
                EvalRequest {
                    suites: vec!["data/scenarios".into()],
                },
                "alice",
            )
            .unwrap_err();
        assert!(
            matches!(e, StartError::Invalid(ref m) if m.contains("no suite \"data/scenarios\"") && m.contains("public")),
            "{e}"
        );
        // While one runs, another start is refused with the running one's id; the slot is
        // left as it was.
        *jobs.slot.lock().unwrap() = Some(running("eval-a"));
        let e = jobs
            .start(&cfg, store.clone(), EvalRequest::default(), "bob")
            .unwrap_err();
        assert!(
            matches!(e, StartError::Busy(ref id) if id == "eval-a"),
            "{e}"
        );
        let now = jobs.current().unwrap();
        assert_eq!(
            (now.id.as_str(), now.state, now.done),
            ("eval-a", EvalJobState::Running, 1)
        );
        // A finished one does not block the next.
        jobs.update(|p| p.state = EvalJobState::Finished);
        let p = jobs
            .start(&cfg, store, EvalRequest::default(), "bob")
            .unwrap();
        assert_eq!(
            (p.state, p.started_by.as_str()),
            (EvalJobState::Running, "bob")
        );
        assert_eq!(jobs.current().unwrap().id, p.id);
    }
}
