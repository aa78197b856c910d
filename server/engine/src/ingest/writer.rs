//! The ingestion writer: one task that persists every accepted alert with group commit and
//! decides, per fingerprint, whether it opens an incident, repeats one, or resolves one.
//!
//! Why one task: SQLite has one writer anyway, and a commit per webhook caps ingestion at a
//! few thousand alerts/s. Handlers send their alerts here and wait; the task takes every job
//! already waiting (up to [`MAX_BATCH_JOBS`]), writes all their alert rows in one INSERT
//! statement (one commit; a trigger bumps the incident's repeat counter for repeated rows
//! in that same statement) and answers each handler only after that commit — so "persisted
//! before the 202" holds while the cost of a commit is shared by the whole batch. A batch of
//! known fingerprints costs one round trip to SQLite: the fingerprint → incident cache (with
//! the running counts) lives here, and incidents Sentinel resolves are learnt from the run
//! event bus instead of being re-queried per batch.
//!
//! Dedup: an alert joins the newest incident with its fingerprint until the source reports
//! it resolved (or Sentinel resolves the incident); an escalated incident keeps collecting
//! repeats, so an alert storm never opens a storm of investigations. Every repeat is an
//! alert row (outcome `repeated`) and counts in `alert_count`; the timeline gets an
//! `AlertRepeated` event for the first repeat and then at most one per incident per
//! [`REPEAT_EVENT_EVERY`] with the running count, so a storm does not flood the event log.
//!
//! Several replicas: the cache is this process's; the database decides. A firing alert this
//! cache does not know as open goes through `Store::open_or_join`, which under a per-key lock
//! joins the key's open incident if another replica (or an earlier life of the cache) opened
//! it, and opens one otherwise — so one Alertmanager group delivered to two replicas at once
//! opens one incident.

use super::{AlertState, NormalisedAlert};
use crate::queue::InvestigationQueue;
use crate::service::{Opening, Sentinel};
use crate::store::AlertRow;
use chrono::Utc;
use sentinel_model::{AgentRole, RunEvent, RunEventKind};
use std::collections::HashMap;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Most webhook requests folded into one transaction.
pub const MAX_BATCH_JOBS: usize = 512;
/// Fingerprints remembered in memory (the database is asked on a miss).
const CACHE_LIMIT: usize = 100_000;
/// Alert rows per INSERT statement (8 parameters each, well under SQLite's 32,766).
/// Least time between two `AlertRepeated` events of one incident.
pub const REPEAT_EVENT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new incident was opened and queued for investigation.
    Opened,
    /// A new incident was opened but the investigation queue was full: it runs later.
    Deferred,
    /// Joined the open incident for this fingerprint (counter bumped).
    Repeated,
    /// The source reports the alert resolved; recorded on its incident.
    Resolved,
    /// A human acknowledged it at the source; recorded.
    Acknowledged,
    /// One alert of a still-firing group cleared; recorded, the incident stays open.
    Cleared,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Deferred => "deferred",
            Self::Repeated => "repeated",
            Self::Resolved => "resolved",
            Self::Acknowledged => "acknowledged",
            Self::Cleared => "cleared",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AlertOutcome {
    pub fingerprint: String,
    pub incident_id: Option<String>,
    pub outcome: Outcome,
    /// The incident's alert count after this batch (repeats).
    pub count: Option<i64>,
}

impl AlertOutcome {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "fingerprint": self.fingerprint,
            "incident_id": self.incident_id,
            "outcome": self.outcome.as_str(),
            "alert_count": self.count,
        })
    }
}

struct Job {
    source: &'static str,
    alerts: Vec<NormalisedAlert>,
    reply: oneshot::Sender<Result<Vec<AlertOutcome>, String>>,
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub fn start(sentinel: Sentinel, queue: InvestigationQueue) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH_JOBS);
        let task = Task {
            events: sentinel.events.subscribe(),
            sentinel,
            queue,
            cache: HashMap::new(),
            by_incident: HashMap::new(),
            last_repeat_event: HashMap::new(),
        };
        tokio::spawn(task.run(rx));
        Self { tx }
    }

    /// Persists `alerts` and returns what happened to each, after the commit.
    pub async fn submit(
        &self,
        source: &'static str,
        alerts: Vec<NormalisedAlert>,
    ) -> Result<Vec<AlertOutcome>, String> {
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                source,
                alerts,
                reply,
            })
            .await
            .map_err(|_| "the ingestion writer has stopped".to_string())?;
        rx.await
            .map_err(|_| "the ingestion writer dropped the request".to_string())?
    }
}

