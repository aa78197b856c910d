//! `draft_slack_summary`: the structured status update (Impact, Root Cause, Timeline, Current
//! Status, Action Items, ETA) for the owning team's channel. Drafted, not posted.

use super::*;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    pub service: String,
    pub severity: String,
    pub impact: String,
    pub root_cause: String,
    /// Timeline entries, oldest first ("02:44 deploy-abc123 rolled out", ...).
    pub timeline: Vec<String>,
    pub current_status: String,
    pub action_items: Vec<String>,
    pub eta: String,
}

/// The drafted status update (not posted anywhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub channel: String,
    pub status: String,
    pub text: String,
}

pub struct DraftSlackSummary;

pub const SECTIONS: [&str; 6] = [
    "Impact",
    "Root Cause",
    "Timeline",
    "Current Status",
    "Action Items",
    "ETA",
];

#[async_trait::async_trait]
impl Tool for DraftSlackSummary {
    const NAME: &'static str = "draft_slack_summary";
    const DESCRIPTION: &'static str = "Draft the Slack status update with the sections Impact, Root Cause, Timeline, Current Status, Action Items and ETA. Draft only; nothing is posted.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        for (field, v) in [
            ("impact", &a.impact),
            ("root_cause", &a.root_cause),
            ("current_status", &a.current_status),
            ("eta", &a.eta),
        ] {
            if v.trim().is_empty() {
                return Err(ToolError::InvalidArgs(format!(
                    "{field}: must not be empty"
                )));
            }
        }
        let channel = ctx
            .catalogue
            .service(&a.service)
            .map(|s| s.oncall_channel.clone())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "#incidents".into());
        let bullets = |items: &[String]| {
            if items.is_empty() {
                "• none".to_string()
            } else {
                items
                    .iter()
                    .map(|i| format!("• {i}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        let text = format!(
            ":rotating_light: *[{sev}] {svc} incident {id}*\n*Impact:* {impact}\n*Root Cause:* {rc}\n*Timeline:*\n{tl}\n*Current Status:* {status}\n*Action Items:*\n{ai}\n*ETA:* {eta}",
            sev = a.severity,
            svc = a.service,
            id = ctx.incident_id,
            impact = a.impact,
            rc = a.root_cause,
            tl = bullets(&a.timeline),
            status = a.current_status,
            ai = bullets(&a.action_items),
            eta = a.eta,
        );
        Ok(Output {
            channel,
            status: "draft (not posted)".into(),
            text,
        })
    }
}
