//! Incidents and the run report (CONTRACTS.md §3): what a finished or running investigation
//! concluded, in the exact JSON shape scripts rely on.

use super::{Alert, FieldError, Priority};
use crate::FailureClass;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Investigating,
    AwaitingApproval,
    Resolved,
    Escalated,
    Failed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 6] = [
        Self::Open,
        Self::Investigating,
        Self::AwaitingApproval,
        Self::Resolved,
        Self::Escalated,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Investigating => "investigating",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Resolved => "resolved",
            Self::Escalated => "escalated",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| FieldError::new("status", format!("unknown status {raw:?}")))
    }

    /// Finished: nothing more will happen to this incident.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Resolved | Self::Escalated | Self::Failed)
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The remediation actions Sentinel may propose. Read case-insensitively (a model may write
/// `Rollback`); written in snake case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum RemediationAction {
    Rollback,
    Hotfix,
    Scale,
    Restart,
    Escalate,
    DisableFlag,
}

impl RemediationAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rollback => "rollback",
            Self::Hotfix => "hotfix",
            Self::Scale => "scale",
            Self::Restart => "restart",
            Self::Escalate => "escalate",
            Self::DisableFlag => "disable_flag",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "rollback" => Ok(Self::Rollback),
            "hotfix" => Ok(Self::Hotfix),
            "scale" => Ok(Self::Scale),
            "restart" => Ok(Self::Restart),
            "escalate" => Ok(Self::Escalate),
            "disable_flag" => Ok(Self::DisableFlag),
            other => Err(FieldError::new(
                "action",
                format!("unknown remediation action {other:?}"),
            )),
        }
    }

    /// Whether carrying the action out changes production (and so needs a human's approval).
    pub fn is_destructive(self) -> bool {
        !matches!(self, Self::Escalate)
    }

    /// Whether the action undoes a specific change (a rollback of a deploy, a flag turned
    /// off), so aiming it at the wrong change does harm.
    pub fn targets_change(self) -> bool {
        matches!(self, Self::Rollback | Self::DisableFlag)
    }
}

impl TryFrom<String> for RemediationAction {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Self::parse(&raw)
    }
}

impl fmt::Display for RemediationAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalOutcome {
    Approved,
    Rejected,
    TimedOut,
    NotRequired,
    Pending,
}

impl ApprovalOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::TimedOut => "timed_out",
            Self::NotRequired => "not_required",
            Self::Pending => "pending",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        [
            Self::Approved,
            Self::Rejected,
            Self::TimedOut,
            Self::NotRequired,
            Self::Pending,
        ]
        .into_iter()
        .find(|o| o.as_str() == raw)
        .ok_or_else(|| FieldError::new("approval", format!("unknown approval outcome {raw:?}")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarIncident {
    pub incident_id: String,
    pub similarity: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageReport {
    pub service: String,
    pub severity: Priority,
    pub duplicate_of: Option<String>,
    pub similar: Vec<SimilarIncident>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    #[serde(default)]
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub failure_class: FailureClass,
    pub summary: String,
    pub suspect_deploy: Option<String>,
    pub suspect_change: Option<String>,
    pub confidence: f64,
    pub evidence: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error_at: Option<DateTime<Utc>>,
    /// Every explanation considered, best first: the changes in the window and the
    /// explanations without a change (a dependency, a leak, a surge, an expiry …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hypotheses: Vec<Hypothesis>,
}

/// One explanation of the failure with the evidence for and against it (CONTRACTS.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hypothesis {
    /// `deploy`, a change kind (`feature_flag`, `config`, …), or a no-change explanation
    /// (`third_party_outage`, `upstream_failure`, `resource_leak`, `traffic_surge`, `expiry`,
    /// `platform`, `capacity`, `data_growth`, `unexplained`).
    pub kind: String,
    /// The change id or the service it points at.
    pub target: Option<String>,
    pub score: f64,
    #[serde(rename = "for", default)]
    pub evidence_for: Vec<String>,
    #[serde(default)]
    pub against: Vec<String>,
    /// Positive evidence that it explains the failure (more than timing): without it, a
    /// change is never rolled back or switched off.
    #[serde(default)]
    pub explains: bool,
    /// The failure also happens where this change is absent: it must not be rolled back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exonerated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemediationReport {
    pub action: RemediationAction,
    pub target: Option<String>,
    pub approval: ApprovalOutcome,
    #[serde(default)]
    pub rationale: String,
    #[serde(default)]
    pub risk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommsReport {
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallSummary {
    pub agent: String,
    pub tool: String,
    pub args: serde_json::Value,
    pub ok: bool,
    pub ms: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrajectorySummary {
    pub tool_calls: Vec<ToolCallSummary>,
    pub llm_calls: u32,
    pub elapsed_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Roles whose model failed them and the built-in engine finished (`role: why`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// What was cut from model conversations to fit their context windows (`role: what`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncations: Vec<String>,
    /// Tokens and cost of the model calls (absent when no model was called).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageSummary>,
}

/// Model usage of an incident: totals and per agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageSummary {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD, when every model used has a price.
    pub cost_usd: Option<f64>,
    pub agents: Vec<AgentUsage>,
}

/// One agent's model calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentUsage {
    pub agent: crate::AgentRole,
    pub model: String,
    pub calls: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Time spent waiting for the model.
    pub ms: f64,
    pub cost_usd: Option<f64>,
}

/// The run JSON of CONTRACTS.md §3; sections are `None` until the agent that fills them ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub incident_id: String,
    pub status: IncidentStatus,
    pub triage: Option<TriageReport>,
    pub diagnosis: Option<Diagnosis>,
    pub remediation: Option<RemediationReport>,
    pub comms: Option<CommsReport>,
    pub trajectory: TrajectorySummary,
    /// Which telemetry the agents read and which was unavailable (absent before any was asked).
    #[serde(default, skip_serializing_if = "TelemetryUse::is_empty")]
    pub telemetry: TelemetryUse,
}

/// The kinds of telemetry (`logs`, `changes`, `metrics`) an investigation consulted, and those
/// every query of which failed (not configured, or the backend down).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TelemetryUse {
    pub consulted: Vec<String>,
    pub unavailable: Vec<String>,
}

impl TelemetryUse {
    pub fn is_empty(&self) -> bool {
        self.consulted.is_empty() && self.unavailable.is_empty()
    }
}

/// A row of the incident list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub incident_id: String,
    pub service: String,
    pub severity: Option<Priority>,
    pub status: IncidentStatus,
    pub title: String,
    pub scenario_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub alert_count: i64,
}

/// Everything the incident page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub summary: IncidentSummary,
    pub alert: Alert,
    pub report: RunReport,
    pub pending_approval: Option<super::ApprovalRequest>,
}
