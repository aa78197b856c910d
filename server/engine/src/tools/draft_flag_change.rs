//! `draft_flag_change`: drafts turning a feature flag or config change off (never applies it).

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// The change (flag/config) to revert.
    pub change_id: String,
    pub service: String,
    pub reason: String,
}

pub struct DraftFlagChange;

pub type Output = Draft;

#[async_trait::async_trait]
impl Tool for DraftFlagChange {
    const NAME: &'static str = "draft_flag_change";
    const DESCRIPTION: &'static str = "Draft disabling a feature flag or reverting a config change. Draft only; nothing is applied.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let since = ctx.telemetry.now() - chrono::Duration::days(30);
        let changes = ctx.telemetry.changes(None, since).await.unwrap_or_default();
        let Some(change) = changes.iter().find(|c| c.id == a.change_id) else {
            return Err(ToolError::InvalidArgs(format!(
                "change_id: no change {:?} in the last 30 days",
                a.change_id
            )));
        };
        let body = format!(
            "## Disable {id} ({kind}) on {svc}\n\n**Change:** {desc} (by {author}, {ts})\n\n### Why\n{reason}\n\n### Steps\n1. Set the flag back to its previous value / 0% in the flag service\n2. Confirm the error rate returns to baseline within 5 minutes\n3. File a bug for the code path the flag exposed\n\n_Drafted by Sentinel; requires human approval._",
            id = change.id,
            kind = change.kind,
            svc = a.service,
            desc = change.description,
            author = change.author,
            ts = change.ts,
            reason = a.reason,
        );
        Ok(Draft {
            draft_id: super::draft_rollback_pr::draft_id("flag"),
            kind: "flag_change".into(),
            status: "draft (not applied)".into(),
            repo: None,
            branch: None,
            title: format!("Disable {} on {}", change.id, a.service),
            body,
        })
    }
}
