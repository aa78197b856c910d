//! Retention of raw alerts. Every webhook alert is a row (the audit trail of what each repeat
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
