//! The bounded investigation queue. Webhooks can arrive far faster than agents investigate,
//! so ingestion never spawns a run per alert: it queues the incident id here (capacity
//! `SENTINEL_QUEUE_CAPACITY`, default 1024) and a fixed set of workers (`SENTINEL_QUEUE_WORKERS`,
//! default 2) run them. When the queue is full the incident is already persisted (status
//! `open`, with its alert rows); the webhook answers 429 + Retry-After.
//!
//! The same queue carries recovery: a sweep (at start, then every [`runs::RECOVERY_EVERY`])
//! asks the service for incidents nobody is running (`Sentinel::orphans`: deferred by a full
//! queue, interrupted by a crash, decided but not yet continued) and queues them, so
//! recovery is bounded by the same workers as ingestion. Scenario firing keeps its own direct
//! spawn (`Sentinel::fire_scenario`).

use crate::runs;
use crate::service::Sentinel;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

#[derive(Clone)]
pub struct InvestigationQueue {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<String>,
    capacity: usize,
    /// Ids in the channel, not yet taken by a worker (never queued twice at once).
    pending: Mutex<HashSet<String>>,
    /// Kept here so the channel stays open even with zero workers.
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<String>>>,
}

impl InvestigationQueue {
    /// Starts `workers` investigation workers and the recovery sweep.
    pub fn start(sentinel: Sentinel, capacity: usize, workers: usize) -> Self {
        let capacity = capacity.max(1);
        let (tx, rx) = mpsc::channel::<String>(capacity);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let q = Self {
            inner: Arc::new(Inner {
                tx,
                capacity,
                pending: Mutex::new(HashSet::new()),
                rx,
            }),
        };
        for _ in 0..workers {
            let q = q.clone();
            let sentinel = sentinel.clone();
            tokio::spawn(async move {
                loop {
                    let next = q.inner.rx.lock().await.recv().await;
                    let Some(id) = next else { break };
                    q.pending().remove(&id);
                    if let Err(e) = sentinel.run_incident(&id, None).await {
                        tracing::error!(incident = %id, error = %e, "queued investigation failed");
                    }
                }
            });
        }
        let sweeper = q.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(runs::RECOVERY_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = sweeper.recover(&sentinel).await {
                    tracing::warn!(error = %e, "recovery sweep failed");
                }
            }
        });
        q
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an investigation; false when the queue is full (the caller reports it deferred).
    pub fn try_enqueue(&self, id: &str) -> bool {
        let mut pending = self.pending();
        if pending.contains(id) {
            return true;
        }
        match self.inner.tx.try_send(id.to_string()) {
            Ok(()) => {
                pending.insert(id.to_string());
                true
            }
            Err(_) => false,
        }
    }

    /// Investigations waiting (not yet picked by a worker).
    pub fn len(&self) -> usize {
        self.inner.capacity - self.inner.tx.capacity()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// Queues incidents nobody is running, while there is room.
    async fn recover(&self, sentinel: &Sentinel) -> Result<(), crate::service::ServiceError> {
        let room = self.inner.tx.capacity();
        if room == 0 {
            return Ok(());
        }
        for id in sentinel.orphans(room as i64 + 64).await? {
            if self.pending().contains(&id) {
                continue;
            }
            if !self.try_enqueue(&id) {
                break; // full again: the next sweep continues
            }
            tracing::info!(incident = %id, "continuing an incident nobody was running");
        }
        Ok(())
    }
}
