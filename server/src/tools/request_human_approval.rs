//! `request_human_approval`: the gate. Persists a pending approval and asks the runner to
//! suspend the incident until a person decides. No other tool changes production, and no
//! remediation is final without passing through here.

use super::*;
use app::model::RemediationAction;
use serde::Deserialize;

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

pub struct RequestHumanApproval;

#[async_trait::async_trait]
impl Tool for RequestHumanApproval {
    fn name(&self) -> &'static str {
        "request_human_approval"
    }
    fn description(&self) -> &'static str {
        "Ask a human to approve or reject a remediation (action, target, risk, evidence). The incident pauses until a person decides; this is the only way a remediation can proceed."
    }
    fn parameters(&self) -> serde_json::Value {
        schema_of::<Args>()
    }
    fn is_gate(&self) -> bool {
        true
    }
    async fn call(
        &self,
        ctx: &ToolContext,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError> {
        let a: Args = parse_args(args)?;
        let action = RemediationAction::parse(&a.action)
            .map_err(|e| ToolError::InvalidArgs(e.to_string()))?;
        if a.risk.trim().is_empty() {
            return Err(ToolError::InvalidArgs("risk: must not be empty".into()));
        }
        let now = chrono::Utc::now();
        let request = ApprovalRequest {
            approval_id: format!("apr-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            incident_id: ctx.incident_id.clone(),
            action,
            target: a.target,
            risk: a.risk,
            evidence: a.evidence.into_iter().take(20).collect(),
            proposer: ctx.agent.as_str().to_string(),
            requested_at: now,
            expires_at: now
                + chrono::Duration::from_std(ctx.approval_timeout)
                    .unwrap_or(chrono::Duration::minutes(15)),
        };
        ctx.store
            .insert_approval(&request)
            .await
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        Ok(ToolOutput {
            value: serde_json::json!({
                "approval_id": request.approval_id, "status": "pending",
                "note": "waiting for a human decision; the incident is suspended until then",
            }),
            suspend: Some(request),
        })
    }
}
