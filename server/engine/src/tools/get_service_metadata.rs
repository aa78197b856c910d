//! `get_service_metadata`: the service catalogue entry (team, tier, on-call, repo).

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Service name, e.g. "api-gateway".
    pub service: String,
}

pub struct GetServiceMetadata;

#[async_trait::async_trait]
impl Tool for GetServiceMetadata {
    fn name(&self) -> &'static str {
        "get_service_metadata"
    }
    fn description(&self) -> &'static str {
        "Look up a service in the service catalogue: owning team, tier (1 = most critical), on-call channel, repository, description."
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
        Ok(ToolOutput::json(match ctx.catalogue.service(&a.service) {
            Some(s) => serde_json::json!({
                "known": true, "name": s.name, "team": s.team, "tier": s.tier,
                "oncall_channel": s.oncall_channel, "repo": s.repo, "description": s.description,
                "language": s.language, "owners": s.owners,
            }),
            None => serde_json::json!({
                "known": false, "name": a.service,
                "note": "unknown service: not in the service catalogue; treat tier as unknown",
            }),
        }))
    }
}
