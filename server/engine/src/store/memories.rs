//! Episodic memory rows: one per finished incident, with its embedding as a little-endian f32
//! blob.

use super::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// A `memories` row as read, on either engine.
#[derive(sqlx::FromRow)]
struct MemoryRow {
    incident_id: String,
    service: String,
    severity: Option<String>,
    failure_class: String,
    symptoms: String,
    diagnosis: String,
    action: String,
    approval: String,
    status: String,
    mttr_ms: f64,
    created_at: String,
    embedding: Vec<u8>,
}

pub fn encode_vec(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn decode_vec(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Store {
    pub async fn insert_memory(
        &self,
        m: &MemoryRecord,
        embedder: &str,
        embedding: &[f32],
    ) -> Result<i64> {
        // A second entry for the same incident replaces the first (its postmortem stays).
        let id: i64 = db!(self, write |p| sqlx::query_scalar(
            "INSERT INTO memories (incident_id, service, severity, failure_class, symptoms, diagnosis, action, approval, status, mttr_ms, created_at, embedder, embedding) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) \
             ON CONFLICT (incident_id) DO UPDATE SET service = excluded.service, severity = excluded.severity, \
             failure_class = excluded.failure_class, symptoms = excluded.symptoms, diagnosis = excluded.diagnosis, \
             action = excluded.action, approval = excluded.approval, status = excluded.status, \
             mttr_ms = excluded.mttr_ms, created_at = excluded.created_at, embedder = excluded.embedder, \
             embedding = excluded.embedding RETURNING id",
        )
        .bind(&m.incident_id)
        .bind(&m.service)
        .bind(&m.severity)
        .bind(&m.failure_class)
        .bind(&m.symptoms)
        .bind(&m.diagnosis)
        .bind(&m.action)
        .bind(&m.approval)
        .bind(&m.status)
        .bind(m.mttr_ms)
        .bind(ts(m.created_at))
        .bind(embedder)
        .bind(encode_vec(embedding))
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    /// All memories made with `embedder`, oldest first, with their vectors.
    pub async fn load_memories(&self, embedder: &str) -> Result<Vec<(MemoryRecord, Vec<f32>)>> {
        let rows: Vec<MemoryRow> = db!(
            self,
            read | p
                | sqlx::query_as("SELECT * FROM memories WHERE embedder = $1 ORDER BY id")
                    .bind(embedder)
                    .fetch_all(p)
                    .await
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    MemoryRecord {
                        incident_id: r.incident_id,
                        service: r.service,
                        severity: r.severity,
                        failure_class: r.failure_class,
                        symptoms: r.symptoms,
                        diagnosis: r.diagnosis,
                        action: r.action,
                        approval: r.approval,
                        status: r.status,
                        mttr_ms: r.mttr_ms,
                        created_at: parse_ts(&r.created_at),
                    },
                    decode_vec(&r.embedding),
                )
            })
            .collect())
    }

    /// Keeps the postmortem draft with an incident's memory entry (false: no entry).
    pub async fn set_memory_postmortem(&self, incident_id: &str, text: &str) -> Result<bool> {
        Ok(db!(
            self,
            write
                | p
                | sqlx::query("UPDATE memories SET postmortem = $1 WHERE incident_id = $2")
                    .bind(text)
                    .bind(incident_id)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
        )? > 0)
    }

    /// The postmortem draft kept with an incident's memory entry.
    pub async fn memory_postmortem(&self, incident_id: &str) -> Result<Option<String>> {
        let text: Option<Option<String>> = db!(self, read |p| sqlx::query_scalar(
            "SELECT postmortem FROM memories WHERE incident_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(incident_id)
        .fetch_optional(p)
        .await)?;
        Ok(text.flatten())
    }

    pub async fn count_memories(&self) -> Result<i64> {
        Ok(db!(
            self,
            read | p
                | sqlx::query_scalar("SELECT COUNT(*) FROM memories")
                    .fetch_one(p)
                    .await
        )?)
    }
}
