//! Run events: written to the append-only log first, then published to live subscribers.
//!
//! Group commit: an incident emits ~40 events (every model call, tool call and result,
//! handoff, decision). Awaiting a commit for each one made the runner wait on SQLite ~40
//! times per incident. Instead [`EventSink::emit`] queues the event in order and returns; one
//! writer task takes everything queued, inserts it with one multi-row INSERT (one commit,
//! shared by every incident running at the time) and only then broadcasts it — so a live
//! subscriber never sees an event that is not in the log. [`EventSink::flush`] waits until
//! everything queued before it is committed; the runner flushes before each checkpoint of the
//! incident row, so a saved checkpoint never runs ahead of its trajectory, and a run returns
//! only when its whole trajectory is on disk. The queue is bounded ([`QUEUE`]): a slow disk
//! slows the emitters down instead of growing memory.
//!
//! Several replicas on PostgreSQL: live subscribers must see every replica's events, in log
//! order. There the writer does not publish what it wrote; one tail task per process reads
//! the log by sequence number (`seq > last`, woken by the `NOTIFY` each append sends, and
//! every [`TAIL_POLL`] in case a notification was lost with its connection) and publishes
//! everything it finds — this replica's events and the others' alike. Appends are
//! serialised on PostgreSQL (store/events.rs), so the tail never skips a late commit.

use crate::store::{Store, StoreError};
use chrono::Utc;
use sentinel_model::{AgentRole, RunEvent, RunEventKind};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Events (and flush requests) that may wait for the writer.
pub const QUEUE: usize = 16 * 1024;
/// Most events in one INSERT (5 parameters each).
const MAX_BATCH: usize = 2000;
/// The tail's fallback poll of a shared log (it is normally woken by `NOTIFY`).
pub const TAIL_POLL: std::time::Duration = std::time::Duration::from_millis(500);
/// Events the tail reads per query.
const TAIL_PAGE: i64 = 1000;

enum Cmd {
    Event(RunEvent),
    Flush(oneshot::Sender<Result<(), String>>),
}

#[derive(Clone)]
pub struct EventSink {
    store: Store,
    tx: broadcast::Sender<RunEvent>,
    queue: mpsc::Sender<Cmd>,
}

impl EventSink {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn new(store: Store) -> Self {
        let (tx, _) = broadcast::channel(4096);
        let (queue, rx) = mpsc::channel(QUEUE);
        if store.is_postgres() {
            // The tail publishes; the writer waits until the tail knows where the log ends,
            // so nothing this process writes falls before the tail's starting point.
            let (ready, started) = oneshot::channel();
            tokio::spawn(tail_loop(store.clone(), tx.clone(), ready));
            tokio::spawn(write_loop(store.clone(), None, rx, Some(started)));
        } else {
            tokio::spawn(write_loop(store.clone(), Some(tx.clone()), rx, None));
        }
        Self { store, tx, queue }
    }

    /// Queues an event for the log (in emission order). Fails only if the writer is gone;
    /// a failed write is reported by the next [`flush`](Self::flush).
    pub async fn emit(
        &self,
        incident_id: &str,
        agent: AgentRole,
        kind: RunEventKind,
    ) -> Result<(), StoreError> {
        let ev = RunEvent {
            seq: 0,
            incident_id: incident_id.to_string(),
            ts: Utc::now(),
            agent,
            kind,
        };
        self.queue
            .send(Cmd::Event(ev))
            .await
            .map_err(|_| StoreError::Closed("the event writer has stopped"))
    }

