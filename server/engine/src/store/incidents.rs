//! Incidents: one row each, with the alert, the run report and the runner's checkpoint.

use super::*;
use chrono::{DateTime, Utc};
use sentinel_model::{Alert, IncidentStatus, IncidentSummary, Priority, RunReport};
use sqlx::Row;

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

const COLUMNS: &str = "id, service, title, status, severity, scenario_id, fingerprint, alert_count, alert_json, report_json, state_json, created_at, updated_at";
/// [`COLUMNS`] for reading: the alert count includes the repeats ingestion counted in
/// `incident_alerts` (see migration 0002).
const SELECT_COLUMNS: &str = "id, service, title, status, severity, scenario_id, fingerprint, \
     alert_count + COALESCE((SELECT r.repeats FROM incident_alerts r WHERE r.incident_id = incidents.id), 0) AS alert_count, \
     alert_json, report_json, state_json, created_at, updated_at";

fn row_to_record(row: &sqlx::sqlite::SqliteRow) -> Result<IncidentRecord> {
    let status: String = row.get("status");
    let severity: Option<String> = row.get("severity");
    Ok(IncidentRecord {
        id: row.get("id"),
        service: row.get("service"),
        title: row.get("title"),
        status: IncidentStatus::parse(&status).unwrap_or(IncidentStatus::Failed),
        severity: severity.and_then(|s| Priority::parse(&s).ok()),
        scenario_id: row.get("scenario_id"),
        fingerprint: row.get("fingerprint"),
        alert_count: row.get("alert_count"),
        alert: from_json("incidents.alert_json", row.get::<&str, _>("alert_json"))?,
        report: from_json("incidents.report_json", row.get::<&str, _>("report_json"))?,
        state_json: row.get("state_json"),
        created_at: parse_ts(row.get::<&str, _>("created_at")),
        updated_at: parse_ts(row.get::<&str, _>("updated_at")),
    })
}

impl Store {
    pub async fn insert_incident(&self, r: &IncidentRecord) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO incidents ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
        ))
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
        .execute(&self.writer)
        .await?;
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
        sqlx::query(
            "UPDATE incidents SET status = ?, severity = ?, report_json = ?, state_json = ?, updated_at = ? WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(severity.map(|p| p.as_str()))
        .bind(to_json(report))
        .bind(state_json)
        .bind(ts(Utc::now()))
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn get_incident(&self, id: &str) -> Result<Option<IncidentRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {SELECT_COLUMNS} FROM incidents WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(row_to_record).transpose()
    }

    pub async fn list_incidents(&self, f: &IncidentFilter) -> Result<Vec<IncidentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SELECT_COLUMNS} FROM incidents WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR service = ?2) \
             ORDER BY created_at DESC, rowid DESC LIMIT ?3"
        ))
        .bind(f.status.map(|s| s.as_str()))
        .bind(&f.service)
        .bind(f.limit.unwrap_or(200).clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_record).collect()
    }

    /// Open (non-terminal) incidents on `service` created since `since`, excluding `except`.
    pub async fn open_incidents_on(
        &self,
        service: &str,
        since: DateTime<Utc>,
        except: &str,
    ) -> Result<Vec<IncidentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SELECT_COLUMNS} FROM incidents WHERE service = ? AND id != ? AND created_at >= ? \
             AND status NOT IN ('resolved','escalated','failed') ORDER BY created_at DESC LIMIT 50"
        ))
        .bind(service)
        .bind(except)
        .bind(ts(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_record).collect()
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
        let res = sqlx::query(
            "UPDATE incidents SET lease_owner = ?1, lease_expires = ?2 WHERE id = ?3 \
             AND (lease_owner IS NULL OR lease_owner = ?1 OR lease_expires < ?4 OR lease_owner = ?5)",
        )
        .bind(owner)
        .bind(ts(until))
        .bind(id)
        .bind(ts(now))
        .bind(dead)
        .execute(&self.writer)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Who holds the incident's run lease (expired or not).
    pub async fn lease_owner(&self, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT lease_owner FROM incidents WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    /// Gives the lease back (only if `owner` still holds it).
    pub async fn release_lease(&self, id: &str, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE incidents SET lease_owner = NULL, lease_expires = NULL WHERE id = ? AND lease_owner = ?",
        )
        .bind(id)
        .bind(owner)
        .execute(&self.writer)
        .await?;
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
        let rows = sqlx::query(
            "SELECT id, status, lease_owner, lease_expires FROM incidents i \
             WHERE (status IN ('open', 'investigating') \
                    OR (status = 'awaiting_approval' AND NOT EXISTS \
                        (SELECT 1 FROM approvals a WHERE a.incident_id = i.id AND a.status = 'pending'))) \
             AND (lease_owner IS NULL OR lease_owner != ?1) \
             AND NOT (lease_owner IS NULL AND status = 'open' AND created_at > ?2) \
             ORDER BY created_at LIMIT ?3",
        )
        .bind(me)
        .bind(ts(young))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let expires: Option<String> = r.get("lease_expires");
            let owner: Option<String> = r.get("lease_owner");
            // An unexpired lease of another owner stays a candidate only so the caller can
            // check whether that owner is still alive.
            let expired = expires.as_deref().is_none_or(|e| parse_ts(e) < now);
            out.push(Orphan {
                id: r.get("id"),
                status: IncidentStatus::parse(r.get::<&str, _>("status"))
                    .unwrap_or(IncidentStatus::Failed),
                lease_owner: if expired { None } else { owner },
            });
        }
        Ok(out)
    }

    /// Whether the incident's log already holds an event of `kind` (e.g. `approval_decided`),
    /// so a run continued after a crash does not record a decision twice.
    pub async fn has_event(&self, incident_id: &str, kind: &str) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE incident_id = ? AND kind = ?")
                .bind(incident_id)
                .bind(kind)
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }
}
