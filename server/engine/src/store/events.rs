//! The append-only event log (the trajectory). Triggers in the schema forbid UPDATE/DELETE.

use super::*;
use sentinel_model::{AgentRole, RunEvent};
use sqlx::Row;

impl Store {
    /// Appends `events` in order (one statement per 2,000, one transaction) and returns
    /// their sequence numbers, in the same order.
    pub async fn append_events(&self, events: &[RunEvent]) -> Result<Vec<i64>> {
        const CHUNK: usize = 2000;
        let mut tx = self.writer.begin().await?;
        let mut seqs = Vec::with_capacity(events.len());
        for chunk in events.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO events (incident_id, ts, agent, kind, payload_json) ",
            );
            q.push_values(chunk, |mut b, ev| {
                b.push_bind(&ev.incident_id)
                    .push_bind(ts(ev.ts))
                    .push_bind(ev.agent.as_str())
                    .push_bind(ev.kind.name())
                    .push_bind(to_json(&ev.kind));
            });
            q.push(" RETURNING seq");
            let mut got: Vec<i64> = q.build_query_scalar().fetch_all(&mut *tx).await?;
            // Rows get increasing sequence numbers in VALUES order; RETURNING's own order
            // is unspecified.
            got.sort_unstable();
            seqs.extend(got);
        }
        tx.commit().await?;
        Ok(seqs)
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
