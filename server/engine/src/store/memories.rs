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

use sqlx::Row;

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
        let row = sqlx::query(
            "INSERT OR REPLACE INTO memories (incident_id, service, severity, failure_class, symptoms, diagnosis, action, approval, status, mttr_ms, created_at, embedder, embedding) \
             VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
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
        .fetch_one(&self.writer)
        .await?;
        Ok(row.get(0))
    }

    /// All memories made with `embedder`, oldest first, with their vectors.
    pub async fn load_memories(&self, embedder: &str) -> Result<Vec<(MemoryRecord, Vec<f32>)>> {
        let rows = sqlx::query("SELECT * FROM memories WHERE embedder = ? ORDER BY id")
            .bind(embedder)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    MemoryRecord {
                        incident_id: r.get("incident_id"),
                        service: r.get("service"),
                        severity: r.get("severity"),
                        failure_class: r.get("failure_class"),
                        symptoms: r.get("symptoms"),
                        diagnosis: r.get("diagnosis"),
                        action: r.get("action"),
                        approval: r.get("approval"),
                        status: r.get("status"),
                        mttr_ms: r.get("mttr_ms"),
                        created_at: parse_ts(r.get::<&str, _>("created_at")),
                    },
                    decode_vec(r.get::<&[u8], _>("embedding")),
                )
            })
            .collect())
    }

    /// Keeps the postmortem draft with an incident's memory entry (false: no entry).
    pub async fn set_memory_postmortem(&self, incident_id: &str, text: &str) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE memories SET postmortem = ? WHERE incident_id = ?")
                .bind(text)
                .bind(incident_id)
                .execute(&self.writer)
                .await?
                .rows_affected()
                > 0,
        )
    }

    /// The postmortem draft kept with an incident's memory entry.
    pub async fn memory_postmortem(&self, incident_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT postmortem FROM memories WHERE incident_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(incident_id)
        .fetch_optional(&self.pool)
        .await?
        .flatten())
    }

    pub async fn count_memories(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM memories")
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }
}
