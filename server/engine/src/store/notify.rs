//! What the notification dispatcher keeps: its place in the event log, per-incident channel
//! state (a Slack message to update, an open PagerDuty alert) and dead letters.

use super::*;
use chrono::Utc;

/// A delivery that failed every attempt, kept so nothing is lost silently.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub channel: String,
    pub incident_id: String,
    pub event: String,
    pub payload: String,
    pub error: String,
    pub attempts: i64,
    pub created_at: chrono::DateTime<Utc>,
}

impl Store {
    /// The dispatcher's cursor; on first use it starts at the log's end (history is never
    /// announced again).
    pub async fn notify_cursor(&self, name: &str) -> Result<i64> {
        db!(self, write |p| sqlx::query(
            // `WHERE true`: SQLite would read the ON of ON CONFLICT as a join's otherwise.
            "INSERT INTO notify_cursor (name, seq) SELECT $1, COALESCE(MAX(seq), 0) FROM events \
             WHERE true ON CONFLICT DO NOTHING"
        )
        .bind(name)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(db!(
            self,
            write
                | p
                | sqlx::query_scalar("SELECT seq FROM notify_cursor WHERE name = $1")
                    .bind(name)
                    .fetch_one(p)
                    .await
        )?)
    }

    /// Drops the cursors under `prefix` not named in `keep` (channels no longer configured).
    pub async fn drop_notify_cursors_except(&self, prefix: &str, keep: &[String]) -> Result<u64> {
        let rows: Vec<String> = db!(
            self,
            write
                | p
                | sqlx::query_scalar("SELECT name FROM notify_cursor")
                    .fetch_all(p)
                    .await
        )?;
        let mut n = 0;
        for name in rows {
            if name.starts_with(prefix) && !keep.contains(&name) {
                n += db!(
                    self,
                    write
                        | p
                        | sqlx::query("DELETE FROM notify_cursor WHERE name = $1")
                            .bind(&name)
                            .execute(p)
                            .await
                            .map(|r| r.rows_affected())
                )?;
            }
        }
        Ok(n)
    }

    pub async fn set_notify_cursor(&self, name: &str, seq: i64) -> Result<()> {
        // Never backwards (two-argument MAX is SQLite's, GREATEST PostgreSQL's: CASE is both).
        db!(self, write |p| sqlx::query(
            "UPDATE notify_cursor SET seq = CASE WHEN seq > $1 THEN seq ELSE $1 END WHERE name = $2"
        )
        .bind(seq)
        .bind(name)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn notify_state(&self, incident_id: &str, channel: &str) -> Result<Option<String>> {
        Ok(db!(
            self,
            read | p
                | sqlx::query_scalar(
                    "SELECT state FROM notify_state WHERE incident_id = $1 AND channel = $2",
                )
                .bind(incident_id)
                .bind(channel)
                .fetch_optional(p)
                .await
        )?)
    }

    pub async fn set_notify_state(
        &self,
        incident_id: &str,
        channel: &str,
        state: &str,
    ) -> Result<()> {
        db!(self, write |p| sqlx::query(
            "INSERT INTO notify_state (incident_id, channel, state, updated_at) VALUES ($1,$2,$3,$4) \
             ON CONFLICT (incident_id, channel) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(incident_id)
        .bind(channel)
        .bind(state)
        .bind(ts(Utc::now()))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_dead_letter(
        &self,
        channel: &str,
        incident_id: &str,
        event: &str,
        payload: &str,
        error: &str,
        attempts: u32,
    ) -> Result<()> {
        db!(self, write |p| sqlx::query(
            "INSERT INTO notify_dead_letters (channel, incident_id, event, payload, error, attempts, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(channel)
        .bind(incident_id)
        .bind(event)
        .bind(payload)
        .bind(error)
        .bind(i64::from(attempts))
        .bind(ts(Utc::now()))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Dead letters, newest first, of one incident or of all.
    pub async fn dead_letters(&self, incident_id: Option<&str>) -> Result<Vec<DeadLetter>> {
        type Row = (i64, String, String, String, String, String, i64, String);
        let rows: Vec<Row> = db!(self, read |p| sqlx::query_as(
            "SELECT id, channel, incident_id, event, payload, error, attempts, created_at FROM notify_dead_letters \
             WHERE ($1 IS NULL OR incident_id = $1) ORDER BY id DESC LIMIT 1000",
        )
        .bind(incident_id)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, channel, incident_id, event, payload, error, attempts, created)| DeadLetter {
                    id,
                    channel,
                    incident_id,
                    event,
                    payload,
                    error,
                    attempts,
                    created_at: parse_ts(&created),
                },
            )
            .collect())
    }
}
