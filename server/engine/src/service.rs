//! The application service: wires store, events, catalogue, memory, tools and runner together
//! and offers the operations every front end needs (CLI, HTTP, server functions): open an
//! incident, run it, decide an approval, expire stale approvals.

use crate::agents::policy::Brains;
use crate::agents::{EventSink, RunOutcome, Runner, runner::RunError};
use crate::config::Config;
use crate::memory::episodic::EpisodicMemory;
use crate::memory::minilm;
use crate::memory::semantic::Catalogue;
use crate::runs::{self, RunClaims};
use crate::scenario::{self, Scenario};
use crate::store::{IncidentRecord, Store};
use crate::telemetry::{Connectors, Telemetry};
use crate::tools::{Registry, ToolContext};
use chrono::Utc;
use sentinel_model::*;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Scenario(#[from] scenario::ScenarioError),
    #[error("service catalogue: {0}")]
    Catalogue(#[from] crate::memory::semantic::CatalogueError),
    #[error("memory: {0}")]
    Memory(#[from] crate::memory::episodic::MemoryError),
    #[error("{0}")]
    Run(#[from] RunError),
    #[error("invalid: {0}")]
    Invalid(#[from] FieldError),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("run panicked: {0}")]
    Panicked(String),
    /// The server cannot do it now for a reason of its own setup; the message is safe to show.
    #[error("{0}")]
    Unavailable(String),
}

/// The postmortem draft of an incident from its stored record and event log (None: no such
/// incident). A free function over the store, so `sentinel postmortem` needs no running
/// service.
pub async fn postmortem_draft(store: &Store, id: &str) -> Result<Option<String>, ServiceError> {
    let Some(rec) = store.get_incident(id).await? else {
        return Ok(None);
    };
    let pending = store.pending_approval(id).await?.map(|a| a.request);
    let events = store.events_after(Some(id), 0, 100_000).await?;
    let detail = IncidentDetail {
        summary: rec.summary(),
        alert: rec.alert.clone(),
        report: rec.report.clone(),
        pending_approval: pending,
    };
    Ok(Some(sentinel_model::postmortem(&detail, &events)))
}

#[derive(Clone)]
pub struct Sentinel {
    pub config: Config,
    /// Parsed scenario files, reused until a file in the directory changes.
    scenario_cache: Arc<std::sync::Mutex<Option<ScenarioCache>>>,
    pub store: Store,
    pub events: EventSink,
    /// The service catalogue now (swapped whole when the user's catalogue files change).
    pub catalogue: Arc<std::sync::RwLock<Arc<Catalogue>>>,
    pub memory: Option<EpisodicMemory>,
    pub runner: Runner,
    /// Runs under way in this process and this process's lease-owner id.
    pub claims: Arc<RunClaims>,
    /// The telemetry backends chosen from the configuration.
    pub connectors: Connectors,
    /// Pending approvals' expiry timers, by approval id (aborted when a decision comes first,
    /// so a timer never keeps a finished run's service alive).
    timers: Arc<std::sync::Mutex<std::collections::HashMap<String, tokio::task::AbortHandle>>>,
    /// The evaluation this process runs or ran last (started from the dashboard or the API).
    pub evals: Arc<crate::eval::job::EvalJobs>,
}

impl Sentinel {
    /// Connects the database, loads the service catalogue into it, loads episodic memory.
    pub async fn build(
        config: Config,
        brains: Arc<dyn Brains>,
        registry: Arc<Registry>,
    ) -> Result<Self, ServiceError> {
        let store = Store::connect(&config.database_url).await?;
        if config.services_dir.join("services.json").exists() {
            let cat = Catalogue::load_dir(&config.services_dir)?;
            store.save_catalogue(&cat).await?;
        }
        let catalogue = Arc::new(std::sync::RwLock::new(Arc::new(
            store.load_catalogue().await?,
        )));
        // MiniLM from local files when present, else the hashing embedder (with a warning).
        let embedder = minilm::local_embedder(&config.embedding);
        let embedder: Arc<dyn crate::memory::embed::Embedder> =
            Arc::new(crate::memory::embed::CachedEmbedder::new(embedder, 4096));
        let memory = Some(EpisodicMemory::load(store.clone(), embedder).await?);
        let events = EventSink::new(store.clone());
        let runner = Runner {
            store: store.clone(),
            events: events.clone(),
            registry,
            brains,
            memory: memory.clone(),
            cap: config.tool_call_cap,
            overlap: config.overlap_specialists,
        };
        Ok(Self {
            scenario_cache: Default::default(),
            config,
            store,
            events,
            catalogue,
            memory,
            runner,
            claims: Arc::default(),
            connectors: Connectors::default(),
            timers: Arc::default(),
            evals: Arc::default(),
        })
    }

    /// The embedder episodic memory uses (`minilm-l6-v2-int8`, or `hashing-384-v1` when the
    /// model files are missing), for the settings page.
    pub fn embedder_name(&self) -> Option<&str> {
        self.memory.as_ref().map(|m| m.embedder_name())
    }

    pub fn scenarios(&self) -> Result<Vec<Scenario>, ServiceError> {
        Ok(self.scenarios_shared()?.as_ref().clone())
    }

    /// The scenario directory, parsed once and re-read only when a file was added, removed or
    /// modified (checked by a cheap stat of the entries).
    fn scenarios_shared(&self) -> Result<Arc<Vec<Scenario>>, ServiceError> {
        let stamp = DirStamp::of(&self.config.scenarios_dir);
        let cached = self.scenario_cache.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|(s, _)| Some(s) == stamp.as_ref())
                .map(|(_, list)| list.clone())
        });
        if let Some(list) = cached {
            return Ok(list);
        }
        let list = Arc::new(scenario::load_scenario_dir(&self.config.scenarios_dir)?);
        if let (Some(stamp), Ok(mut cache)) = (stamp, self.scenario_cache.lock()) {
            *cache = Some((stamp, list.clone()));
        }
        Ok(list)
    }

    pub fn scenario(&self, id_or_path: &str) -> Result<Scenario, ServiceError> {
        let path = std::path::Path::new(id_or_path);
        if id_or_path.ends_with(".json") || path.is_file() {
            return Ok(scenario::load_scenario_file(path)?);
        }
        self.scenarios_shared()?
            .iter()
            .find(|s| s.scenario_id == id_or_path)
            .cloned()
            .ok_or_else(|| scenario::ScenarioError::NotFound(id_or_path.to_string()).into())
    }

    /// Creates the incident row and its first event. Returns the new id.
    pub async fn open_incident(
        &self,
        alert: Alert,
        scenario_id: Option<String>,
        fingerprint: Option<String>,
    ) -> Result<String, ServiceError> {
        let rec = new_incident(&alert, scenario_id, fingerprint);
        self.store.insert_incident(&rec).await?;
        self.announce_opened(&rec).await?;
        Ok(rec.id)
    }

    /// Opens an incident for a firing alert of dedup key `fingerprint`, unless a joinable
    /// incident of that key exists in the database, which is returned instead. Replicas
    /// receiving the same group at once open it once (see [`Store::open_or_join`]).
    pub async fn open_or_join_incident(
        &self,
        alert: Alert,
        fingerprint: String,
    ) -> Result<Opening, ServiceError> {
        let rec = new_incident(&alert, None, Some(fingerprint));
        if let Some(head) = self.store.open_or_join(&rec).await? {
            return Ok(Opening::Joined(head));
        }
        self.announce_opened(&rec).await?;
        Ok(Opening::Opened(rec.id))
    }

    async fn announce_opened(&self, rec: &IncidentRecord) -> Result<(), ServiceError> {
        self.events
            .emit(
                &rec.id,
                AgentRole::Orchestrator,
                RunEventKind::IncidentOpened {
                    service: rec.alert.service.to_string(),
                    title: rec.title.clone(),
                },
            )
            .await?;
        Ok(())
    }

    /// The telemetry an incident's tools read: its scenario's (a connector like any other),
    /// else the configured connectors (a kind with none configured answers "unavailable").
    pub fn telemetry_for(&self, rec: &IncidentRecord) -> Arc<Telemetry> {
        if let Some(sid) = &rec.scenario_id
            && let Ok(s) = self.scenario(sid)
            && let Ok(input) = s.incident_input()
        {
            return Arc::new(Telemetry::from_scenario(input.telemetry));
        }
        let expr = rec
            .alert
            .annotations
            .get("generator_url")
            .and_then(|u| crate::telemetry::prometheus::expr_from_generator_url(u));
        Arc::new(
            Telemetry::from_connectors(
                rec.alert.fired_at.unwrap_or(rec.created_at),
                &self.connectors,
            )
            .with_alert_expr(expr)
            .with_alert_name(rec.alert.labels.get("alertname").cloned()),
        )
    }

    /// The service catalogue as it is now.
    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.catalogue
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Replaces the catalogue (the user's files changed).
    pub fn set_catalogue(&self, c: Catalogue) {
        match self.catalogue.write() {
            Ok(mut g) => *g = Arc::new(c),
            Err(p) => *p.into_inner() = Arc::new(c),
        }
    }

    pub fn tool_context(&self, rec: &IncidentRecord, telemetry: Arc<Telemetry>) -> ToolContext {
        self.tool_context_for(rec.id.clone(), rec.alert.clone(), telemetry)
    }

    /// What a tool call needs, for an alert that may have no incident (MCP's read tools).
    pub fn tool_context_for(
        &self,
        incident_id: String,
        alert: Alert,
        telemetry: Arc<Telemetry>,
    ) -> ToolContext {
        ToolContext {
            incident_id,
            alert,
            telemetry,
            catalogue: self.catalogue(),
            memory: self.memory.clone(),
            store: self.store.clone(),
            approval_timeout: self.config.approval_timeout,
            agent: AgentRole::Orchestrator,
        }
    }

    /// Runs (or continues) an incident until it finishes or suspends for approval.
    ///
    /// One run per incident at a time: in this process through [`RunClaims`] (a run asked
    /// for meanwhile is done right after this one, so a decision or a recovery is never
    /// dropped), across processes through the incident's lease. Returns
    /// [`RunOutcome::Running`] when someone else is running it.
    pub async fn run_incident(
        &self,
        id: &str,
        telemetry: Option<Arc<Telemetry>>,
    ) -> Result<RunOutcome, ServiceError> {
        // The run is its own task: a caller that goes away (an HTTP client that disconnects
        // while its decision is being applied) cancels only its wait, never the run.
        let this = self.clone();
        let owned = id.to_string();
        tokio::spawn(async move { this.run_claimed(&owned, telemetry).await })
            .await
            .map_err(|e| ServiceError::Panicked(format!("incident {id}: {e}")))?
    }

    async fn run_claimed(
        &self,
        id: &str,
        telemetry: Option<Arc<Telemetry>>,
    ) -> Result<RunOutcome, ServiceError> {
        if !self.claims.begin(id) {
            return Ok(RunOutcome::Running);
        }
        // Should the run panic, the claim goes with it (else this process would never run
        // the incident again).
        let claim = runs::ClaimGuard::new(&self.claims, id);
        let mut telemetry = telemetry;
        loop {
            let out = self.run_leased(id, telemetry.take()).await;
            if !self.claims.end(id) {
                claim.disarm();
                if let Ok(RunOutcome::Suspended(req)) = &out {
                    self.schedule_expiry(req);
                }
                return out;
            }
            if let Err(e) = &out {
                tracing::warn!(incident = %id, error = %e, "run failed; running again as asked");
            }
        }
    }

    /// One run under the incident's lease (renewed while it works, released after).
    async fn run_leased(
        &self,
        id: &str,
        telemetry: Option<Arc<Telemetry>>,
    ) -> Result<RunOutcome, ServiceError> {
        let me = self.claims.owner.clone();
        if !self.take_lease(id, &me).await? {
            return Ok(RunOutcome::Running);
        }
        // Aborted when the run ends, however it ends.
        let _heartbeat = runs::AbortOnDrop({
            let store = self.store.clone();
            let (id, me) = (id.to_string(), me.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(runs::HEARTBEAT);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match store.claim_lease(&id, &me, runs::LEASE_TTL, None).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(incident = %id, "run lease lost to another runner");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(incident = %id, error = %e, "lease renewal failed")
                        }
                    }
                }
            })
        });
        let out = self.run_once(id, telemetry).await;
        if let Err(e) = self.store.release_lease(id, &me).await {
            tracing::warn!(incident = %id, error = %e, "could not release the run lease");
        }
        match out {
            Err(ServiceError::Run(RunError::Corrupt(_))) => {
                // Re-running cannot mend a checkpoint that does not parse: end it visibly.
                self.runner
                    .abandon(id, "the run checkpoint is corrupt; investigate by hand")
                    .await?;
                Ok(RunOutcome::Finished(IncidentStatus::Failed))
            }
            other => other,
        }
    }

    /// Takes the lease if it is free, expired, ours, or held by a process of this machine
    /// that no longer exists.
    async fn take_lease(&self, id: &str, me: &str) -> Result<bool, ServiceError> {
        if self
            .store
            .claim_lease(id, me, runs::LEASE_TTL, None)
            .await?
        {
            return Ok(true);
        }
        let holder = self.store.lease_owner(id).await?;
        match holder {
            Some(h) if runs::owner_is_dead(&h, me) => Ok(self
                .store
                .claim_lease(id, me, runs::LEASE_TTL, Some(&h))
                .await?),
            // Gone between the two statements (finished or released): try once more.
            None => Ok(self
                .store
                .claim_lease(id, me, runs::LEASE_TTL, None)
                .await?),
            Some(_) => Ok(false),
        }
    }

    async fn run_once(
        &self,
        id: &str,
        telemetry: Option<Arc<Telemetry>>,
    ) -> Result<RunOutcome, ServiceError> {
        let rec = self
            .store
            .get_incident(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("incident {id}")))?;
        let telemetry = telemetry.unwrap_or_else(|| self.telemetry_for(&rec));
        let ctx = self.tool_context(&rec, telemetry);
        Ok(self.runner.run(ctx).await?)
    }

    /// Incidents nobody is running — interrupted by a crash (lease expired, or its owner is a
    /// process of this machine that is gone), decided but not yet continued, or ingested
    /// while the queue was full — that this process should continue. Excludes runs under way
    /// here.
    pub async fn orphans(&self, limit: i64) -> Result<Vec<String>, ServiceError> {
        let me = &self.claims.owner;
        let rows = self
            .store
            .orphaned_incidents(me, runs::OPEN_GRACE, limit)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|o| !self.claims.is_active(&o.id))
            .filter(|o| {
                o.lease_owner
                    .as_deref()
                    .is_none_or(|h| runs::owner_is_dead(h, me))
            })
            .map(|o| o.id)
            .collect())
    }

    /// Expires `req` at its deadline (the periodic sweep is the backstop after a restart).
    fn schedule_expiry(&self, req: &ApprovalRequest) {
        let this = self.clone();
        let (incident, approval, at) = (
            req.incident_id.clone(),
            req.approval_id.clone(),
            req.expires_at,
        );
        let timers = self.timers.clone();
        let key = approval.clone();
        let task = tokio::spawn(async move {
            let wait = (at - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            this.timers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&approval);
            match this.store.get_approval(&approval).await {
                Ok(Some(a)) if a.status == "pending" => {
                    if let Err(e) = this.time_out(&incident).await {
                        tracing::warn!(incident = %incident, error = %e, "could not expire approval");
                    }
                }
                _ => {}
            }
        });
        timers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, task.abort_handle());
    }

    /// Opens an incident for a scenario (its alert, its telemetry).
    pub async fn open_scenario(
        &self,
        s: &Scenario,
    ) -> Result<(String, Arc<Telemetry>), ServiceError> {
        let input = s.incident_input()?;
        let id = self
            .open_incident(input.alert, Some(s.scenario_id.clone()), None)
            .await?;
        Ok((id, Arc::new(Telemetry::from_scenario(input.telemetry))))
    }

    /// Starts an evaluation of the named configured suites (empty: all) in the background;
    /// `by` is who started it. A second one while one runs is a conflict.
    pub fn start_eval(
        &self,
        suites: Vec<String>,
        by: &str,
    ) -> Result<sentinel_model::EvalProgress, ServiceError> {
        use crate::eval::job::{EvalRequest, StartError};
        self.evals
            .start(&self.config, self.store.clone(), EvalRequest { suites }, by)
            .map_err(|e| match e {
                StartError::Busy(_) => ServiceError::Conflict(e.to_string()),
                StartError::Invalid(m) => ServiceError::Invalid(FieldError::new("suites", m)),
                StartError::Setup(_) => ServiceError::Unavailable(e.to_string()),
            })
    }

    /// Opens a scenario's incident and runs it in the background. Returns its id at once.
    /// `by` (who fired it) is kept as the alert's `fired_by` annotation.
    pub async fn fire_scenario(&self, scenario_id: &str, by: &str) -> Result<String, ServiceError> {
        let s = self
            .scenarios()?
            .into_iter()
            .find(|s| s.scenario_id == scenario_id)
            .ok_or_else(|| ServiceError::NotFound(format!("scenario {scenario_id}")))?;
        let mut input = s.incident_input()?;
        input
            .alert
            .annotations
            .insert("fired_by".to_string(), by.to_string());
        tracing::info!(scenario = scenario_id, by, "scenario fired");
        let id = self
            .open_incident(input.alert, Some(s.scenario_id.clone()), None)
            .await?;
        let telemetry = Arc::new(Telemetry::from_scenario(input.telemetry));
        self.spawn_run(id.clone(), Some(telemetry));
        Ok(id)
    }

    pub fn spawn_run(&self, id: String, telemetry: Option<Arc<Telemetry>>) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.run_incident(&id, telemetry).await {
                tracing::error!(incident = %id, error = %e, "incident run failed");
            }
        });
    }

    /// Records a human decision (once) and resumes the run to its end.
    pub async fn decide(
        &self,
        incident_id: &str,
        d: ApprovalDecision,
    ) -> Result<RunOutcome, ServiceError> {
        let outcome = match d.decision {
            Decision::Approve => ApprovalOutcome::Approved,
            Decision::Reject => ApprovalOutcome::Rejected,
        };
        self.apply_decision(incident_id, outcome, &d.decided_by, &d.comment)
            .await
    }

    /// Records a human decision (once) and resumes the run in the background: for callers
    /// that must answer quickly (Slack wants its callback acknowledged within 3 s). The
    /// decision is committed when this returns; a second decision gets `Conflict`.
    pub async fn decide_in_background(
        &self,
        incident_id: &str,
        d: ApprovalDecision,
    ) -> Result<(), ServiceError> {
        let outcome = match d.decision {
            Decision::Approve => ApprovalOutcome::Approved,
            Decision::Reject => ApprovalOutcome::Rejected,
        };
        self.record_decision(incident_id, outcome, &d.decided_by, &d.comment)
            .await?;
        self.spawn_run(incident_id.to_string(), None);
        Ok(())
    }

    async fn apply_decision(
        &self,
        incident_id: &str,
        outcome: ApprovalOutcome,
        by: &str,
        comment: &str,
    ) -> Result<RunOutcome, ServiceError> {
        self.record_decision(incident_id, outcome, by, comment)
            .await?;
        self.run_incident(incident_id, None).await
    }

    /// The gate: the first decision of a pending approval commits (with the incident's move
    /// back to `investigating`); any later one, from whichever channel, is a `Conflict`.
    async fn record_decision(
        &self,
        incident_id: &str,
        outcome: ApprovalOutcome,
        by: &str,
        comment: &str,
    ) -> Result<(), ServiceError> {
        if self.store.get_incident(incident_id).await?.is_none() {
            return Err(ServiceError::NotFound(format!("incident {incident_id}")));
        }
        let pending = self
            .store
            .pending_approval(incident_id)
            .await?
            .ok_or_else(|| {
                ServiceError::Conflict(format!("incident {incident_id} has no pending approval"))
            })?;
        // The decision and the incident's move back to `investigating` commit together; from
        // here a crash cannot lose it (the recovery sweep continues the run).
        let approval_id = &pending.request.approval_id;
        if !self
            .store
            .decide_approval(approval_id, outcome, by, comment)
            .await?
        {
            return Err(ServiceError::Conflict(
                "the approval was already decided".into(),
            ));
        }
        if let Some(timer) = self
            .timers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(approval_id)
        {
            timer.abort();
        }
        Ok(())
    }

    async fn time_out(&self, incident_id: &str) -> Result<RunOutcome, ServiceError> {
        self.apply_decision(
            incident_id,
            ApprovalOutcome::TimedOut,
            "sentinel (timeout)",
            "no decision before the deadline",
        )
        .await
    }

    /// Escalates every approval whose deadline passed. Returns how many.
    pub async fn expire_approvals(&self) -> Result<usize, ServiceError> {
        let expired = self.store.expired_approvals(Utc::now()).await?;
        let mut n = 0;
        for a in expired {
            match self.time_out(&a.request.incident_id).await {
                Ok(_) => n += 1,
                Err(ServiceError::Conflict(_)) => {}
                Err(e) => {
                    tracing::warn!(incident = %a.request.incident_id, error = %e, "could not expire approval")
                }
            }
        }
        Ok(n)
    }

    pub async fn incident_detail(&self, id: &str) -> Result<Option<IncidentDetail>, ServiceError> {
        let Some(rec) = self.store.get_incident(id).await? else {
            return Ok(None);
        };
        let pending = self.store.pending_approval(id).await?.map(|a| a.request);
        Ok(Some(IncidentDetail {
            summary: rec.summary(),
            alert: rec.alert.clone(),
            report: rec.report.clone(),
            pending_approval: pending,
        }))
    }
}

