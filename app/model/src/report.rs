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
    /// Scenarios solved: origin right, an acceptable action, and a change-targeting action
    /// aimed at the culprit.
    #[serde(default)]
    pub solved: usize,
    /// Scenarios where the action would have done harm (an innocent change rolled back, or an
    /// action the scenario lists as harmful).
    #[serde(default)]
    pub harmful: usize,
    /// The same counts per suite (public, regression, sealed …), in the order run.
    #[serde(default)]
    pub suites: Vec<SuiteSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteSummary {
    pub suite: String,
    pub scenarios: usize,
    pub solved: usize,
    pub harmful: usize,
    pub avg_total_score: f64,
    pub pass_rate: f64,
}

/// One row of the calibration table: runs whose stated confidence fell in `[lo, hi)`, and how
/// many of them were solved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub lo: f64,
    pub hi: f64,
    pub runs: usize,
    pub solved: usize,
    /// Of those runs, how many acted (did not escalate).
    pub acted: usize,
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
    #[serde(default)]
    pub solved: bool,
    #[serde(default)]
    pub harmful: bool,
    /// Why it was (not) solved or harmful, in one line.
    #[serde(default)]
    pub verdict: String,
    /// The suite the scenario was run in.
    #[serde(default)]
    pub suite: String,
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
    /// Model tokens and cost of the run (absent for the built-in engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<crate::UsageSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub generated_at: DateTime<Utc>,
    pub summary: EvalSummary,
    pub dimension_stats: Vec<DimensionStat>,
    pub results: Vec<EvalResult>,
    /// Stated confidence against outcome, over every scenario run.
    #[serde(default)]
    pub calibration: Vec<CalibrationBin>,
}

/// Where an evaluation started from the dashboard or the API stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalJobState {
    Running,
    /// Every scenario ran; the report is stored (the eval page's newest run).
    Finished,
    /// The evaluation could not finish (the error says why); nothing was stored.
    Failed,
}

/// One finished scenario of a running evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalProgressLine {
    pub suite: String,
    pub scenario_id: String,
    pub solved: bool,
    pub harmful: bool,
    pub total_score: f64,
    pub verdict: String,
}

/// An evaluation run by the server (`POST /api/evals`, the eval page's *Run* button), as it
/// progresses. One runs at a time per server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalProgress {
    pub id: String,
    pub state: EvalJobState,
    /// The operator who started it.
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    pub suites: Vec<String>,
    pub total: usize,
    pub done: usize,
    pub solved: usize,
    pub harmful: usize,
    /// Scenarios whose run failed (counted in `done`, not solved).
    pub errors: usize,
    /// The latest finished scenarios, newest last (at most [`EvalProgress::RECENT`]).
    pub recent: Vec<EvalProgressLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl EvalProgress {
    /// How many finished scenarios `recent` keeps.
    pub const RECENT: usize = 12;
}

/// The suites the server can evaluate and the evaluation it runs or ran last
/// (`GET /api/evals/current`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalStatus {
    /// Suite names from `[eval] suites` (default: `public`, the scenarios directory).
    pub suites: Vec<String>,
    pub current: Option<EvalProgress>,
}
