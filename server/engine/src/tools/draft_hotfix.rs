//! `draft_hotfix`: drafts a forward-fix PR description (when rolling back is unsafe).

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    pub service: String,
    /// What is broken and what the fix must do.
    pub summary: String,
    /// The deploy that introduced the bug, if known.
    #[serde(default)]
    pub deploy_id: Option<String>,
    /// Why a rollback is not the right move, if it is not.
    #[serde(default)]
    pub why_not_rollback: Option<String>,
}

pub struct DraftHotfix;

pub type Output = Draft;

#[async_trait::async_trait]
impl Tool for DraftHotfix {
    const NAME: &'static str = "draft_hotfix";
    const DESCRIPTION: &'static str = "Draft a hotfix (forward fix) pull request description. Draft only; nothing is merged or deployed.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let repo = ctx
            .catalogue
            .service(&a.service)
            .map(|s| s.repo.clone())
            .unwrap_or_default();
        let body = format!(
            "## Hotfix for {svc}\n\n### Problem\n{summary}\n\n### Introduced by\n{deploy}\n\n### Why not a rollback\n{why}\n\n### Plan\n1. Minimal patch on top of the current release\n2. Regression test reproducing the failure\n3. Canary 10% for 15 minutes, then full rollout\n\n_Drafted by Sentinel; requires human approval._",
            svc = a.service,
            summary = a.summary,
            deploy = a.deploy_id.as_deref().unwrap_or("unknown"),
            why = a.why_not_rollback.as_deref().unwrap_or("n/a"),
        );
        Ok(Draft {
            draft_id: draft_rollback_pr::draft_id("hotfix"),
            kind: "hotfix_pr".into(),
            status: "draft (not merged)".into(),
            repo: Some(repo),
            branch: None,
            title: format!(
                "Hotfix {}: {}",
                a.service,
                a.summary.chars().take(80).collect::<String>()
            ),
            body,
        })
    }
}

use super::draft_rollback_pr;
