//! The seam between the runner and a brain (built-in engine or LLM).

use super::conclusions::{CorrelationFindings, LogFindings};
use sentinel_model::{AgentRole, Alert, RemediationReport, TriageReport};

/// What an agent is told when it starts: the alert and its colleagues' conclusions so far.
#[derive(Debug, Clone)]
pub struct Brief {
    pub role: AgentRole,
    pub incident_id: String,
    pub alert: Alert,
    pub triage: Option<TriageReport>,
    pub findings: Option<LogFindings>,
    pub correlation: Option<CorrelationFindings>,
    pub remediation: Option<RemediationReport>,
    pub tool_budget_left: u32,
}

/// One tool call and its outcome, as the agent sees it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub call_id: String,
    pub tool: String,
    pub args: serde_json::Value,
    pub ok: bool,
    /// The result, or `{"error": "..."}`.
    pub result: serde_json::Value,
}

/// A call the agent wants; `args` is `Err` when the model produced malformed JSON.
#[derive(Debug, Clone)]
pub struct PlannedCall {
    pub call_id: String,
    pub tool: String,
    pub args: Result<serde_json::Value, String>,
}

#[derive(Debug, Clone)]
pub enum Step {
    Call(Vec<PlannedCall>),
    Conclude(serde_json::Value),
}

#[derive(Debug, Clone)]
pub struct ModelCallRecord {
    pub model: String,
    pub ms: f64,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    #[error("model error: {0}")]
    Model(#[from] crate::llm::LanguageModelError),
    #[error("the agent's answer was unusable: {0}")]
    BadAnswer(String),
}

#[async_trait::async_trait]
pub trait Policy: Send {
    /// Called first with no exchanges, then with every exchange of this agent so far.
    async fn next(&mut self, brief: &Brief, history: &[Exchange]) -> Result<Step, PolicyError>;

    /// Model calls made since the last drain (for the trajectory).
    fn drain_model_calls(&mut self) -> Vec<ModelCallRecord> {
        Vec::new()
    }
}

/// Makes the policy for each role (per-role model choice lives here).
pub trait Brains: Send + Sync {
    fn policy_for(&self, role: AgentRole) -> Box<dyn Policy>;
    /// The model name used for a role, for events.
    fn model_for(&self, role: AgentRole) -> String;
}

/// Helper for policies: a planned call with fresh id.
pub fn call(tool: &str, args: serde_json::Value, n: usize) -> PlannedCall {
    PlannedCall {
        call_id: format!("{tool}-{n}"),
        tool: tool.to_string(),
        args: Ok(args),
    }
}

/// The latest successful result of `tool` in the history.
pub fn result_of<'a>(history: &'a [Exchange], tool: &str) -> Option<&'a serde_json::Value> {
    history
        .iter()
        .rev()
        .find(|e| e.tool == tool && e.ok)
        .map(|e| &e.result)
}

/// Whether `tool` was called at all (successfully or not).
pub fn called(history: &[Exchange], tool: &str) -> bool {
    history.iter().any(|e| e.tool == tool)
}
