//! Remediation: one action, drafted, and sent to a human through the gate. A plan that needs
//! no approval (escalate) lands as the remediation at once; a destructive one waits for the
//! decision (the runner sends it to the gate if the agent did not).

use super::*;
use crate::agents::conclusions::RemediationPlan;
use crate::tools::Tool;
use crate::tools::{
    draft_flag_change::DraftFlagChange, draft_hotfix::DraftHotfix,
    draft_restart_plan::DraftRestartPlan, draft_rollback_pr::DraftRollbackPr,
    draft_scaling_plan::DraftScalingPlan, get_runbook::GetRunbook, query_metrics::QueryMetrics,
    request_human_approval::RequestHumanApproval,
};
use sentinel_model::ApprovalOutcome;

pub struct Remediation;

impl RoleDef for Remediation {
    fn role(&self) -> AgentRole {
        AgentRole::Remediation
    }
    fn tools(&self) -> &'static [&'static str] {
        &[
            GetRunbook::NAME,
            QueryMetrics::NAME,
            DraftRollbackPr::NAME,
            DraftHotfix::NAME,
            DraftScalingPlan::NAME,
            DraftFlagChange::NAME,
            DraftRestartPlan::NAME,
            RequestHumanApproval::NAME,
        ]
    }
    fn instructions(&self, p: &Params) -> String {
        format!(
            "You are the Remediation agent. Read the runbook, choose ONE action: rollback (a bad deploy), hotfix (bad deploy that cannot be rolled back, e.g. irreversible migration), disable_flag (a feature-flag change), scale (saturation from a traffic increase, no bad change), restart (a leak with no bad change), or escalate (external vendor outage, or confidence below {}). Draft it with the matching draft tool, then call request_human_approval for anything but escalate. Never claim a change was executed.",
            p.min_action_confidence
        )
    }
    fn output_schema(&self) -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(RemediationPlan)).unwrap_or_default()
    }
    fn parse(&self, v: serde_json::Value) -> Result<Conclusion, String> {
        typed::<RemediationPlan>(self.role(), v).map(Conclusion::Plan)
    }
    fn absorb(&self, c: Conclusion, state: &mut RunState) -> Result<(), String> {
        let Conclusion::Plan(mut plan) = c else {
            return Err(wrong(self.role()));
        };
        // The safety rule, whoever wrote the plan: an unsupported rollback or flag change
        // becomes an escalation that says why.
        if let Some(why) = crate::agents::safety::refuse_change(
            plan.action,
            plan.target.as_deref(),
            state.correlation.as_ref().map(|c| &c.diagnosis),
        ) {
            plan = RemediationPlan {
                action: sentinel_model::RemediationAction::Escalate,
                target: None,
                rationale: format!("{} refused ({why}); escalating to a human", plan.action),
                risk: "none: no production change proposed".into(),
                draft_id: None,
                draft: None,
            };
        }
        if !plan.action.is_destructive() {
            state.approval = Some(ApprovalOutcome::NotRequired);
            state.remediation = Some(plan.report(ApprovalOutcome::NotRequired, None, None));
        }
        state.proposal_ms.get_or_insert(state.elapsed_ms);
        state.plan = Some(plan);
        Ok(())
    }
    fn summary(&self, s: &RunState) -> String {
        s.plan
            .as_ref()
            .map(|p| format!("{} {}", p.action, p.target.clone().unwrap_or_default()))
            .unwrap_or_default()
    }
    fn builtin(&self) -> Box<dyn Policy> {
        Box::new(crate::agents::builtin::remediation::Remediation::default())
    }
}
