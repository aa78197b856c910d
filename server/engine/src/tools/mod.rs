//! The tools agents may call. Each tool is one file: a typed argument struct (with a JSON
//! schema from schemars), a description, and an async `call`. [`registry::Registry`] lists them
//! all and is the only place where typed arguments meet untyped JSON.
//!
//! Tools read (telemetry, memory, catalogue) or draft (PRs, plans, summaries). None of them
//! executes anything in production; the only way forward for a change is
//! `request_human_approval`, which suspends the run.

mod draft_flag_change;
mod draft_hotfix;
mod draft_restart_plan;
mod draft_rollback_pr;
mod draft_scaling_plan;
mod draft_slack_summary;
mod fetch_logs;
pub mod gate;
mod get_dependencies;
mod get_runbook;
mod get_service_metadata;
mod list_changes;
mod list_recent_deploys;
mod query_metrics;
pub mod registry;
mod request_human_approval;
mod search_past_incidents;

pub use registry::Registry;

use crate::memory::episodic::EpisodicMemory;
use crate::memory::semantic::Catalogue;
use crate::store::Store;
use crate::telemetry::Telemetry;
use schemars::JsonSchema;
use sentinel_model::{Alert, ApprovalRequest};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// What a tool may use while it runs.
#[derive(Clone)]
pub struct ToolContext {
    pub incident_id: String,
    pub alert: Alert,
    pub telemetry: Arc<Telemetry>,
    pub catalogue: Arc<Catalogue>,
    pub memory: Option<EpisodicMemory>,
    pub store: Store,
    pub approval_timeout: Duration,
    /// The agent calling (recorded as the proposer of approvals).
    pub agent: sentinel_model::AgentRole,
}

/// A tool's result: JSON for the model/policy, plus a suspension request from the gate.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub value: serde_json::Value,
    pub suspend: Option<ApprovalRequest>,
}

impl ToolOutput {
    pub fn json(value: serde_json::Value) -> Self {
        Self {
            value,
            suspend: None,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ToolError {
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    #[error("unknown tool {0:?}")]
    UnknownTool(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("tool failed: {0}")]
    Failed(String),
}

#[async_trait::async_trait]
pub trait Tool: Send + Sync {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// JSON schema of the arguments.
    fn parameters(&self) -> serde_json::Value;
    /// Whether this tool is the approval gate itself.
    fn is_gate(&self) -> bool {
        false
    }
    async fn call(
        &self,
        ctx: &ToolContext,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError>;
}

/// The schema of a typed argument struct, as plain JSON.
pub fn schema_of<T: JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
}

/// Parses typed arguments, naming the bad field.
pub fn parse_args<T: DeserializeOwned>(args: serde_json::Value) -> Result<T, ToolError> {
    let args = if args.is_null() {
        serde_json::json!({})
    } else {
        args
    };
    serde_path_to_error::deserialize(args).map_err(|e| {
        let path = e.path().to_string();
        ToolError::InvalidArgs(if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        })
    })
}

/// Parses a `since`-style window: `hours_back` relative to the incident's reference time.
pub fn since_hours(
    ctx: &ToolContext,
    hours_back: Option<f64>,
    default: f64,
) -> chrono::DateTime<chrono::Utc> {
    let h = hours_back.unwrap_or(default).clamp(0.01, 24.0 * 30.0);
    ctx.telemetry.now() - chrono::Duration::milliseconds((h * 3_600_000.0) as i64)
}

/// The sections a status summary must have (for the judge).
pub fn registry_sections() -> [&'static str; 6] {
    draft_slack_summary::SECTIONS
}
