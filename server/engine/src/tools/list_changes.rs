//! `list_changes`: feature-flag, config, infra and dependency changes in the last hours.

use super::*;
use serde::Deserialize;

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

pub struct ListChanges;

#[async_trait::async_trait]
impl Tool for ListChanges {
    fn name(&self) -> &'static str {
        "list_changes"
    }
    fn description(&self) -> &'static str {
        "List non-deploy changes (feature flags, config, infra, dependencies) in the last hours, newest first."
    }
    fn parameters(&self) -> serde_json::Value {
        schema_of::<Args>()
    }
    async fn call(
        &self,
        ctx: &ToolContext,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError> {
        let a: Args = parse_args(args)?;
        let since = since_hours(ctx, a.hours_back, 24.0);
        let now = ctx.telemetry.now();
        let changes = ctx
            .telemetry
            .changes(a.service.as_deref(), since)
            .await
            .map_err(|e| ToolError::Unavailable(e.to_string()))?;
        let rows: Vec<_> = changes
            .into_iter()
            .filter(|c| {
                a.kind
                    .as_ref()
                    .is_none_or(|k| c.kind.eq_ignore_ascii_case(k))
            })
            .map(|c| {
                let mut v = serde_json::to_value(&c).unwrap_or_default();
                v["minutes_before_alert"] =
                    serde_json::json!((now - c.ts).num_seconds() as f64 / 60.0);
                v
            })
            .collect();
        Ok(ToolOutput::json(serde_json::json!({ "changes": rows })))
    }
}
