//! `draft_restart_plan`: drafts a rolling restart (a stop-gap for leaks), never runs it.

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    pub service: String,
    pub reason: String,
}

pub struct DraftRestartPlan;

pub type Output = Draft;

#[async_trait::async_trait]
impl Tool for DraftRestartPlan {
    const NAME: &'static str = "draft_restart_plan";
    const DESCRIPTION: &'static str = "Draft a rolling restart of a service (stop-gap for leaks or wedged processes). Draft only; nothing is restarted.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, _ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let body = format!(
            "## Rolling restart of {svc}\n\n### Why\n{reason}\n\n### Steps\n1. `kubectl rollout restart deployment/{svc}` (one pod at a time, PDB respected)\n2. Watch memory and error rate; a restart buys time, it does not fix a leak\n3. Open a follow-up to find and fix the cause\n\n_Drafted by Sentinel; requires human approval._",
            svc = a.service,
            reason = a.reason,
        );
        Ok(Draft {
            draft_id: super::draft_rollback_pr::draft_id("restart"),
            kind: "restart_plan".into(),
            status: "draft (not applied)".into(),
            repo: None,
            branch: None,
            title: format!("Rolling restart of {}", a.service),
            body,
        })
    }
}
