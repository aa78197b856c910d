//! The append-only event log (the trajectory). Triggers in the schema forbid UPDATE/DELETE.

use super::*;
use app::model::{AgentRole, RunEvent, RunEventKind};
use chrono::Utc;
use sqlx::Row;

impl Store {
    /// Appends one event and returns it with its sequence number.
    pub async fn append_event(
        &self,
        incident_id: &str,
        agent: AgentRole,
        kind: RunEventKind,
    ) -> Result<RunEvent> {
        let now = Utc::now();
        let row = sqlx::query(
            "INSERT INTO events (incident_id, ts, agent, kind, payload_json) VALUES (?,?,?,?,?) RETURNING seq",
        )
        .bind(incident_id)
        .bind(ts(now))
        .bind(agent.as_str())
        .bind(kind.name())
        .bind(to_json(&kind))
        .fetch_one(&self.writer)
        .await?;
        Ok(RunEvent {
            seq: row.get(0),
            incident_id: incident_id.to_string(),
            ts: now,
            agent,
            kind,
        })
    }

    /// The newest sequence number (0 when the log is empty).
    pub async fn max_event_seq(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }

    /// Events with `seq > after`, oldest first; of one incident or of all.
    pub async fn events_after(
        &self,
        incident_id: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RunEvent>> {
        let rows = sqlx::query(
            "SELECT seq, incident_id, ts, agent, payload_json FROM events WHERE seq > ?1 AND (?2 IS NULL OR incident_id = ?2) \
             ORDER BY seq LIMIT ?3",
        )
        .bind(after)
        .bind(incident_id)
        .bind(limit.clamp(1, 100_000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RunEvent {
                    seq: r.get("seq"),
                    incident_id: r.get("incident_id"),
                    ts: parse_ts(r.get::<&str, _>("ts")),
                    agent: AgentRole::parse(r.get::<&str, _>("agent"))
                        .unwrap_or(AgentRole::Orchestrator),
                    kind: from_json("events.payload_json", r.get::<&str, _>("payload_json"))?,
                })
            })
            .collect()
    }
}