    /// Waits until every event queued before this call is committed (or failed).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.queue
            .send(Cmd::Flush(reply))
            .await
            .map_err(|_| StoreError::Closed("the event writer has stopped"))?;
        rx.await
            .map_err(|_| StoreError::Closed("the event writer has stopped"))?
            .map_err(StoreError::Write)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RunEvent> {
        self.tx.subscribe()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Writes what is queued, in batches; publishes it when `live` is given (one process owns
/// the log), else leaves that to the tail, after `tail_started`.
async fn write_loop(
    store: Store,
    live: Option<broadcast::Sender<RunEvent>>,
    mut rx: mpsc::Receiver<Cmd>,
    tail_started: Option<oneshot::Receiver<()>>,
) {
    if let Some(started) = tail_started {
        let _ = started.await;
    }
    let mut events: Vec<RunEvent> = Vec::new();
    let mut flushes: Vec<oneshot::Sender<Result<(), String>>> = Vec::new();
    // A write error not yet reported to any flush.
    let mut unreported: Option<String> = None;
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(cmd) = next.take() {
            match cmd {
                Cmd::Event(ev) => events.push(ev),
                Cmd::Flush(r) => flushes.push(r),
            }
            if events.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        let result = if events.is_empty() {
            Ok(())
        } else {
            match write(&store, &mut events).await {
                Ok(()) => Ok(()),
                Err(e) => {
                    // One bad event must not take the batch down with it: write them one by
                    // one; only those that still fail are lost (and reported).
                    tracing::warn!(error = %e, events = events.len(), "event batch failed; writing one by one");
                    write_each(&store, &mut events).await
                }
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "events could not be written");
            unreported = Some(e);
        }
        for ev in events.drain(..) {
            if ev.seq > 0
                && let Some(live) = &live
            {
                let _ = live.send(ev);
            }
        }
        if !flushes.is_empty() {
            let reply = match unreported.take() {
                Some(e) => Err(e),
                None => Ok(()),
            };
            for f in flushes.drain(..) {
                let _ = f.send(reply.clone());
            }
        }
    }
}

/// Inserts `events` (in order) and sets their sequence numbers.
async fn write(store: &Store, events: &mut [RunEvent]) -> Result<(), StoreError> {
    let seqs = store.append_events(events).await?;
    for (ev, seq) in events.iter_mut().zip(seqs) {
        ev.seq = seq;
    }
    Ok(())
}

/// The fallback of a failed batch: one statement per event. Unwritten events keep `seq` 0.
async fn write_each(store: &Store, events: &mut [RunEvent]) -> Result<(), String> {
    let mut first_error = None;
    for ev in events.iter_mut() {
        match store.append_events(std::slice::from_ref(ev)).await {
            Ok(seqs) => ev.seq = seqs.first().copied().unwrap_or_default(),
            Err(e) => {
                tracing::error!(incident = %ev.incident_id, kind = ev.kind.name(), error = %e, "event lost");
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Publishes the shared log (PostgreSQL) in sequence order from where it ended at start:
/// woken by the appends' `NOTIFY`, and polling every [`TAIL_POLL`] whatever happens to the
/// listening connection.
async fn tail_loop(store: Store, live: broadcast::Sender<RunEvent>, ready: oneshot::Sender<()>) {
    let mut last = loop {
        match store.max_event_seq().await {
            Ok(seq) => break seq,
            Err(e) => {
                tracing::warn!(error = %e, "event tail: cannot read the end of the log; retrying");
                tokio::time::sleep(TAIL_POLL).await;
            }
        }
    };
    let mut listener = store.listen_events().await;
    let _ = ready.send(());
    loop {
        loop {
            match store.events_after(None, last, TAIL_PAGE).await {
                Ok(page) => {
                    let full = page.len() as i64 >= TAIL_PAGE;
                    for ev in page {
                        last = ev.seq;
                        let _ = live.send(ev);
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event tail: read failed");
                    break;
                }
            }
        }
        match listener.as_mut() {
            Some(l) => {
                // A notification, a dropped connection (it reconnects) or the poll period.
                let _ = tokio::time::timeout(TAIL_POLL, l.try_recv()).await;
            }
            None => {
                tokio::time::sleep(TAIL_POLL).await;
                listener = store.listen_events().await;
            }
        }
    }
}
