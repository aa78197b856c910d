//! Incidents: one row each, with the alert, the run report and the runner's checkpoint.

use super::*;
use chrono::{DateTime, Utc};
use sentinel_model::{Alert, IncidentStatus, IncidentSummary, Priority, RunReport};

/// What the runner saves about an incident.
#[derive(Debug, Clone)]
pub struct IncidentRecord {
    pub id: String,
    pub service: String,
    pub title: String,
    pub status: IncidentStatus,
    pub severity: Option<Priority>,
    pub scenario_id: Option<String>,
    pub fingerprint: Option<String>,
    pub alert_count: i64,
    pub alert: Alert,
    pub report: RunReport,
    pub state_json: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl IncidentRecord {
    /// The alert as text, for similarity comparisons.
    pub fn alert_text(&self) -> String {
        let a = &self.alert;
        let mut s = format!("{} {} alert on {}", a.severity, a.metric, a.service);
        if let Some(summary) = a.annotations.get("summary") {
            s.push_str(": ");
            s.push_str(summary);
        }
        s
    }

    pub fn summary(&self) -> IncidentSummary {
        IncidentSummary {
            incident_id: self.id.clone(),
            service: self.service.clone(),
            severity: self.severity,
            status: self.status,
            title: self.title.clone(),
            scenario_id: self.scenario_id.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            alert_count: self.alert_count,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<IncidentStatus>,
    pub service: Option<String>,
    pub limit: Option<i64>,
}

/// The incident columns for reading: the alert count includes the repeats ingestion counted in
/// `incident_alerts` (see migration 0002).
const SELECT_COLUMNS: &str = "id, service, title, status, severity, scenario_id, fingerprint, \
     alert_count + COALESCE((SELECT r.repeats FROM incident_alerts r WHERE r.incident_id = incidents.id), 0) AS alert_count, \
     alert_json, report_json, state_json, created_at, updated_at";

/// An `incidents` row as read ([`SELECT_COLUMNS`]), on either engine.
#[derive(sqlx::FromRow)]
struct IncidentRow {
    id: String,
    service: String,
    title: String,
    status: String,
    severity: Option<String>,
    scenario_id: Option<String>,
    fingerprint: Option<String>,
    alert_count: i64,
    alert_json: String,
    report_json: String,
    state_json: Option<String>,
    created_at: String,
    updated_at: String,
}

impl IncidentRow {
    fn into_record(self) -> Result<IncidentRecord> {
        Ok(IncidentRecord {
            status: IncidentStatus::parse(&self.status).unwrap_or(IncidentStatus::Failed),
            severity: self.severity.and_then(|s| Priority::parse(&s).ok()),
            alert: from_json("incidents.alert_json", &self.alert_json)?,
            report: from_json("incidents.report_json", &self.report_json)?,
            created_at: parse_ts(&self.created_at),
            updated_at: parse_ts(&self.updated_at),
            id: self.id,
            service: self.service,
            title: self.title,
            scenario_id: self.scenario_id,
            fingerprint: self.fingerprint,
            alert_count: self.alert_count,
            state_json: self.state_json,
        })
    }
}

fn into_records(rows: Vec<IncidentRow>) -> Result<Vec<IncidentRecord>> {
    rows.into_iter().map(IncidentRow::into_record).collect()
}

/// First key of the advisory locks taken per fingerprint (the second is its hash).
const FINGERPRINT_LOCK: i32 = 0x5e47_0001;

const INSERT_INCIDENT: &str = "INSERT INTO incidents (id, service, title, status, severity, scenario_id, fingerprint, \
     alert_count, alert_json, report_json, state_json, created_at, updated_at) \
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)";

/// The INSERT of an incident record, for either engine (a macro: the query's type is the
/// engine's).
macro_rules! incident_insert {
    ($r:expr) => {{
        let r: &IncidentRecord = $r;
        sqlx::query(INSERT_INCIDENT)
            .bind(&r.id)
            .bind(&r.service)
            .bind(&r.title)
            .bind(r.status.as_str())
            .bind(r.severity.map(|p| p.as_str()))
            .bind(&r.scenario_id)
            .bind(&r.fingerprint)
            .bind(r.alert_count)
            .bind(to_json(&r.alert))
            .bind(to_json(&r.report))
            .bind(&r.state_json)
            .bind(ts(r.created_at))
            .bind(ts(r.updated_at))
    }};
}

impl Store {
    /// Opens `rec` as the incident of its fingerprint unless a joinable one exists, which is
    /// returned instead (and `rec` is not stored). Atomic across processes: on PostgreSQL a
    /// transaction-scoped advisory lock on the fingerprint makes two replicas that receive
    /// the same alert group at once open one incident; on SQLite the single write
    /// connection does the same within this process. Without a fingerprint it just inserts.
    pub async fn open_or_join(&self, rec: &IncidentRecord) -> Result<Option<FingerprintHead>> {
        let Some(fp) = rec.fingerprint.as_deref() else {
            self.insert_incident(rec).await?;
            return Ok(None);
        };
        db!(
            self,
            write | p,
            pg | {
                // SQLite: take the write lock before reading, so a second process on the file
                // waits its turn instead of failing to upgrade its read (SQLITE_BUSY).
                let mut tx = p
                    .begin_with(if pg { "BEGIN" } else { "BEGIN IMMEDIATE" })
                    .await?;
                if pg {
                    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                        .bind(FINGERPRINT_LOCK)
                        .bind(fp)
                        .execute(&mut *tx)
                        .await?;
                }
                let head: Option<FingerprintHead> = sqlx::query_as(&super::alerts::head_sql(pg))
                    .bind(fp)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(head) = head.filter(FingerprintHead::joinable) {
                    tx.rollback().await?;
                    return Ok(Some(head));
                }
                incident_insert!(rec).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(None)
            }
        )
    }

    pub async fn insert_incident(&self, r: &IncidentRecord) -> Result<()> {
        db!(
            self,
            write
                | p
                | incident_insert!(r)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
        )?;
        Ok(())
    }

    /// Saves the mutable part of an incident (status, severity, report, checkpoint).
    pub async fn update_incident(
        &self,
        id: &str,
        status: IncidentStatus,
        severity: Option<Priority>,
        report: &RunReport,
        state_json: Option<&str>,
    ) -> Result<()> {
        db!(self, write |p| sqlx::query(
            "UPDATE incidents SET status = $1, severity = $2, report_json = $3, state_json = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(status.as_str())
        .bind(severity.map(|p| p.as_str()))
        .bind(to_json(report))
        .bind(state_json)
        .bind(ts(Utc::now()))
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn get_incident(&self, id: &str) -> Result<Option<IncidentRecord>> {
        let sql = format!("SELECT {SELECT_COLUMNS} FROM incidents WHERE id = $1");
        let row: Option<IncidentRow> = db!(
            self,
            read | p | sqlx::query_as(&sql).bind(id).fetch_optional(p).await
        )?;
        row.map(IncidentRow::into_record).transpose()
    }

    pub async fn list_incidents(&self, f: &IncidentFilter) -> Result<Vec<IncidentRecord>> {
        let rows: Vec<IncidentRow> = db!(
            self,
            read | p,
            pg | {
                // Same-microsecond incidents: the row key decides.
                let tie = row_key(pg);
                let sql = format!(
                    "SELECT {SELECT_COLUMNS} FROM incidents WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR service = $2) \
                 ORDER BY created_at DESC, {tie} DESC LIMIT $3"
                );
                sqlx::query_as(&sql)
                    .bind(f.status.map(|s| s.as_str()))
                    .bind(&f.service)
                    .bind(f.limit.unwrap_or(200).clamp(1, 1000))
                    .fetch_all(p)
                    .await
            }
        )?;
        into_records(rows)
    }

    /// Open (non-terminal) incidents on `service` created since `since`, excluding `except`.
    pub async fn open_incidents_on(
        &self,
        service: &str,
        since: DateTime<Utc>,
        except: &str,
    ) -> Result<Vec<IncidentRecord>> {
        let sql = format!(
            "SELECT {SELECT_COLUMNS} FROM incidents WHERE service = $1 AND id != $2 AND created_at >= $3 \
             AND status NOT IN ('resolved','escalated','failed') ORDER BY created_at DESC LIMIT 50"
        );
        let rows: Vec<IncidentRow> = db!(
            self,
            read | p
                | sqlx::query_as(&sql)
                    .bind(service)
                    .bind(except)
                    .bind(ts(since))
                    .fetch_all(p)
                    .await
        )?;
        into_records(rows)
    }
}

/// An incident the recovery sweep may have to continue: not final, and nobody (alive) holds
/// its run lease.
#[derive(Debug, Clone)]
pub struct Orphan {
    pub id: String,
    pub status: IncidentStatus,
    pub lease_owner: Option<String>,
}

impl Store {
    /// Takes the run lease of an incident for `owner` until `now + ttl`, if it is free,
    /// expired, already `owner`'s, or held by `dead` (a process known to be gone). Returns
    /// whether `owner` holds it now. One conditional UPDATE: two runners cannot both win.
    pub async fn claim_lease(
        &self,
        id: &str,
        owner: &str,
        ttl: Duration,
        dead: Option<&str>,
    ) -> Result<bool> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30));
        let affected = db!(self, write |p| sqlx::query(
            "UPDATE incidents SET lease_owner = $1, lease_expires = $2 WHERE id = $3 \
             AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires < $4 OR lease_owner = $5)",
        )
        .bind(owner)
        .bind(ts(until))
        .bind(id)
        .bind(ts(now))
        .bind(dead)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(affected == 1)
    }

    /// Who holds the incident's run lease (expired or not).
    pub async fn lease_owner(&self, id: &str) -> Result<Option<String>> {
        let owner: Option<Option<String>> = db!(
            self,
            read | p
                | sqlx::query_scalar("SELECT lease_owner FROM incidents WHERE id = $1")
                    .bind(id)
                    .fetch_optional(p)
                    .await
        )?;
        Ok(owner.flatten())
    }

    /// Gives the lease back (only if `owner` still holds it).
    pub async fn release_lease(&self, id: &str, owner: &str) -> Result<()> {
        db!(self, write |p| sqlx::query(
            "UPDATE incidents SET lease_owner = NULL, lease_expires = NULL WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(owner)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Incidents that need a runner: `open` or `investigating`, plus `awaiting_approval` ones
    /// with no pending approval left (a decision committed but not yet applied), whose lease
    /// is free or expired, or held by someone other than `me` (the caller checks whether that
    /// holder is alive). Unleased `open` incidents younger than `grace` are left to whoever
    /// just created them.
    pub async fn orphaned_incidents(
        &self,
        me: &str,
        grace: Duration,
        limit: i64,
    ) -> Result<Vec<Orphan>> {
        let now = Utc::now();
        let young = now - chrono::Duration::from_std(grace).unwrap_or_default();
        let rows: Vec<(String, String, Option<String>, Option<String>)> = db!(self, read |p| sqlx::query_as(
            "SELECT id, status, lease_owner, lease_expires FROM incidents i \
             WHERE (status IN ('open', 'investigating') \
                    OR (status = 'awaiting_approval' AND NOT EXISTS \
                        (SELECT 1 FROM approvals a WHERE a.incident_id = i.id AND a.status = 'pending'))) \
             AND (lease_owner IS NULL OR lease_owner != $1) \
             AND NOT (lease_owner IS NULL AND status = 'open' AND created_at > $2) \
             ORDER BY created_at LIMIT $3",
        )
        .bind(me)
        .bind(ts(young))
        .bind(limit)
        .fetch_all(p)
        .await)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, status, owner, expires) in rows {
            // An unexpired lease of another owner stays a candidate only so the caller can
            // check whether that owner is still alive.
            let expired = expires.as_deref().is_none_or(|e| parse_ts(e) < now);
            out.push(Orphan {
                id,
                status: IncidentStatus::parse(&status).unwrap_or(IncidentStatus::Failed),
                lease_owner: if expired { None } else { owner },
            });
        }
        Ok(out)
    }

    /// Whether the incident's log already holds an event of `kind` (e.g. `approval_decided`),
    /// so a run continued after a crash does not record a decision twice.
    pub async fn has_event(&self, incident_id: &str, kind: &str) -> Result<bool> {
        let n: i64 = db!(
            self,
            read | p
                | sqlx::query_scalar(
                    "SELECT COUNT(*) FROM events WHERE incident_id = $1 AND kind = $2"
                )
                .bind(incident_id)
                .bind(kind)
                .fetch_one(p)
                .await
        )?;
        Ok(n > 0)
    }
}
