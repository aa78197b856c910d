//! The tools agents may call. Each tool is one file: a typed argument struct (with a JSON
//! schema from schemars), a description, and an async `call`. [`registry::Registry`] lists them
//! all and is the only place where typed arguments meet untyped JSON.
//!
//! Tools read (telemetry, memory, catalogue) or draft (PRs, plans, summaries). None of them
//! executes anything in production; the only way forward for a change is
//! `request_human_approval`, which suspends the run.

pub mod correlate_changes;
pub mod draft_flag_change;
pub mod draft_hotfix;
pub mod draft_restart_plan;
pub mod draft_rollback_pr;
pub mod draft_scaling_plan;
pub mod draft_slack_summary;
pub mod fetch_logs;
pub mod gate;
pub mod get_dependencies;
pub mod get_runbook;
pub mod get_service_metadata;
pub mod list_changes;
pub mod list_recent_deploys;
pub mod metric_onsets;
pub mod query_metrics;
pub mod registry;
pub mod request_human_approval;
pub mod search_past_incidents;

pub use registry::Registry;

use crate::memory::episodic::EpisodicMemory;
use crate::memory::semantic::Catalogue;
use crate::store::Store;
use crate::telemetry::Telemetry;
use schemars::JsonSchema;
use sentinel_model::{Alert, ApprovalRequest};
use serde::Serialize;
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

/// What a call through the registry returns: the typed output (for the built-in policies),
/// its JSON (for models and run events) and, from the gate only, a suspension request.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub value: serde_json::Value,
    /// The tool's [`Tool::Output`] as the agent sees it (after truncation); `None` when a
    /// truncated result no longer has the output's shape.
    pub typed: Option<TypedOutput>,
    pub suspend: Option<ApprovalRequest>,
}

/// A typed tool output behind a type-erased handle; read it back with
/// [`TypedOutput::get`] naming the tool.
#[derive(Clone)]
pub struct TypedOutput(Arc<dyn std::any::Any + Send + Sync>);

impl TypedOutput {
    pub fn new<T: Send + Sync + 'static>(v: T) -> Self {
        Self(Arc::new(v))
    }
    /// The output of tool `T`, if this is one.
    pub fn get<T: Tool>(&self) -> Option<&T::Output> {
        self.0.downcast_ref::<T::Output>()
    }
    /// The output as `O`, if it is one (several tools share an output type, e.g. [`Draft`]).
    pub fn downcast<O: 'static>(&self) -> Option<&O> {
        self.0.downcast_ref::<O>()
    }
}

impl std::fmt::Debug for TypedOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedOutput(..)")
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
    /// The safety rule refused the request (see `agents/safety.rs`).
    #[error("refused: {0}")]
    Refused(String),
}

/// One tool: typed arguments in, a typed output out. The registry is the only place either
/// meets JSON.
#[async_trait::async_trait]
pub trait Tool: Send + Sync + 'static {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    type Args: DeserializeOwned + JsonSchema + Send;
    type Output: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static;

    async fn call(&self, ctx: &ToolContext, args: Self::Args) -> Result<Self::Output, ToolError>;

    /// Whether this tool is the approval gate itself (exactly one is).
    const GATE: bool = false;

    /// The approval the output asks the runner to wait for (only the gate has one).
    fn suspension(_output: &Self::Output) -> Option<ApprovalRequest> {
        None
    }
}

/// What every `draft_*` tool returns: a document for a human, never an applied change.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, JsonSchema)]
pub struct Draft {
    pub draft_id: String,
    /// rollback_pr, hotfix_pr, flag_change, scaling_plan, restart_plan.
    pub kind: String,
    /// Always a draft ("draft (not merged)", "draft (not applied)").
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub title: String,
    pub body: String,
}

/// A deploy or change with how long before the alert it landed.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, JsonSchema)]
pub struct BeforeAlert<T> {
    #[serde(flatten)]
    pub item: T,
    pub minutes_before_alert: f64,
}

impl<T> BeforeAlert<T> {
    pub fn new(
        item: T,
        at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            item,
            minutes_before_alert: (now - at).num_seconds() as f64 / 60.0,
        }
    }
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
