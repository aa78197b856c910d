//! What the notification dispatcher keeps: its place in the event log, per-incident channel
//! state (a Slack message to update, an open PagerDuty alert) and dead letters.

use super::*;
use chrono::Utc;
use sqlx::Row;

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
        sqlx::query("INSERT OR IGNORE INTO notify_cursor (name, seq) SELECT ?, COALESCE(MAX(seq), 0) FROM events")
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(sqlx::query("SELECT seq FROM notify_cursor WHERE name = ?")
            .bind(name)
            .fetch_one(&self.writer)
            .await?
            .get(0))
    }

    /// Drops the cursors under `prefix` not named in `keep` (channels no longer configured).
    pub async fn drop_notify_cursors_except(&self, prefix: &str, keep: &[String]) -> Result<u64> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT name FROM notify_cursor")
            .fetch_all(&self.writer)
            .await?;
        let mut n = 0;
        for name in rows {
            if name.starts_with(prefix) && !keep.contains(&name) {
                n += sqlx::query("DELETE FROM notify_cursor WHERE name = ?")
                    .bind(&name)
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
            }
        }
        Ok(n)
    }

    pub async fn set_notify_cursor(&self, name: &str, seq: i64) -> Result<()> {
        sqlx::query("UPDATE notify_cursor SET seq = MAX(seq, ?) WHERE name = ?")
            .bind(seq)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn notify_state(&self, incident_id: &str, channel: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT state FROM notify_state WHERE incident_id = ? AND channel = ?",
        )
        .bind(incident_id)
        .bind(channel)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn set_notify_state(
        &self,
        incident_id: &str,
        channel: &str,
        state: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO notify_state (incident_id, channel, state, updated_at) VALUES (?,?,?,?) \
             ON CONFLICT (incident_id, channel) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(incident_id)
        .bind(channel)
        .bind(state)
        .bind(ts(Utc::now()))
        .execute(&self.writer)
        .await?;
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
        sqlx::query(
            "INSERT INTO notify_dead_letters (channel, incident_id, event, payload, error, attempts, created_at) VALUES (?,?,?,?,?,?,?)",
        )
        .bind(channel)
        .bind(incident_id)
        .bind(event)
        .bind(payload)
        .bind(error)
        .bind(i64::from(attempts))
        .bind(ts(Utc::now()))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Dead letters, newest first, of one incident or of all.
    pub async fn dead_letters(&self, incident_id: Option<&str>) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, channel, incident_id, event, payload, error, attempts, created_at FROM notify_dead_letters \
             WHERE (?1 IS NULL OR incident_id = ?1) ORDER BY id DESC LIMIT 1000",
        )
        .bind(incident_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| DeadLetter {
                id: r.get("id"),
                channel: r.get("channel"),
                incident_id: r.get("incident_id"),
                event: r.get("event"),
                payload: r.get("payload"),
                error: r.get("error"),
                attempts: r.get("attempts"),
                created_at: parse_ts(r.get::<&str, _>("created_at")),
            })
            .collect())
    }
}
