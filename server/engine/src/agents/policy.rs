//! The seam between the runner and a brain (built-in engine or LLM).

use super::conclusions::{Conclusion, CorrelationFindings, LogFindings};
use crate::tools::{Tool, TypedOutput};
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
    /// The result as JSON (what a model reads), or `{"error": "..."}`.
    pub result: serde_json::Value,
    /// The tool's typed output (what the built-in policies read); `None` on an error.
    pub output: Option<TypedOutput>,
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
    Conclude(Conclusion),
}

#[derive(Debug, Clone)]
pub struct ModelCallRecord {
    pub model: String,
    pub ms: f64,
    pub ok: bool,
    pub detail: String,
    pub input_tokens: u32,
    pub output_tokens: u32,
    /// What was cut from the conversation to fit the context window before this call.
    pub truncated: Vec<String>,
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
    /// What the role's model costs per token, when known.
    fn price_for(&self, role: AgentRole) -> Option<crate::llm::prices::Price> {
        crate::llm::prices::default_price(&self.model_for(role))
    }
    /// Whether the role runs on the built-in engine already (then there is nothing to fall
    /// back to when it fails).
    fn is_builtin(&self, role: AgentRole) -> bool {
        self.model_for(role) == super::builtin::MODEL_NAME
    }
}

/// Helper for policies: a planned call with fresh id.
pub fn call(tool: &str, args: serde_json::Value, n: usize) -> PlannedCall {
    PlannedCall {
        call_id: format!("{tool}-{n}"),
        tool: tool.to_string(),
        args: Ok(args),
    }
}

/// The typed output of the latest successful call of tool `T` in the history.
pub fn output_of<T: Tool>(history: &[Exchange]) -> Option<&T::Output> {
    history
        .iter()
        .rev()
        .find(|e| e.tool == T::NAME && e.ok)
        .and_then(|e| e.output.as_ref())
        .and_then(|o| o.get::<T>())
}

/// Whether tool `T` answered successfully (even if its result was cut to a preview).
pub fn succeeded<T: Tool>(history: &[Exchange]) -> bool {
    history.iter().any(|e| e.tool == T::NAME && e.ok)
}

/// Whether tool `T` was called at all (successfully or not).
pub fn called<T: Tool>(history: &[Exchange]) -> bool {
    history.iter().any(|e| e.tool == T::NAME)
}

/// A planned call of tool `T` with typed-by-name arguments.
pub fn call_tool<T: Tool>(args: serde_json::Value, n: usize) -> PlannedCall {
    call(T::NAME, args, n)
}
