//! `list_changes`: feature-flag, config, infra and dependency changes in the last hours.

use super::*;
use crate::telemetry::Change;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Only this service (omit for all services).
    #[serde(default)]
    pub service: Option<String>,
    /// How far back, in hours (default 24).
    #[serde(default)]
    pub hours_back: Option<f64>,
    /// Only this kind: feature_flag, config, infra, dependency.
    #[serde(default)]
    pub kind: Option<String>,
}

/// The changes in the window, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub changes: Vec<BeforeAlert<Change>>,
}

pub struct ListChanges;

#[async_trait::async_trait]
impl Tool for ListChanges {
    const NAME: &'static str = "list_changes";
    const DESCRIPTION: &'static str = "List non-deploy changes (feature flags, config, infra, dependencies) in the last hours, newest first.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let since = since_hours(ctx, a.hours_back, 24.0);
        let now = ctx.telemetry.now();
        let changes = ctx
            .telemetry
            .changes(a.service.as_deref(), since)
            .await
            .map_err(|e| ToolError::Unavailable(e.to_string()))?;
        let rows: Vec<_> = changes
            .into_iter()
            .filter(|c| a.kind.as_ref().is_none_or(|k| c.kind == *k.as_str()))
            .map(|c| {
                let at = c.ts;
                BeforeAlert::new(c, at, now)
            })
            .collect();
        Ok(Output { changes: rows })
    }
}
