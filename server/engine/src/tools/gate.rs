//! The one constructor of an approval request. Both ways into the gate — an agent calling
//! `request_human_approval`, and the runner sending a destructive plan there itself — build
//! the request here (beside the gate tool, below the runner); the runner alone persists it, together with the incident's move to
//! `awaiting_approval` ([`crate::store::Store::suspend_for_approval`]).

use sentinel_model::{ApprovalRequest, RemediationAction};
use std::time::Duration;

/// Most evidence lines shown to the approver.
pub const MAX_EVIDENCE: usize = 20;

pub struct Proposal {
    pub incident_id: String,
    pub action: RemediationAction,
    pub target: Option<String>,
    pub risk: String,
    pub evidence: Vec<String>,
    pub proposer: String,
}

/// A pending approval for `p`, expiring `timeout` from now.
pub fn approval_request(p: Proposal, timeout: Duration) -> ApprovalRequest {
    let now = chrono::Utc::now();
    ApprovalRequest {
        approval_id: format!("apr-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        incident_id: p.incident_id,
        action: p.action,
        target: p.target,
        risk: p.risk,
        evidence: p.evidence.into_iter().take(MAX_EVIDENCE).collect(),
        proposer: p.proposer,
        requested_at: now,
        expires_at: now
            + chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::minutes(15)),
    }
}
