//! Operator sessions and accepted signed-webhook deliveries: the two pieces of security
//! state that must survive a restart and be shared by every process on the database.

use super::*;
use chrono::{DateTime, Utc};

impl Store {
    pub async fn insert_session(
        &self,
        id_hash: &str,
        operator: &str,
        token_tag: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, operator, token_tag, created_at, expires_at) VALUES (?,?,?,?,?)",
        )
        .bind(id_hash)
        .bind(operator)
        .bind(token_tag)
        .bind(ts(Utc::now()))
        .bind(ts(expires_at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The operator of a live session opened with the current token.
    pub async fn session_operator(&self, id_hash: &str, token_tag: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT operator FROM sessions WHERE id_hash = ? AND token_tag = ? AND expires_at > ?",
        )
        .bind(id_hash)
        .bind(token_tag)
        .bind(ts(Utc::now()))
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Records a signed delivery's id. False if it was seen before (a replay).
    pub async fn record_delivery(&self, source: &str, delivery_id: &str) -> Result<bool> {
        let res = sqlx::query(
            "INSERT OR IGNORE INTO webhook_deliveries (source, delivery_id, received_at) VALUES (?,?,?)",
        )
        .bind(source)
        .bind(delivery_id)
        .bind(ts(Utc::now()))
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Forgets a delivery id (its alerts could not be stored, so the sender's retry must be
    /// accepted).
    pub async fn forget_delivery(&self, source: &str, delivery_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM webhook_deliveries WHERE source = ? AND delivery_id = ?")
            .bind(source)
            .bind(delivery_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Drops expired sessions and delivery ids older than `deliveries_before`.
    pub async fn prune_security_state(&self, deliveries_before: DateTime<Utc>) -> Result<u64> {
        let a = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(ts(Utc::now()))
            .execute(&self.writer)
            .await?
            .rows_affected();
        let b = sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < ?")
            .bind(ts(deliveries_before))
            .execute(&self.writer)
            .await?
            .rows_affected();
        Ok(a + b)
    }
}
