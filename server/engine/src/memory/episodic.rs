//! Episodic memory: finished incidents and top-k cosine search over their embeddings.
//! Vectors live in a contiguous, normalised matrix in memory ([`VectorIndex`]: f32 plus sign bits
//! for fast scans), loaded from SQLite at start and appended on insert.

use super::embed::{EmbedError, Embedder};
pub use super::index::VectorIndex;
use super::index::dot;
use crate::store::{Store, StoreError};

use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

// A memory is a row of the `memories` table: the type lives with its repository
// (`store::memories`); what it means for search is here.
pub use crate::store::MemoryRecord;

impl MemoryRecord {
    /// The text that is embedded: the alert as triage saw it, i.e. the first ` | ` part of
    /// `symptoms` (the runner starts it with `IncidentRecord::alert_text()`), because triage
    /// searches with exactly that text before anything else is known. Log signatures and the
    /// diagnosis are stored and returned but not embedded: mixed in, they pulled a repeat of the
    /// very same alert down to 0.75 with MiniLM, under the 0.85 "same incident" bar.
    pub fn embedding_text(&self) -> String {
        let alert = self.symptoms.split(" | ").next().unwrap_or_default().trim();
        if alert.is_empty() {
            format!("{} {}", self.service, self.diagnosis)
        } else {
            alert.to_string()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub record: MemoryRecord,
    pub similarity: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

struct Inner {
    index: VectorIndex,
    records: Vec<MemoryRecord>,
    /// incident id → row, so re-remembering an incident replaces its row.
    rows: HashMap<String, usize>,
}

impl Inner {
    fn upsert(&mut self, record: MemoryRecord, v: &[f32]) {
        if let Some(&pos) = self.rows.get(&record.incident_id) {
            self.index.set(pos, v);
            self.records[pos] = record;
        } else {
            self.rows
                .insert(record.incident_id.clone(), self.records.len());
            self.index.push(v);
            self.records.push(record);
        }
    }
}

/// Episodic memory backed by SQLite with an in-memory index.
#[derive(Clone)]
pub struct EpisodicMemory {
    store: Store,
    embedder: Arc<dyn Embedder>,
    inner: Arc<RwLock<Inner>>,
}

impl EpisodicMemory {
    /// Loads every stored memory of this embedder into the index.
    pub async fn load(store: Store, embedder: Arc<dyn Embedder>) -> Result<Self, MemoryError> {
        let rows = store.load_memories(embedder.name()).await?;
        let mut inner = Inner {
            index: VectorIndex::new(embedder.dim()),
            records: Vec::with_capacity(rows.len()),
            rows: HashMap::with_capacity(rows.len()),
        };
        inner.index.reserve(rows.len());
        for (r, v) in rows {
            if v.len() == embedder.dim() {
                inner.upsert(r, &v);
            }
        }
        Ok(Self {
            store,
            embedder,
            inner: Arc::new(RwLock::new(inner)),
        })
    }

    pub fn embedder_name(&self) -> &str {
        self.embedder.name()
    }

    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    pub fn len(&self) -> usize {
        self.inner.read().map(|i| i.records.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub async fn remember(&self, record: MemoryRecord) -> Result<(), MemoryError> {
        self.remember_many(vec![record]).await
    }

    /// Stores many finished incidents, embedding them in batches (an import or a backfill).
    pub async fn remember_many(&self, records: Vec<MemoryRecord>) -> Result<(), MemoryError> {
        for chunk in records.chunks(super::minilm::BATCH) {
            let texts: Vec<String> = chunk.iter().map(|r| r.embedding_text()).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let vectors = self.embedder.embed(&refs)?;
            for (record, v) in chunk.iter().zip(&vectors) {
                self.store
                    .insert_memory(record, self.embedder.name(), v)
                    .await?;
                if let Ok(mut inner) = self.inner.write() {
                    inner.upsert(record.clone(), v);
                }
            }
        }
        Ok(())
    }

    /// Cosine similarity of two texts under this memory's embedder.
    pub fn similarity(&self, a: &str, b: &str) -> Result<f32, MemoryError> {
        let v = self.embedder.embed(&[a, b])?;
        Ok(dot(&v[0], &v[1]))
    }

    pub fn search(&self, text: &str, k: usize) -> Result<Vec<Hit>, MemoryError> {
        let q = self.embedder.embed(&[text])?.pop().unwrap_or_default();
        let inner = self
            .inner
            .read()
            .map_err(|_| EmbedError::Failed("memory lock poisoned".into()))?;
        Ok(inner
            .index
            .top_k(&q, k)
            .into_iter()
            .map(|(i, s)| Hit {
                record: inner.records[i].clone(),
                similarity: s,
            })
            .collect())
    }
}
