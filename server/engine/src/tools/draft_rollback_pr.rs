//! `draft_rollback_pr`: drafts (never merges) a revert PR for a deploy.

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    pub service: String,
    /// The deploy to revert.
    pub deploy_id: String,
    /// Why (one or two sentences of evidence).
    pub reason: String,
}

pub struct DraftRollbackPr;

pub type Output = Draft;

pub(crate) fn draft_id(kind: &str) -> String {
    format!(
        "draft-{kind}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

#[async_trait::async_trait]
impl Tool for DraftRollbackPr {
    const NAME: &'static str = "draft_rollback_pr";
    const DESCRIPTION: &'static str = "Draft a rollback (revert) pull request for a deploy. Produces a draft only; nothing is merged or deployed.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let since = ctx.telemetry.now() - chrono::Duration::days(30);
        let deploys = ctx
            .telemetry
            .deploys(Some(&a.service), since)
            .await
            .unwrap_or_default();
        let deploy = deploys.iter().find(|d| d.id == a.deploy_id);
        let Some(deploy) = deploy else {
            return Err(ToolError::InvalidArgs(format!(
                "deploy_id: no deploy {:?} of {} in the last 30 days",
                a.deploy_id, a.service
            )));
        };
        let repo = ctx
            .catalogue
            .service(&a.service)
            .map(|s| s.repo.clone())
            .unwrap_or_default();
        let commit = deploy.commit.clone().unwrap_or_else(|| "unknown".into());
        let body = format!(
            "## Revert {id} ({commit})\n\n**Service:** {svc}\n**Original change:** {desc} (by {author}, {ts})\n\n### Why\n{reason}\n\n### Plan\n1. `git revert {commit}` on a branch `revert-{id}`\n2. CI green, then deploy through the normal pipeline (`kubectl rollout undo deployment/{svc}` is the fast path if approved)\n3. Watch error rate and latency for 15 minutes\n\n_Drafted by Sentinel; requires human approval before anything is merged or deployed._",
            id = deploy.id,
            svc = a.service,
            desc = deploy.description,
            author = deploy.author,
            ts = deploy.ts,
            reason = a.reason,
        );
        Ok(Draft {
            draft_id: draft_id("rollback"),
            kind: "rollback_pr".into(),
            status: "draft (not merged)".into(),
            repo: Some(repo),
            branch: Some(format!("revert-{}", deploy.id)),
            title: format!(
                "Revert {} on {}: {}",
                deploy.id, a.service, deploy.description
            ),
            body,
        })
    }
}
