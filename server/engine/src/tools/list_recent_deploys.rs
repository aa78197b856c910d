//! `list_recent_deploys`: deploys in the last hours, newest first.

use super::*;
use crate::telemetry::Deploy;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Only this service (omit for all services).
    #[serde(default)]
    pub service: Option<String>,
    /// How far back, in hours (default 24).
    #[serde(default)]
    pub hours_back: Option<f64>,
}

/// The deploys in the window, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub deploys: Vec<BeforeAlert<Deploy>>,
}

pub struct ListRecentDeploys;

#[async_trait::async_trait]
impl Tool for ListRecentDeploys {
    const NAME: &'static str = "list_recent_deploys";
    const DESCRIPTION: &'static str = "List deploys (id, service, time, author, commit, files changed, description) in the last hours, newest first, with minutes before the alert.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let since = since_hours(ctx, a.hours_back, 24.0);
        let now = ctx.telemetry.now();
        let deploys = ctx
            .telemetry
            .deploys(a.service.as_deref(), since)
            .await
            .map_err(|e| ToolError::Unavailable(e.to_string()))?;
        let rows: Vec<_> = deploys
            .into_iter()
            .map(|d| {
                let at = d.ts;
                BeforeAlert::new(d, at, now)
            })
            .collect();
        Ok(Output { deploys: rows })
    }
}
