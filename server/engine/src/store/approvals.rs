//! Pending and decided approvals. A decision is a conditional UPDATE on `status = 'pending'`,
//! so two racing decisions cannot both win.

use super::*;
use chrono::{DateTime, Utc};
use sentinel_model::{ApprovalOutcome, ApprovalRequest, RemediationAction};

#[derive(Debug, Clone)]
pub struct ApprovalRecord {
    pub request: ApprovalRequest,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
}

/// An `approvals` row, on either engine.
#[derive(sqlx::FromRow)]
struct ApprovalRow {
    id: String,
    incident_id: String,
    action: String,
    target: Option<String>,
    risk: String,
    evidence_json: String,
    proposer: String,
    requested_at: String,
    expires_at: String,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
    comment: Option<String>,
}

impl ApprovalRow {
    fn into_record(self) -> Result<ApprovalRecord> {
        Ok(ApprovalRecord {
            request: ApprovalRequest {
                action: RemediationAction::parse(&self.action)
                    .unwrap_or(RemediationAction::Escalate),
                evidence: from_json("approvals.evidence_json", &self.evidence_json)?,
                requested_at: parse_ts(&self.requested_at),
                expires_at: parse_ts(&self.expires_at),
                approval_id: self.id,
                incident_id: self.incident_id,
                target: self.target,
                risk: self.risk,
                proposer: self.proposer,
            },
            status: self.status,
            decided_by: self.decided_by,
            decided_at: self.decided_at.as_deref().map(parse_ts),
            comment: self.comment,
        })
    }
}

fn one(row: Option<ApprovalRow>) -> Result<Option<ApprovalRecord>> {
    row.map(ApprovalRow::into_record).transpose()
}

fn all(rows: Vec<ApprovalRow>) -> Result<Vec<ApprovalRecord>> {
    rows.into_iter().map(ApprovalRow::into_record).collect()
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
        db!(
            self,
            write
                | p
                | {
                    let mut tx = p.begin().await?;
                    sqlx::query(
            "INSERT INTO approvals (id, incident_id, action, target, risk, evidence_json, proposer, requested_at, expires_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
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
            "UPDATE incidents SET status = 'awaiting_approval', severity = $1, report_json = $2, state_json = $3, updated_at = $4 WHERE id = $5",
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
        )
    }

    pub async fn get_approval(&self, approval_id: &str) -> Result<Option<ApprovalRecord>> {
        one(db!(
            self,
            read | p
                | sqlx::query_as("SELECT * FROM approvals WHERE id = $1")
                    .bind(approval_id)
                    .fetch_optional(p)
                    .await
        )?)
    }

    pub async fn pending_approval(&self, incident_id: &str) -> Result<Option<ApprovalRecord>> {
        one(db!(self, read |p| sqlx::query_as("SELECT * FROM approvals WHERE incident_id = $1 AND status = 'pending' ORDER BY requested_at DESC LIMIT 1")
            .bind(incident_id)
            .fetch_optional(p)
            .await)?)
    }

    pub async fn latest_approval(&self, incident_id: &str) -> Result<Option<ApprovalRecord>> {
        one(db!(self, read |p| sqlx::query_as(
            "SELECT * FROM approvals WHERE incident_id = $1 ORDER BY requested_at DESC LIMIT 1",
        )
        .bind(incident_id)
        .fetch_optional(p)
        .await)?)
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
        db!(
            self,
            write
                | p
                | {
                    let mut tx = p.begin().await?;
                    let res = sqlx::query(
            "UPDATE approvals SET status = $1, decided_by = $2, decided_at = $3, comment = $4 WHERE id = $5 AND status = 'pending'",
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
            "UPDATE incidents SET status = 'investigating', updated_at = $1 \
             WHERE id = (SELECT incident_id FROM approvals WHERE id = $2) AND status = 'awaiting_approval'",
        )
        .bind(ts(Utc::now()))
        .bind(approval_id)
        .execute(&mut *tx)
        .await?;
                    tx.commit().await?;
                    Ok(true)
                }
        )
    }

    /// Pending approvals whose deadline has passed.
    pub async fn expired_approvals(&self, now: DateTime<Utc>) -> Result<Vec<ApprovalRecord>> {
        all(db!(
            self,
            read | p
                | sqlx::query_as(
                    "SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= $1"
                )
                .bind(ts(now))
                .fetch_all(p)
                .await
        )?)
    }

    pub async fn all_pending_approvals(&self) -> Result<Vec<ApprovalRecord>> {
        all(db!(
            self,
            read | p
                | sqlx::query_as(
                    "SELECT * FROM approvals WHERE status = 'pending' ORDER BY requested_at"
                )
                .fetch_all(p)
                .await
        )?)
    }
}
