//! Evaluation report (CONTRACTS.md §4).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const DIMENSIONS: [&str; 6] = [
    "triage_accuracy",
    "root_cause_correctness",
    "tool_efficiency",
    "mttr",
    "remediation_safety",
    "comms_quality",
];

pub const PASS_THRESHOLD: f64 = 3.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    pub scenarios_run: usize,
    pub avg_total_score: f64,
    pub pass_rate: f64,
    pub pass_threshold: f64,
    pub judge_model: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionStat {
    pub dimension: String,
    pub avg_score: f64,
    pub min_score: f64,
    pub max_score: f64,
    pub scenario_count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub dimension: String,
    pub score: f64,
    pub reasoning: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    pub incident_id: String,
    pub scenario_id: String,
    pub total_score: f64,
    pub passed: bool,
    pub dimension_scores: Vec<DimensionScore>,
    /// A condensed trajectory (diagnosis, action, tool calls) for the eval page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectory: Option<CondensedTrajectory>,
}

/// What the judge (and the eval page) see of a run: short, not the full event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CondensedTrajectory {
    pub status: String,
    pub service: Option<String>,
    pub severity: Option<String>,
    pub origin_service: Option<String>,
    pub failure_class: Option<String>,
    pub diagnosis: Option<String>,
    pub suspect: Option<String>,
    pub confidence: Option<f64>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub approval: Option<String>,
    /// "agent: tool(args) → ok|error", in order.
    pub steps: Vec<String>,
    pub comms: Option<String>,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub generated_at: DateTime<Utc>,
    pub summary: EvalSummary,
    pub dimension_stats: Vec<DimensionStat>,
    pub results: Vec<EvalResult>,
}
