//! Run events: written to the append-only log first, then published to live subscribers.

use crate::store::{Store, StoreError};
use app::model::{AgentRole, RunEvent, RunEventKind};
use tokio::sync::broadcast;

#[derive(Clone)]
pub struct EventSink {
    store: Store,
    tx: broadcast::Sender<RunEvent>,
}

impl EventSink {
    pub fn new(store: Store) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self { store, tx }
    }

    /// Persists, then broadcasts. Subscribers that lag re-read the log from their last seq.
    pub async fn emit(
        &self,
        incident_id: &str,
        agent: AgentRole,
        kind: RunEventKind,
    ) -> Result<RunEvent, StoreError> {
        let ev = self.store.append_event(incident_id, agent, kind).await?;
        let _ = self.tx.send(ev.clone());
        Ok(ev)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RunEvent> {
        self.tx.subscribe()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
