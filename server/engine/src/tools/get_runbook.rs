//! `get_runbook`: the runbook for a service and failure class (generic one as fallback).

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    pub service: String,
    /// e.g. bad_deploy, db_pool, downstream_outage, memory_leak, config_regression, crash_loop, certificate, dns.
    pub failure_class: String,
    /// What is failing, in a sentence (used to find the closest runbook when none is written
    /// for this failure class).
    #[serde(default)]
    pub symptoms: Option<String>,
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
        let cat = &ctx.catalogue;
        if let Some(r) = cat.runbook_for_class(&a.service, &a.failure_class) {
            let by = if r.service == "*" {
                "failure class (generic runbook)"
            } else {
                "service and failure class"
            };
            return Ok(ToolOutput::json(
                serde_json::json!({ "found": true, "specific": r.service != "*", "matched_by": by, "runbook": r }),
            ));
        }
        // No runbook for this class: the closest by meaning, among the service's and the generic ones.
        if let Some(memory) = &ctx.memory {
            let query = format!(
                "{} failure on {}: {}",
                a.failure_class.replace('_', " "),
                a.service,
                a.symptoms.clone().unwrap_or_default()
            );
            let mut best: Option<(f32, &crate::memory::semantic::Runbook)> = None;
            for r in cat.runbooks_for(&a.service) {
                let text = format!(
                    "{} {} {}",
                    r.failure_class.replace('_', " "),
                    r.title,
                    r.summary
                );
                let sim = memory
                    .similarity(&query, &text)
                    .map_err(|e| ToolError::Failed(e.to_string()))?;
                if best.is_none_or(|(b, _)| sim > b) {
                    best = Some((sim, r));
                }
            }
            if let Some((sim, r)) = best {
                return Ok(ToolOutput::json(serde_json::json!({
                    "found": true, "specific": r.service != "*", "matched_by": "similarity",
                    "similarity": (sim * 1000.0).round() / 1000.0, "runbook": r,
                })));
            }
        }
        Ok(ToolOutput::json(
            match cat.runbook(&a.service, &a.failure_class) {
                Some(r) => {
                    serde_json::json!({ "found": true, "specific": r.service != "*", "matched_by": "fallback", "runbook": r })
                }
                None => {
                    serde_json::json!({ "found": false, "note": format!("no runbook for {} / {}", a.service, a.failure_class) })
                }
            },
        ))
    }
}