struct Entry {
    incident_id: String,
    /// False once the source resolved it or Sentinel resolved the incident.
    joinable: bool,
    /// The incident's `alert_count` (this task is the only one that bumps it).
    count: i64,
}

struct Task {
    sentinel: Sentinel,
    queue: InvestigationQueue,
    /// Fingerprint → its newest incident.
    cache: HashMap<String, Entry>,
    /// Incident id → fingerprint, to apply "incident resolved" events to the cache.
    by_incident: HashMap<String, String>,
    /// Run events, read between batches for `IncidentResolved`.
    events: broadcast::Receiver<RunEvent>,
    last_repeat_event: HashMap<String, std::time::Instant>,
}

#[derive(serde::Serialize)]
struct StoredAlert<'a> {
    alert: &'a sentinel_model::Alert,
    state: &'static str,
    ended_at: Option<chrono::DateTime<Utc>>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut jobs = Vec::with_capacity(MAX_BATCH_JOBS);
        while let Some(first) = rx.recv().await {
            jobs.push(first);
            while jobs.len() < MAX_BATCH_JOBS {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            match self.batch(&jobs).await {
                Ok(results) => {
                    for (job, res) in jobs.drain(..).zip(results) {
                        let _ = job.reply.send(Ok(res));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, jobs = jobs.len(), "alert batch failed");
                    self.forget_all();
                    for job in jobs.drain(..) {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    fn remember(&mut self, fingerprint: &str, entry: Entry) {
        if self.cache.len() >= CACHE_LIMIT {
            self.cache.clear();
            self.by_incident.clear();
        }
        self.by_incident
            .insert(entry.incident_id.clone(), fingerprint.to_string());
        self.cache.insert(fingerprint.to_string(), entry);
    }

    fn forget_all(&mut self) {
        self.cache.clear();
        self.by_incident.clear();
    }

    /// Applies the incidents Sentinel resolved since the last batch (from the event bus); if
    /// the bus overflowed, the cache is dropped and refilled from the database.
    fn apply_resolutions(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(ev) => {
                    if matches!(ev.kind, RunEventKind::IncidentResolved { .. })
                        && let Some(fp) = self.by_incident.get(&ev.incident_id)
                        && let Some(e) = self.cache.get_mut(fp)
                        && e.incident_id == ev.incident_id
                    {
                        e.joinable = false;
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => self.forget_all(),
                Err(_) => break,
            }
        }
    }

    /// Fills the cache for the batch's fingerprints that it does not know yet.
    async fn refresh(&mut self, jobs: &[Job]) -> Result<(), String> {
        self.apply_resolutions();
        let mut seen = std::collections::HashSet::new();
        for a in jobs.iter().flat_map(|j| j.alerts.iter()) {
            if self.cache.contains_key(&a.fingerprint) || !seen.insert(a.fingerprint.as_str()) {
                continue;
            }
            let head = self
                .sentinel
                .store
                .fingerprint_head(&a.fingerprint)
                .await
                .map_err(|e| e.to_string())?;
            let Some(head) = head else { continue };
            let joinable = head.joinable();
            let entry = Entry {
                incident_id: head.incident_id,
                joinable,
                count: head.alert_count,
            };
            self.remember(&a.fingerprint, entry);
        }
        Ok(())
    }

    async fn batch(&mut self, jobs: &[Job]) -> Result<Vec<Vec<AlertOutcome>>, String> {
        self.refresh(jobs).await?;
        let now = crate::store::ts(Utc::now());
        let mut rows: Vec<AlertRow> = Vec::new();
        // Incidents that got repeats in this batch, with their count after it.
        let mut bumps: Vec<(String, i64)> = Vec::new();
        let mut bump_idx: HashMap<String, usize> = HashMap::new();
        let mut resolves: Vec<(String, String)> = Vec::new();
        let mut results: Vec<Vec<AlertOutcome>> = Vec::with_capacity(jobs.len());
        for job in jobs {
            let mut out = Vec::with_capacity(job.alerts.len());
            for a in &job.alerts {
                let fp = &a.fingerprint;
                let mut count = None;
                let (incident_id, outcome) = match a.state {
                    AlertState::Firing => {
                        let (id, n, outcome) =
                            if let Some(e) = self.cache.get_mut(fp).filter(|e| e.joinable) {
                                e.count += 1;
                                (e.incident_id.clone(), e.count, Outcome::Repeated)
                            } else {
                                // Not known to be open here: open it, unless the database holds
                                // an open one (another replica opened it, or this cache went stale).
                                let (id, n, outcome) = match self
                                    .sentinel
                                    .open_or_join_incident(a.alert.clone(), fp.clone())
                                    .await
                                    .map_err(|e| e.to_string())?
                                {
                                    Opening::Opened(id) => (id, 1, Outcome::Opened),
                                    Opening::Joined(head) => {
                                        (head.incident_id, head.alert_count + 1, Outcome::Repeated)
                                    }
                                };
                                self.remember(
                                    fp,
                                    Entry {
                                        incident_id: id.clone(),
                                        joinable: true,
                                        count: n,
                                    },
                                );
                                (id, n, outcome)
                            };
                        count = Some(n);
                        if outcome == Outcome::Repeated {
                            match bump_idx.get(&id) {
                                Some(&i) => bumps[i].1 = n,
                                None => {
                                    bump_idx.insert(id.clone(), bumps.len());
                                    bumps.push((id.clone(), n));
                                }
                            }
                        }
                        (Some(id), outcome)
                    }
                    AlertState::Resolved => {
                        let id = self.cache.get_mut(fp).map(|e| {
                            e.joinable = false;
                            e.incident_id.clone()
                        });
                        if let Some(id) = id
                            .as_ref()
                            .filter(|id| !resolves.iter().any(|(r, _)| r == *id))
                        {
                            let when = a.ended_at.unwrap_or_else(Utc::now);
                            resolves.push((
                                id.clone(),
                                format!(
                                    "{} reports {} on {} resolved at {}",
                                    job.source,
                                    a.alert.metric,
                                    a.alert.service,
                                    when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                                ),
                            ));
                        }
                        (id, Outcome::Resolved)
                    }
                    AlertState::Acknowledged => (
                        self.cache.get(fp).map(|e| e.incident_id.clone()),
                        Outcome::Acknowledged,
                    ),
                    AlertState::Cleared => (
                        self.cache.get(fp).map(|e| e.incident_id.clone()),
                        Outcome::Cleared,
                    ),
                };
                rows.push(AlertRow {
                    // Time-ordered: rows append to the right edge of the primary-key index
                    // instead of dirtying a random page each.
                    id: uuid::Uuid::now_v7().simple().to_string(),
                    incident_id: incident_id.clone(),
                    source: job.source,
                    fingerprint: fp.clone(),
                    status: a.state.as_str(),
                    outcome: outcome.as_str(),
                    payload: serde_json::to_string(&StoredAlert {
                        alert: &a.alert,
                        state: a.state.as_str(),
                        ended_at: a.ended_at,
                    })
                    .unwrap_or_else(|_| "null".into()),
                });
                out.push(AlertOutcome {
                    fingerprint: fp.clone(),
                    incident_id,
                    outcome,
                    count,
                });
            }
            results.push(out);
        }

        self.sentinel
            .store
            .insert_alert_rows(&rows, &now)
            .await
            .map_err(|e| e.to_string())?;

        // Timeline events (after the commit: the alerts are safe whatever happens here).
        let events = &self.sentinel.events;
        // Opening an incident emitted its first event.
        let mut emitted = results
            .iter()
            .flatten()
            .any(|o| o.outcome == Outcome::Opened);
        let now_i = std::time::Instant::now();
        if self.last_repeat_event.len() >= CACHE_LIMIT {
            self.last_repeat_event
                .retain(|_, t| now_i.duration_since(*t) < REPEAT_EVENT_EVERY);
        }
        for (id, count) in &bumps {
            if self
                .last_repeat_event
                .get(id)
                .is_some_and(|t| now_i.duration_since(*t) < REPEAT_EVENT_EVERY)
            {
                continue;
            }
            self.last_repeat_event.insert(id.clone(), now_i);
            emitted = true;
            if let Err(e) = events
                .emit(
                    id,
                    AgentRole::Orchestrator,
                    RunEventKind::AlertRepeated { count: *count },
                )
                .await
            {
                tracing::warn!(incident = %id, error = %e, "could not record a repeat event");
            }
        }
        for (id, note) in resolves {
            emitted = true;
            if let Err(e) = events
                .emit(
                    &id,
                    AgentRole::Orchestrator,
                    RunEventKind::AlertResolved { note },
                )
                .await
            {
                tracing::warn!(incident = %id, error = %e, "could not record a resolve event");
            }
        }

        // The timeline events of this batch are in the log before the webhook is answered.
        if emitted && let Err(e) = events.flush().await {
            tracing::warn!(error = %e, "could not record this batch's timeline events");
        }

        // Queue the new investigations; a full queue defers them (the re-drive picks them up).
        for out in results.iter_mut().flat_map(|r| r.iter_mut()) {
            if out.outcome == Outcome::Opened {
                let id = out.incident_id.clone().unwrap_or_default();
                if !self.queue.try_enqueue(&id) {
                    out.outcome = Outcome::Deferred;
                }
            }
        }
        Ok(results)
    }
}
