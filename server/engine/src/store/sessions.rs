//! Operator sessions and accepted signed-webhook deliveries: the two pieces of security
//! state that must survive a restart and be shared by every process on the database.

use super::*;
use chrono::{DateTime, Utc};

/// A live browser session as listed to operators (the id is the SHA-256 of the cookie, which
/// cannot be turned back into the cookie).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionRow {
    pub id_hash: String,
    pub operator: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    pub async fn insert_session(
        &self,
        id_hash: &str,
        operator: &str,
        token_tag: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        db!(self, write |p| sqlx::query(
            "INSERT INTO sessions (id_hash, operator, token_tag, created_at, expires_at) VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(id_hash)
        .bind(operator)
        .bind(token_tag)
        .bind(ts(Utc::now()))
        .bind(ts(expires_at))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The operator and token tag of a live (unexpired) session.
    pub async fn live_session(&self, id_hash: &str) -> Result<Option<(String, String)>> {
        Ok(db!(self, read |p| sqlx::query_as(
            "SELECT operator, token_tag FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(ts(Utc::now()))
        .fetch_optional(p)
        .await)?)
    }

    /// Live sessions, newest first: of one operator, or of everyone.
    pub async fn list_sessions(&self, operator: Option<&str>) -> Result<Vec<SessionRow>> {
        let rows: Vec<(String, String, String, String)> = db!(self, read |p| sqlx::query_as(
            "SELECT id_hash, operator, created_at, expires_at FROM sessions \
             WHERE expires_at > $1 AND ($2 IS NULL OR operator = $2) ORDER BY created_at DESC LIMIT 1000",
        )
        .bind(ts(Utc::now()))
        .bind(operator)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(id_hash, operator, created, expires)| SessionRow {
                id_hash,
                operator,
                created_at: parse_ts(&created),
                expires_at: parse_ts(&expires),
            })
            .collect())
    }

    /// Ends every session of `operator`; returns how many.
    pub async fn delete_sessions_of(&self, operator: &str) -> Result<u64> {
        Ok(db!(
            self,
            write
                | p
                | sqlx::query("DELETE FROM sessions WHERE operator = $1")
                    .bind(operator)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
        )?)
    }

    /// Ends one session; false if there was none.
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        Ok(db!(
            self,
            write
                | p
                | sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
        )? == 1)
    }

    /// Records a signed delivery's id. False if it was seen before (a replay).
    pub async fn record_delivery(&self, source: &str, delivery_id: &str) -> Result<bool> {
        let affected = db!(self, write |p| sqlx::query(
            "INSERT INTO webhook_deliveries (source, delivery_id, received_at) VALUES ($1,$2,$3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(source)
        .bind(delivery_id)
        .bind(ts(Utc::now()))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(affected == 1)
    }

    /// Forgets a delivery id (its alerts could not be stored, so the sender's retry must be
    /// accepted).
    pub async fn forget_delivery(&self, source: &str, delivery_id: &str) -> Result<()> {
        db!(
            self,
            write
                | p
                | sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE source = $1 AND delivery_id = $2"
                )
                .bind(source)
                .bind(delivery_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        )?;
        Ok(())
    }

    /// Drops expired sessions and delivery ids older than `deliveries_before`.
    pub async fn prune_security_state(&self, deliveries_before: DateTime<Utc>) -> Result<u64> {
        let a = db!(
            self,
            write
                | p
                | sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(ts(Utc::now()))
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
        )?;
        let b = db!(
            self,
            write
                | p
                | sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
                    .bind(ts(deliveries_before))
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
        )?;
        Ok(a + b)
    }
}
