//! `list_recent_deploys`: deploys in the last hours, newest first.

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
}

pub struct ListRecentDeploys;

#[async_trait::async_trait]
impl Tool for ListRecentDeploys {
    fn name(&self) -> &'static str {
        "list_recent_deploys"
    }
    fn description(&self) -> &'static str {
        "List deploys (id, service, time, author, commit, files changed, description) in the last hours, newest first, with minutes before the alert."
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
        let deploys = ctx
            .telemetry
            .deploys(a.service.as_deref(), since)
            .await
            .map_err(|e| ToolError::Unavailable(e.to_string()))?;
        let rows: Vec<_> = deploys
            .into_iter()
            .map(|d| {
                let mut v = serde_json::to_value(&d).unwrap_or_default();
                v["minutes_before_alert"] =
                    serde_json::json!((now - d.ts).num_seconds() as f64 / 60.0);
                v
            })
            .collect();
        Ok(ToolOutput::json(serde_json::json!({ "deploys": rows })))
    }
}
