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
            let deleted = db!(
                self,
                write | p,
                pg | {
                    let key = row_key(pg);
                    let sql = format!(
                        "DELETE FROM alerts WHERE {key} IN (\
                       SELECT a.{key} FROM alerts a LEFT JOIN incidents i ON i.id = a.incident_id \
                       WHERE a.id < $1 AND a.received_at < $2 \
                         AND (i.id IS NULL OR i.status IN ('resolved', 'escalated', 'failed')) \
                       LIMIT $3)"
                    );
                    sqlx::query(&sql)
                        .bind(&id_bound)
                        .bind(ts(cutoff))
                        .bind(PRUNE_BATCH)
                        .execute(p)
                        .await
                        .map(|r| r.rows_affected())
                }
            )?;
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
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FingerprintHead {
    #[sqlx(rename = "id")]
    pub incident_id: String,
    pub status: String,
    pub alert_count: i64,
    pub last_status: Option<String>,
}

impl FingerprintHead {
    /// Whether a new firing alert of this key joins this incident: until the source reports
    /// it resolved or Sentinel resolves it (an escalated incident keeps collecting repeats).
    pub fn joinable(&self) -> bool {
        self.status != "resolved" && self.last_status.as_deref() != Some("resolved")
    }
}

/// [`Store::fingerprint_head`]'s query; the row key orders same-microsecond incidents.
pub(super) fn head_sql(pg: bool) -> String {
    format!(
        "SELECT i.id, i.status, i.alert_count + COALESCE(r.repeats, 0) AS alert_count, r.last_status \
         FROM incidents i LEFT JOIN incident_alerts r ON r.incident_id = i.id \
         WHERE i.fingerprint = $1 ORDER BY i.created_at DESC, i.{} DESC LIMIT 1",
        row_key(pg)
    )
}

impl Store {
    /// The newest incident opened for `fingerprint`, with its alert count and the status of
    /// its newest alert.
    pub async fn fingerprint_head(&self, fingerprint: &str) -> Result<Option<FingerprintHead>> {
        Ok(db!(
            self,
            read | p,
            pg | sqlx::query_as(&head_sql(pg))
                .bind(fingerprint)
                .fetch_optional(p)
                .await
        )?)
    }

    /// Inserts a batch of raw alerts: one statement (its own atomic commit; the trigger bumps
    /// the per-incident counters in it) when it fits, else one transaction.
    pub async fn insert_alert_rows(&self, rows: &[AlertRow], now: &str) -> Result<()> {
        db!(
            self,
            write | p | {
                if rows.len() <= ROWS_PER_STATEMENT {
                    let mut q = sqlx::QueryBuilder::new(INSERT_ALERTS);
                    push_rows(&mut q, rows, now);
                    q.build().execute(p).await?;
                    return Ok(());
                }
                let mut tx = p.begin().await?;
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut q = sqlx::QueryBuilder::new(INSERT_ALERTS);
                    push_rows(&mut q, chunk, now);
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }
        )
    }

    /// Whether the database answers (the health check).
    pub async fn ping(&self) -> Result<()> {
        db!(
            self,
            read | p
                | sqlx::query("SELECT 1")
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
        )?;
        Ok(())
    }
}

const INSERT_ALERTS: &str = "INSERT INTO alerts (id, incident_id, source, fingerprint, status, outcome, received_at, payload_json) ";

/// Appends `VALUES (…), (…)` for `rows` to an [`INSERT_ALERTS`] builder of either engine.
fn push_rows<'a, DB>(q: &mut sqlx::QueryBuilder<'a, DB>, rows: &'a [AlertRow], now: &'a str)
where
    DB: sqlx::Database,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a Option<String>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
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
}
