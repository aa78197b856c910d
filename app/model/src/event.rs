//! Run events: the append-only trajectory of an incident, streamed live to dashboards.

use super::AgentRole;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One step of an investigation. `seq` is global and strictly increasing; it is the SSE `id:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    pub seq: i64,
    pub incident_id: String,
    pub ts: DateTime<Utc>,
    pub agent: AgentRole,
    #[serde(flatten)]
    pub kind: RunEventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunEventKind {
    IncidentOpened {
        service: String,
        title: String,
    },
    AlertRepeated {
        count: i64,
    },
    AgentStarted {
        brief: String,
    },
    AgentSkipped {
        reason: String,
    },
    ModelCalled {
        #[serde(default)]
        input_tokens: u32,
        #[serde(default)]
        output_tokens: u32,
        model: String,
        ms: f64,
        ok: bool,
        detail: String,
        /// What was cut from the conversation to fit the model's context window.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        truncated: Vec<String>,
    },
    ToolCalled {
        call_id: String,
        tool: String,
        args: serde_json::Value,
    },
    ToolResult {
        call_id: String,
        tool: String,
        ok: bool,
        ms: f64,
        result: serde_json::Value,
    },
    Handoff {
        from: AgentRole,
        to: AgentRole,
        reason: String,
    },
    AgentCompleted {
        conclusion: serde_json::Value,
        summary: String,
    },
    AgentFailed {
        error: String,
    },
    /// The role's model failed it (an unusable answer, the provider down, a budget spent):
    /// the built-in engine takes the role over from here.
    AgentFellBack {
        model: String,
        reason: String,
    },
    ApprovalRequested {
        approval: super::ApprovalRequest,
    },
    ApprovalDecided {
        outcome: super::ApprovalOutcome,
        by: String,
        comment: String,
    },
    CapReached {
        cap: u32,
        reason: String,
    },
    IncidentResolved {
        summary: String,
    },
    IncidentEscalated {
        reason: String,
    },
    IncidentFailed {
        error: String,
    },
    AlertResolved {
        note: String,
    },
    /// A notification about the incident went out (or did not): Slack, PagerDuty, an outbound
    /// webhook or email. One event per attempt, so the timeline shows retries and failures.
    Notified {
        /// `slack`, `pagerduty`, `webhook` or `email`.
        channel: String,
        /// What it was about: `incident.opened`, `incident.awaiting_approval`,
        /// `incident.decided`, `incident.resolved`, `incident.escalated`, `incident.updated`.
        event: String,
        /// Where it went, without secrets (a host, a channel, an address).
        target: String,
        /// `sent`, `retrying`, `failed` (given up; kept as a dead letter) or `refused`.
        outcome: String,
        attempt: u32,
        #[serde(default)]
        detail: String,
    },
}

impl RunEventKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::IncidentOpened { .. } => "incident_opened",
            Self::AlertRepeated { .. } => "alert_repeated",
            Self::AgentStarted { .. } => "agent_started",
            Self::AgentSkipped { .. } => "agent_skipped",
            Self::ModelCalled { .. } => "model_called",
            Self::ToolCalled { .. } => "tool_called",
            Self::ToolResult { .. } => "tool_result",
            Self::Handoff { .. } => "handoff",
            Self::AgentCompleted { .. } => "agent_completed",
            Self::AgentFailed { .. } => "agent_failed",
            Self::AgentFellBack { .. } => "agent_fell_back",
            Self::ApprovalRequested { .. } => "approval_requested",
            Self::ApprovalDecided { .. } => "approval_decided",
            Self::CapReached { .. } => "cap_reached",
            Self::IncidentResolved { .. } => "incident_resolved",
            Self::IncidentEscalated { .. } => "incident_escalated",
            Self::IncidentFailed { .. } => "incident_failed",
            Self::AlertResolved { .. } => "alert_resolved",
            Self::Notified { .. } => "notified",
        }
    }

    /// A one-line text for the event feed.
    pub fn describe(&self) -> String {
        match self {
            Self::IncidentOpened { service, title } => {
                format!("incident opened on {service}: {title}")
            }
            Self::AlertRepeated { count } => format!("alert repeated ({count} so far)"),
            Self::AgentStarted { brief } => format!("started: {brief}"),
            Self::AgentSkipped { reason } => format!("skipped: {reason}"),
            Self::ModelCalled {
                model,
                ms,
                ok,
                truncated,
                ..
            } => {
                format!(
                    "model {model} {} in {ms:.0} ms{}",
                    if *ok { "answered" } else { "failed" },
                    if truncated.is_empty() {
                        String::new()
                    } else {
                        format!(" (cut to fit: {})", truncated.join("; "))
                    }
                )
            }
            Self::ToolCalled { tool, args, .. } => format!("→ {tool}({})", compact(args, 120)),
            Self::ToolResult { tool, ok, ms, .. } => {
                format!(
                    "← {tool} {} in {ms:.1} ms",
                    if *ok { "ok" } else { "error" }
                )
            }
            Self::Handoff { from, to, reason } => format!("handoff {from} → {to}: {reason}"),
            Self::AgentCompleted { summary, .. } => format!("done: {summary}"),
            Self::AgentFailed { error } => format!("failed: {error}"),
            Self::AgentFellBack { model, reason } => {
                format!("{model} failed ({reason}); the built-in engine takes over")
            }
            Self::ApprovalRequested { approval } => format!(
                "approval requested: {} {}",
                approval.action,
                approval.target.as_deref().unwrap_or("")
            ),
            Self::ApprovalDecided { outcome, by, .. } => {
                format!("approval {} by {by}", outcome.as_str())
            }
            Self::CapReached { cap, .. } => format!("tool-call cap of {cap} reached"),
            Self::IncidentResolved { .. } => "incident resolved".to_string(),
            Self::IncidentEscalated { reason } => format!("escalated: {reason}"),
            Self::IncidentFailed { error } => format!("failed: {error}"),
            Self::AlertResolved { note } => format!("alert resolved at source: {note}"),
            Self::Notified {
                channel,
                event,
                target,
                outcome,
                attempt,
                detail,
            } => {
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                };
                format!("{channel} {event} → {target}: {outcome} (attempt {attempt}){detail}")
            }
        }
    }
}

fn compact(v: &serde_json::Value, max: usize) -> String {
    let s = v.to_string();
    if s.chars().count() > max {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    } else {
        s
    }
}
