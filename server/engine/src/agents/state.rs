//! The runner's checkpoint: everything needed to resume an incident after a human decision,
//! even after a restart. Saved to `incidents.state_json` after every agent.

use super::conclusions::{CorrelationFindings, LogFindings, RemediationPlan};
use sentinel_model::{
    AgentRole, ApprovalOutcome, CommsReport, RemediationReport, ToolCallSummary, TriageReport,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunState {
    /// The next agent to run (None: finished).
    pub next: Option<AgentRole>,
    pub triage: Option<TriageReport>,
    pub findings: Option<LogFindings>,
    pub correlation: Option<CorrelationFindings>,
    pub plan: Option<RemediationPlan>,
    pub remediation: Option<RemediationReport>,
    pub comms: Option<CommsReport>,
    pub tool_calls: Vec<ToolCallSummary>,
    pub llm_calls: u32,
    /// Active run time (excludes waiting for a human).
    pub elapsed_ms: f64,
    /// Time from start to the remediation proposal.
    pub proposal_ms: Option<f64>,
    pub stop_reason: Option<String>,
    pub pending_approval: Option<String>,
    pub approval: Option<ApprovalOutcome>,
    pub skipped: Vec<(AgentRole, String)>,
    /// Roles whose model failed them and the built-in engine finished: (role, why).
    #[serde(default)]
    pub fallbacks: Vec<(AgentRole, String)>,
    /// Cuts made to fit a model's context window: (role, what).
    #[serde(default)]
    pub truncations: Vec<(AgentRole, String)>,
    /// Model usage per agent, in the order the agents first called a model.
    #[serde(default)]
    pub usage: Vec<sentinel_model::AgentUsage>,
}