type ScenarioCache = (DirStamp, Arc<Vec<Scenario>>);

/// Number of entries and newest modification time of a directory's files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DirStamp {
    entries: usize,
    newest: std::time::SystemTime,
}

impl DirStamp {
    fn of(dir: &std::path::Path) -> Option<Self> {
        let mut entries = 0;
        let mut newest = std::fs::metadata(dir).and_then(|m| m.modified()).ok()?;
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            entries += 1;
            if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                newest = newest.max(t);
            }
        }
        Some(Self { entries, newest })
    }
}

/// What [`Sentinel::open_or_join_incident`] did.
#[derive(Debug)]
pub enum Opening {
    /// A new incident, with this id.
    Opened(String),
    /// The key's incident already open (possibly opened by another replica).
    Joined(crate::store::FingerprintHead),
}

/// A fresh `open` incident record for `alert`.
fn new_incident(
    alert: &Alert,
    scenario_id: Option<String>,
    fingerprint: Option<String>,
) -> IncidentRecord {
    let id = format!("inc-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let now = Utc::now();
    let title = alert.headline();
    IncidentRecord {
        id: id.clone(),
        service: alert.service.to_string(),
        title: title.clone(),
        status: IncidentStatus::Open,
        severity: None,
        scenario_id,
        fingerprint,
        alert_count: 1,
        alert: alert.clone(),
        report: crate::agents::build_report(&id, IncidentStatus::Open, &Default::default()),
        state_json: None,
        created_at: now,
        updated_at: now,
    }
}
