//! The bounded investigation queue. Webhooks can arrive far faster than agents investigate,
//! so ingestion never spawns a run per alert: it queues the incident id here (capacity
//! `SENTINEL_QUEUE_CAPACITY`, default 1024) and a fixed set of workers (`SENTINEL_QUEUE_WORKERS`,
//! default 2) run them. When the queue is full the incident is already persisted (status
//! `open`, with its alert rows); the webhook answers 429 + Retry-After and a re-drive sweep
//! queues such deferred incidents once there is room — also after a restart, since it finds
//! them in the database (ingested incidents still `open`). Scenario firing keeps its own
//! direct spawn (`Sentinel::fire_scenario`).

use crate::service::Sentinel;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the re-drive sweep looks for deferred incidents (when some may exist).
const REDRIVE_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct InvestigationQueue {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<String>,
    capacity: usize,
    /// Ids ever queued by this process (never queued twice).
    queued: Mutex<HashSet<String>>,
    /// Set when an enqueue was refused (and at start): the sweep has work to look for.
    maybe_deferred: AtomicBool,
    /// Kept here so the channel stays open even with zero workers.
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<String>>>,
}

impl InvestigationQueue {
    /// Starts `workers` investigation workers and the re-drive sweep.
    pub fn start(sentinel: Sentinel, capacity: usize, workers: usize) -> Self {
        let capacity = capacity.max(1);
        let (tx, rx) = mpsc::channel::<String>(capacity);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let q = Self {
            inner: Arc::new(Inner {
                tx,
                capacity,
                queued: Mutex::new(HashSet::new()),
                maybe_deferred: AtomicBool::new(true),
                rx,
            }),
        };
        for _ in 0..workers {
            let rx = q.inner.rx.clone();
            let sentinel = sentinel.clone();
            tokio::spawn(async move {
                loop {
                    let next = rx.lock().await.recv().await;
                    let Some(id) = next else { break };
                    if let Err(e) = sentinel.run_incident(&id, None).await {
                        tracing::error!(incident = %id, error = %e, "queued investigation failed");
                    }
                }
            });
        }
        let sweeper = q.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REDRIVE_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = sweeper.redrive(&sentinel).await {
                    sweeper.inner.maybe_deferred.store(true, Ordering::Relaxed);
                    tracing::warn!(error = %e, "investigation re-drive failed");
                }
            }
        });
        q
    }

    /// Queues an investigation; false when the queue is full (the caller reports it deferred).
    pub fn try_enqueue(&self, id: &str) -> bool {
        let mut queued = self.inner.queued.lock().unwrap_or_else(|e| e.into_inner());
        if queued.contains(id) {
            return true;
        }
        match self.inner.tx.try_send(id.to_string()) {
            Ok(()) => {
                queued.insert(id.to_string());
                true
            }
            Err(_) => {
                self.inner.maybe_deferred.store(true, Ordering::Relaxed);
                false
            }
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

    /// Queues ingested incidents that are still `open` and were never queued here.
    async fn redrive(&self, sentinel: &Sentinel) -> Result<(), sqlx::Error> {
        if self.inner.tx.capacity() == 0
            || !self.inner.maybe_deferred.swap(false, Ordering::Relaxed)
        {
            return Ok(());
        }
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT i.id FROM incidents i WHERE i.status = 'open' \
             AND EXISTS (SELECT 1 FROM incident_alerts a WHERE a.incident_id = i.id) \
             ORDER BY i.created_at LIMIT 5000",
        )
        .fetch_all(sentinel.store.pool())
        .await?;
        for id in ids {
            if !self.try_enqueue(&id) {
                break; // full again: maybe_deferred is set, next tick continues
            }
        }
        Ok(())
    }
}
