//! Episodic memory: finished incidents and exact top-k cosine search over their embeddings.
//! Vectors live in one contiguous, normalised f32 matrix in memory (loaded from SQLite at start,
//! appended on insert), so a search is one pass of dot products.

use super::embed::{EmbedError, Embedder};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryRecord {
    pub incident_id: String,
    pub service: String,
    pub severity: Option<String>,
    pub failure_class: String,
    pub symptoms: String,
    pub diagnosis: String,
    pub action: String,
    pub approval: String,
    pub status: String,
    pub mttr_ms: f64,
    pub created_at: DateTime<Utc>,
}

impl MemoryRecord {
    /// The text that is embedded: what the incident looked like, then what it was.
    pub fn embedding_text(&self) -> String {
        format!("{} {} | {}", self.service, self.symptoms, self.diagnosis)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub record: MemoryRecord,
    pub similarity: f32,
}

/// Contiguous row-major matrix of unit vectors.
#[derive(Default)]
pub struct VectorIndex {
    dim: usize,
    data: Vec<f32>,
}

impl VectorIndex {
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            data: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        if self.dim == 0 {
            0
        } else {
            self.data.len() / self.dim
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, v: &[f32]) {
        assert_eq!(v.len(), self.dim, "vector dimension mismatch");
        self.data.extend_from_slice(v);
    }

    pub fn reserve(&mut self, rows: usize) {
        self.data.reserve(rows * self.dim);
    }

    /// Indices and scores of the `k` most similar rows, best first.
    pub fn top_k(&self, q: &[f32], k: usize) -> Vec<(usize, f32)> {
        if k == 0 || self.is_empty() || q.len() != self.dim {
            return Vec::new();
        }
        let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
        let mut floor = f32::NEG_INFINITY;
        for (i, row) in self.data.chunks_exact(self.dim).enumerate() {
            let s = dot(row, q);
            if best.len() < k || s > floor {
                let pos = best.partition_point(|&(_, b)| b >= s);
                best.insert(pos, (i, s));
                if best.len() > k {
                    best.pop();
                }
                if best.len() == k {
                    floor = best[k - 1].1;
                }
            }
        }
        best
    }
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators let the compiler vectorise the loop.
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
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
        let mut index = VectorIndex::new(embedder.dim());
        index.reserve(rows.len());
        let mut records = Vec::with_capacity(rows.len());
        for (r, v) in rows {
            if v.len() == embedder.dim() {
                index.push(&v);
                records.push(r);
            }
        }
        Ok(Self {
            store,
            embedder,
            inner: Arc::new(RwLock::new(Inner { index, records })),
        })
    }

    pub fn embedder_name(&self) -> &str {
        self.embedder.name()
    }

    pub fn len(&self) -> usize {
        self.inner.read().map(|i| i.records.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub async fn remember(&self, record: MemoryRecord) -> Result<(), MemoryError> {
        let text = record.embedding_text();
        let v = self.embedder.embed(&[&text])?.pop().unwrap_or_default();
        self.store
            .insert_memory(&record, self.embedder.name(), &v)
            .await?;
        if let Ok(mut inner) = self.inner.write() {
            if let Some(pos) = inner
                .records
                .iter()
                .position(|r| r.incident_id == record.incident_id)
            {
                // Re-remembering an incident replaces its row in place.
                let dim = inner.index.dim;
                inner.index.data[pos * dim..(pos + 1) * dim].copy_from_slice(&v);
                inner.records[pos] = record;
            } else {
                inner.index.push(&v);
                inner.records.push(record);
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
