//! Pending and decided approvals. A decision is a conditional UPDATE on `status = 'pending'`,
//! so two racing decisions cannot both win.

use super::*;
use chrono::{DateTime, Utc};
use sentinel_model::{ApprovalOutcome, ApprovalRequest, RemediationAction};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct ApprovalRecord {
    pub request: ApprovalRequest,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
}

fn row_to_approval(r: &sqlx::sqlite::SqliteRow) -> Result<ApprovalRecord> {
    let action: String = r.get("action");
    Ok(ApprovalRecord {
        request: ApprovalRequest {
            approval_id: r.get("id"),
            incident_id: r.get("incident_id"),
            action: RemediationAction::parse(&action).unwrap_or(RemediationAction::Escalate),
            target: r.get("target"),
            risk: r.get("risk"),
            evidence: from_json("approvals.evidence_json", r.get::<&str, _>("evidence_json"))?,
            proposer: r.get("proposer"),
            requested_at: parse_ts(r.get::<&str, _>("requested_at")),
            expires_at: parse_ts(r.get::<&str, _>("expires_at")),
        },
        status: r.get("status"),
        decided_by: r.get("decided_by"),
        decided_at: r.get::<Option<&str>, _>("decided_at").map(parse_ts),
        comment: r.get("comment"),
    })
}

impl Store {
    /// The gate, in one transaction: the pending approval row and the incident's move to
    /// `awaiting_approval` (with its checkpoint) commit together. A decision can only find a
    /// pending approval once the incident is waiting for it, so no decision falls into a
    /// window where the run could not take it.
    pub async fn suspend_for_approval(
        &self,
        a: &ApprovalRequest,
        severity: Option<sentinel_model::Priority>,
        report: &sentinel_model::RunReport,
        state_json: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO approvals (id, incident_id, action, target, risk, evidence_json, proposer, requested_at, expires_at) \
             VALUES (?,?,?,?,?,?,?,?,?)",
        )
        .bind(&a.approval_id)
        .bind(&a.incident_id)
        .bind(a.action.as_str())
        .bind(&a.target)
        .bind(&a.risk)
        .bind(to_json(&a.evidence))
        .bind(&a.proposer)
        .bind(ts(a.requested_at))
        .bind(ts(a.expires_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE incidents SET status = 'awaiting_approval', severity = ?, report_json = ?, state_json = ?, updated_at = ? WHERE id = ?",
        )
        .bind(severity.map(|p| p.as_str()))
        .bind(to_json(report))
        .bind(state_json)
        .bind(ts(Utc::now()))
        .bind(&a.incident_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_approval(&self, approval_id: &str) -> Result<Option<ApprovalRecord>> {
        let row = sqlx::query("SELECT * FROM approvals WHERE id = ?")
            .bind(approval_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_to_approval).transpose()
    }

    pub async fn pending_approval(&self, incident_id: &str) -> Result<Option<ApprovalRecord>> {
        let row = sqlx::query("SELECT * FROM approvals WHERE incident_id = ? AND status = 'pending' ORDER BY requested_at DESC LIMIT 1")
            .bind(incident_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_to_approval).transpose()
    }

    pub async fn latest_approval(&self, incident_id: &str) -> Result<Option<ApprovalRecord>> {
        let row = sqlx::query(
            "SELECT * FROM approvals WHERE incident_id = ? ORDER BY requested_at DESC LIMIT 1",
        )
        .bind(incident_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(row_to_approval).transpose()
    }

    /// Records a decision if the approval is still pending, and in the same transaction moves
    /// its incident from `awaiting_approval` to `investigating`: from this commit on the
    /// incident is a run to continue (its checkpoint still names the approval, which tells the
    /// runner to apply the decision first), and the recovery sweep finds it after a crash.
    /// Returns false if the approval was not pending (another decision won).
    pub async fn decide_approval(
        &self,
        approval_id: &str,
        outcome: ApprovalOutcome,
        by: &str,
        comment: &str,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let res = sqlx::query(
            "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, comment = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(outcome.as_str())
        .bind(by)
        .bind(ts(Utc::now()))
        .bind(comment)
        .bind(approval_id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE incidents SET status = 'investigating', updated_at = ? \
             WHERE id = (SELECT incident_id FROM approvals WHERE id = ?) AND status = 'awaiting_approval'",
        )
        .bind(ts(Utc::now()))
        .bind(approval_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Pending approvals whose deadline has passed.
    pub async fn expired_approvals(&self, now: DateTime<Utc>) -> Result<Vec<ApprovalRecord>> {
        let rows =
            sqlx::query("SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= ?")
                .bind(ts(now))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(row_to_approval).collect()
    }

    pub async fn all_pending_approvals(&self) -> Result<Vec<ApprovalRecord>> {
        let rows =
            sqlx::query("SELECT * FROM approvals WHERE status = 'pending' ORDER BY requested_at")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(row_to_approval).collect()
    }
}
