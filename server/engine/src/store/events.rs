//! The append-only event log (the trajectory). Triggers in the schema forbid UPDATE and
//! DELETE (and TRUNCATE on PostgreSQL) on both engines.

use super::*;
use sentinel_model::{AgentRole, RunEvent};

impl Store {
    /// Appends `events` in order (one statement per 2,000, one transaction) and returns
    /// their sequence numbers, in the same order.
    pub async fn append_events(&self, events: &[RunEvent]) -> Result<Vec<i64>> {
        const CHUNK: usize = 2000;
        db!(
            self,
            write | p,
            pg | {
                let mut tx = p.begin().await?;
                if pg {
                    // Sequence numbers are taken at INSERT but become visible at COMMIT; two
                    // replicas appending at once could commit 8 before 7, and a reader tailing
                    // `seq > 7`… would skip 7 for good. One appender at a time across the fleet
                    // makes commit order sequence order (released with the transaction).
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(EVENTS_LOCK)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut seqs = Vec::with_capacity(events.len());
                for chunk in events.chunks(CHUNK) {
                    let mut q = sqlx::QueryBuilder::new(
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
                if pg {
                    // Wakes every replica's tail (delivered at commit, once per transaction).
                    sqlx::query("SELECT pg_notify($1, '')")
                        .bind(EVENTS_CHANNEL)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(seqs)
            }
        )
    }

    /// A listener for the appends' notifications (PostgreSQL only; `None` on SQLite or when
    /// the server cannot be reached now — the caller polls meanwhile).
    pub async fn listen_events(&self) -> Option<sqlx::postgres::PgListener> {
        let pool = self.pg_pool()?;
        let mut l = match sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for event notifications; polling");
                return None;
            }
        };
        match l.listen(EVENTS_CHANNEL).await {
            Ok(()) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for event notifications; polling");
                None
            }
        }
    }

    /// The newest sequence number (0 when the log is empty).
    pub async fn max_event_seq(&self) -> Result<i64> {
        Ok(db!(
            self,
            read | p
                | sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
                    .fetch_one(p)
                    .await
        )?)
    }

    /// Events with `seq > after`, oldest first; of one incident or of all.
    pub async fn events_after(
        &self,
        incident_id: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RunEvent>> {
        let rows: Vec<(i64, String, String, String, String)> = db!(self, read |p| sqlx::query_as(
            "SELECT seq, incident_id, ts, agent, payload_json FROM events WHERE seq > $1 AND ($2 IS NULL OR incident_id = $2) \
             ORDER BY seq LIMIT $3",
        )
        .bind(after)
        .bind(incident_id)
        .bind(limit.clamp(1, 100_000))
        .fetch_all(p)
        .await)?;
        rows.into_iter()
            .map(|(seq, incident_id, t, agent, payload)| {
                Ok(RunEvent {
                    seq,
                    incident_id,
                    ts: parse_ts(&t),
                    agent: AgentRole::parse(&agent).unwrap_or(AgentRole::Orchestrator),
                    kind: from_json("events.payload_json", &payload)?,
                })
            })
            .collect()
    }
}

/// The advisory lock that serialises event appends on PostgreSQL.
const EVENTS_LOCK: i64 = 0x5e47_0002;
/// The `NOTIFY` channel of event appends.
const EVENTS_CHANNEL: &str = "sentinel_events";
