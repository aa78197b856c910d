//! `get_runbook`: the runbook for a service and failure class (generic one as fallback).

use super::*;
use crate::memory::semantic::Runbook;
use serde::{Deserialize, Serialize};

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

/// The runbook found, and how it was matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub found: bool,
    /// Written for this service (not the generic `*` one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specific: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<Runbook>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Output {
    fn found(r: &Runbook, by: &str, similarity: Option<f32>) -> Self {
        Self {
            found: true,
            specific: Some(r.service != "*"),
            matched_by: Some(by.to_string()),
            similarity,
            runbook: Some(r.clone()),
            note: None,
        }
    }
}

pub struct GetRunbook;

#[async_trait::async_trait]
impl Tool for GetRunbook {
    const NAME: &'static str = "get_runbook";
    const DESCRIPTION: &'static str = "Fetch the runbook for a service and failure class; falls back to the generic runbook for the class.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let cat = &ctx.catalogue;
        if let Some(r) = cat.runbook_for_class(&a.service, &a.failure_class) {
            let by = if r.service == "*" {
                "failure class (generic runbook)"
            } else {
                "service and failure class"
            };
            return Ok(Output::found(r, by, None));
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
                return Ok(Output::found(
                    r,
                    "similarity",
                    Some((sim * 1000.0).round() / 1000.0),
                ));
            }
        }
        Ok(match cat.runbook(&a.service, &a.failure_class) {
            Some(r) => Output::found(r, "fallback", None),
            None => Output {
                found: false,
                specific: None,
                matched_by: None,
                similarity: None,
                runbook: None,
                note: Some(format!(
                    "no runbook for {} / {}",
                    a.service, a.failure_class
                )),
            },
        })
    }
}
