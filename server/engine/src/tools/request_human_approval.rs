//! `request_human_approval`: the gate. Builds the approval request and asks the runner to
//! suspend the incident until a person decides; the runner persists the request and the
//! suspension in one transaction. No other tool changes production, and no remediation is
//! final without passing through here.

use super::*;
use sentinel_model::RemediationAction;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// rollback, hotfix, scale, restart or disable_flag.
    pub action: String,
    /// What the action applies to (deploy id, change id, service).
    #[serde(default)]
    pub target: Option<String>,
    /// Risk assessment shown to the approver.
    pub risk: String,
    /// Evidence lines shown to the approver.
    pub evidence: Vec<String>,
}

/// The pending approval; the runner suspends the incident on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub approval_id: String,
    pub status: String,
    pub note: String,
    /// The request the runner persists (not shown to the agent).
    #[serde(skip)]
    #[schemars(skip)]
    pub request: Option<ApprovalRequest>,
}

pub struct RequestHumanApproval;

#[async_trait::async_trait]
impl Tool for RequestHumanApproval {
    const NAME: &'static str = "request_human_approval";
    const DESCRIPTION: &'static str = "Ask a human to approve or reject a remediation (action, target, risk, evidence). The incident pauses until a person decides; this is the only way a remediation can proceed.";
    const GATE: bool = true;
    type Args = Args;
    type Output = Output;

    fn suspension(output: &Output) -> Option<ApprovalRequest> {
        output.request.clone()
    }

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let action = RemediationAction::parse(&a.action)
            .map_err(|e| ToolError::InvalidArgs(e.to_string()))?;
        if a.risk.trim().is_empty() {
            return Err(ToolError::InvalidArgs("risk: must not be empty".into()));
        }
        let request = super::gate::approval_request(
            super::gate::Proposal {
                incident_id: ctx.incident_id.clone(),
                action,
                target: a.target,
                risk: a.risk,
                evidence: a.evidence,
                proposer: ctx.agent.as_str().to_string(),
            },
            ctx.approval_timeout,
        );
        Ok(Output {
            approval_id: request.approval_id.clone(),
            status: "pending".into(),
            note: "waiting for a human decision; the incident is suspended until then".into(),
            request: Some(request),
        })
    }
}
