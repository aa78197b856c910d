//! `get_runbook`: the runbook for a service and failure class (generic one as fallback).

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    pub service: String,
    /// e.g. bad_deploy, db_pool, downstream_outage, memory_leak, config_regression, crash_loop, certificate, dns.
    pub failure_class: String,
}

pub struct GetRunbook;

#[async_trait::async_trait]
impl Tool for GetRunbook {
    fn name(&self) -> &'static str {
        "get_runbook"
    }
    fn description(&self) -> &'static str {
        "Fetch the runbook for a service and failure class; falls back to the generic runbook for the class."
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
        Ok(ToolOutput::json(
            match ctx.catalogue.runbook(&a.service, &a.failure_class) {
                Some(r) => {
                    serde_json::json!({ "found": true, "specific": r.service != "*", "runbook": r })
                }
                None => {
                    serde_json::json!({ "found": false, "note": format!("no runbook for {} / {}", a.service, a.failure_class) })
                }
            },
        ))
    }
}
