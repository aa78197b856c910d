//! Raw alerts: the ingestion writer's reads and writes, and retention.
//!
//! Every webhook alert is a row (the audit trail of what each repeat
//! carried, ~800 bytes), so an alert storm adds gigabytes; the per-incident counters live in
//! `incident_alerts` and survive pruning. Only alerts of incidents that are over (resolved,
//! escalated, failed) or of none are pruned, oldest first, in small batches on the write
//! connection so webhooks keep flowing in between.

use super::*;
use chrono::{DateTime, Utc};

/// Rows deleted per statement: a few milliseconds of the write connection.
pub const PRUNE_BATCH: i64 = 1000;

impl Store {
    /// Deletes the raw alerts received before `cutoff` whose incident is over; returns how
    /// many. The counts shown for each incident do not change.
    pub async fn prune_alerts(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        // Alert ids are UUIDv7, so ids below the cutoff's time prefix bound the scan to the
        // old end of the primary-key index; `received_at` decides.
        let ms = cutoff.timestamp_millis().max(0) as u64;
        let id_bound = format!("{:08x}-{:04x}", ms >> 16, ms & 0xffff);
        let mut total = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM alerts WHERE rowid IN (\
                   SELECT a.rowid FROM alerts a LEFT JOIN incidents i ON i.id = a.incident_id \
                   WHERE a.id < ?1 AND a.received_at < ?2 \
                     AND (i.id IS NULL OR i.status IN ('resolved', 'escalated', 'failed')) \
                   LIMIT ?3)",
            )
            .bind(&id_bound)
            .bind(ts(cutoff))
            .bind(PRUNE_BATCH)
            .execute(&self.writer)
            .await?
            .rows_affected();
            total += deleted;
            if deleted < PRUNE_BATCH as u64 {
                return Ok(total);
            }
            // Let queued webhook batches have the write connection.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Rows per INSERT statement of a batch (8 parameters each).
pub const ROWS_PER_STATEMENT: usize = 1000;

/// One raw alert as the ingestion writer stores it.
pub struct AlertRow {
    pub id: String,
    pub incident_id: Option<String>,
    pub source: &'static str,
    pub fingerprint: String,
    pub status: &'static str,
    pub outcome: &'static str,
    pub payload: String,
}

/// The newest incident of a dedup key, as the writer needs it to join or open.
pub struct FingerprintHead {
    pub incident_id: String,
    pub status: String,
    pub alert_count: i64,
    pub last_status: Option<String>,
}

impl Store {
    /// The newest incident opened for `fingerprint`, with its alert count and the status of
    /// its newest alert.
    pub async fn fingerprint_head(&self, fingerprint: &str) -> Result<Option<FingerprintHead>> {
        use sqlx::Row;
        let row = sqlx::query(
            "SELECT i.id, i.status, i.alert_count + COALESCE(r.repeats, 0) AS alert_count, r.last_status \
             FROM incidents i LEFT JOIN incident_alerts r ON r.incident_id = i.id \
             WHERE i.fingerprint = ? ORDER BY i.created_at DESC, i.rowid DESC LIMIT 1",
        )
        .bind(fingerprint)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| FingerprintHead {
            incident_id: row.get("id"),
            status: row.get("status"),
            alert_count: row.get("alert_count"),
            last_status: row.get("last_status"),
        }))
    }

    /// Inserts a batch of raw alerts: one statement (its own atomic commit; the trigger bumps
    /// the per-incident counters in it) when it fits, else one transaction.
    pub async fn insert_alert_rows(&self, rows: &[AlertRow], now: &str) -> Result<()> {
        if rows.len() <= ROWS_PER_STATEMENT {
            insert_rows(rows, now).build().execute(&self.writer).await?;
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            insert_rows(chunk, now).build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether the database answers (the health check).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// `INSERT INTO alerts … VALUES (…), (…)` for `rows`.
fn insert_rows<'a>(rows: &'a [AlertRow], now: &'a str) -> sqlx::QueryBuilder<'a, sqlx::Sqlite> {
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO alerts (id, incident_id, source, fingerprint, status, outcome, received_at, payload_json) ",
    );
    q.push_values(rows, |mut b, r| {
        b.push_bind(&r.id)
            .push_bind(&r.incident_id)
            .push_bind(r.source)
            .push_bind(&r.fingerprint)
            .push_bind(r.status)
            .push_bind(r.outcome)
            .push_bind(now)
            .push_bind(&r.payload);
    });
    q
}
