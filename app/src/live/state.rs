//! Folding run events into the dashboard's view of one incident.

use crate::model::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardStatus {
    Idle,
    Working,
    Done,
    Error,
    AwaitingApproval,
    Skipped,
}

impl CardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Working => "working",
            Self::Done => "done",
            Self::Error => "error",
            Self::AwaitingApproval => "awaiting approval",
            Self::Skipped => "skipped",
        }
    }
    pub fn class(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Working => "working",
            Self::Done => "done",
            Self::Error => "error",
            Self::AwaitingApproval => "awaiting",
            Self::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallView {
    pub call_id: String,
    pub tool: String,
    pub args: serde_json::Value,
    pub result: Option<serde_json::Value>,
    pub ok: Option<bool>,
    pub ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardView {
    pub role: AgentRole,
    pub status: CardStatus,
    pub tool_calls: Vec<ToolCallView>,
    pub conclusion: Option<String>,
    pub detail: Option<String>,
    pub model_calls: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    pub incident_id: Option<String>,
    pub service: Option<String>,
    pub title: Option<String>,
    pub status: IncidentStatus,
    pub cards: Vec<CardView>,
    pub feed: Vec<RunEvent>,
    pub pending: Option<ApprovalRequest>,
    pub tool_calls: usize,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished: bool,
    pub outcome: Option<String>,
    pub last_seq: i64,
}

impl Default for LiveState {
    fn default() -> Self {
        Self {
            incident_id: None,
            service: None,
            title: None,
            status: IncidentStatus::Open,
            cards: AgentRole::ALL
                .iter()
                .map(|r| CardView {
                    role: *r,
                    status: CardStatus::Idle,
                    tool_calls: vec![],
                    conclusion: None,
                    detail: None,
                    model_calls: 0,
                })
                .collect(),
            feed: vec![],
            pending: None,
            tool_calls: 0,
            started_at: None,
            last_at: None,
            finished: false,
            outcome: None,
            last_seq: 0,
        }
    }
}

impl LiveState {
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RunEvent>) -> Self {
        let mut s = Self::default();
        for e in events {
            s.apply(e);
        }
        s
    }

    pub fn card(&self, role: AgentRole) -> &CardView {
        self.cards
            .iter()
            .find(|c| c.role == role)
            .unwrap_or(&self.cards[0])
    }

    fn card_mut(&mut self, role: AgentRole) -> &mut CardView {
        let i = self.cards.iter().position(|c| c.role == role).unwrap_or(0);
        &mut self.cards[i]
    }

    /// Agents currently working.
    pub fn active(&self) -> usize {
        self.cards
            .iter()
            .filter(|c| c.status == CardStatus::Working)
            .count()
    }

    /// Applies one event (events of other incidents and repeats are ignored).
    pub fn apply(&mut self, e: &RunEvent) {
        if e.seq <= self.last_seq {
            return;
        }
        if self
            .incident_id
            .as_ref()
            .is_some_and(|id| id != &e.incident_id)
        {
            return;
        }
        self.last_seq = e.seq;
        self.incident_id
            .get_or_insert_with(|| e.incident_id.clone());
        self.started_at.get_or_insert(e.ts);
        self.last_at = Some(e.ts);
        self.feed.push(e.clone());
        let role = e.agent;
        match &e.kind {
            RunEventKind::IncidentOpened { service, title } => {
                self.service = Some(service.clone());
                self.title = Some(title.clone());
                self.status = IncidentStatus::Open;
            }
            RunEventKind::AgentStarted { .. } => {
                self.status = IncidentStatus::Investigating;
                let c = self.card_mut(role);
                c.status = CardStatus::Working;
                let o = self.card_mut(AgentRole::Orchestrator);
                if o.status == CardStatus::Idle {
                    o.status = CardStatus::Working;
                }
            }
            RunEventKind::AgentSkipped { reason } => {
                let c = self.card_mut(role);
                c.status = CardStatus::Skipped;
                c.detail = Some(reason.clone());
            }
            RunEventKind::ModelCalled { .. } => self.card_mut(role).model_calls += 1,
            RunEventKind::ToolCalled {
                call_id,
                tool,
                args,
            } => {
                self.tool_calls += 1;
                self.card_mut(role).tool_calls.push(ToolCallView {
                    call_id: call_id.clone(),
                    tool: tool.clone(),
                    args: args.clone(),
                    result: None,
                    ok: None,
                    ms: None,
                });
            }
            RunEventKind::ToolResult {
                call_id,
                ok,
                ms,
                result,
                ..
            } => {
                if let Some(t) = self
                    .card_mut(role)
                    .tool_calls
                    .iter_mut()
                    .rev()
                    .find(|t| &t.call_id == call_id && t.ok.is_none())
                {
                    t.ok = Some(*ok);
                    t.ms = Some(*ms);
                    t.result = Some(result.clone());
                }
            }
            RunEventKind::Handoff { from, to, reason } => {
                self.card_mut(AgentRole::Orchestrator).detail =
                    Some(format!("{} → {}: {reason}", from.title(), to.title()));
            }
            RunEventKind::AgentCompleted { summary, .. } => {
                let c = self.card_mut(role);
                c.status = CardStatus::Done;
                c.conclusion = Some(summary.clone());
            }
            RunEventKind::AgentFailed { error } => {
                let c = self.card_mut(role);
                c.status = CardStatus::Error;
                c.detail = Some(error.clone());
            }
            RunEventKind::AgentFellBack { model, reason } => {
                let c = self.card_mut(role);
                c.status = CardStatus::Working;
                c.detail = Some(format!(
                    "{model} failed ({reason}); built-in engine took over"
                ));
            }
            RunEventKind::ApprovalRequested { approval } => {
                self.pending = Some(approval.clone());
                self.status = IncidentStatus::AwaitingApproval;
                self.card_mut(AgentRole::Remediation).status = CardStatus::AwaitingApproval;
                self.card_mut(AgentRole::Orchestrator).status = CardStatus::AwaitingApproval;
            }
            RunEventKind::ApprovalDecided { outcome, by, .. } => {
                self.pending = None;
                self.status = IncidentStatus::Investigating;
                self.card_mut(AgentRole::Orchestrator).status = CardStatus::Working;
                self.card_mut(AgentRole::Remediation).detail =
                    Some(format!("{} by {by}", outcome.as_str()));
            }
            RunEventKind::CapReached { reason, .. } => {
                self.card_mut(role).status = CardStatus::Error;
                self.card_mut(role).detail = Some(reason.clone());
            }
            RunEventKind::IncidentResolved { summary } => {
                self.end(IncidentStatus::Resolved, summary.clone())
            }
            RunEventKind::IncidentEscalated { reason } => {
                self.end(IncidentStatus::Escalated, reason.clone())
            }
            RunEventKind::IncidentFailed { error } => {
                self.end(IncidentStatus::Failed, error.clone())
            }
            RunEventKind::AlertRepeated { .. }
            | RunEventKind::AlertResolved { .. }
            | RunEventKind::Notified { .. } => {}
        }
    }

    fn end(&mut self, status: IncidentStatus, outcome: String) {
        self.status = status;
        self.finished = true;
        self.pending = None;
        self.outcome = Some(outcome);
        let o = self.card_mut(AgentRole::Orchestrator);
        o.status = if status == IncidentStatus::Failed {
            CardStatus::Error
        } else {
            CardStatus::Done
        };
        for c in &mut self.cards {
            if c.status == CardStatus::Working {
                c.status = CardStatus::Error;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: i64, agent: AgentRole, kind: RunEventKind) -> RunEvent {
        RunEvent {
            seq,
            incident_id: "inc-1".into(),
            ts: chrono::Utc::now(),
            agent,
            kind,
        }
    }

    #[test]
    fn events_drive_cards_and_the_overlay() {
        let approval = ApprovalRequest {
            approval_id: "a".into(),
            incident_id: "inc-1".into(),
            action: RemediationAction::Rollback,
            target: Some("d1".into()),
            risk: "low".into(),
            evidence: vec![],
            proposer: "remediation".into(),
            requested_at: chrono::Utc::now(),
            expires_at: chrono::Utc::now(),
        };
        let evs = vec![
            ev(
                1,
                AgentRole::Orchestrator,
                RunEventKind::IncidentOpened {
                    service: "api".into(),
                    title: "t".into(),
                },
            ),
            ev(
                2,
                AgentRole::Triage,
                RunEventKind::AgentStarted { brief: "b".into() },
            ),
            ev(
                3,
                AgentRole::Triage,
                RunEventKind::ToolCalled {
                    call_id: "c1".into(),
                    tool: "get_service_metadata".into(),
                    args: serde_json::json!({}),
                },
            ),
            ev(
                4,
                AgentRole::Triage,
                RunEventKind::ToolResult {
                    call_id: "c1".into(),
                    tool: "get_service_metadata".into(),
                    ok: true,
                    ms: 1.0,
                    result: serde_json::json!({}),
                },
            ),
            ev(
                5,
                AgentRole::Triage,
                RunEventKind::AgentCompleted {
                    conclusion: serde_json::json!({}),
                    summary: "api P1".into(),
                },
            ),
            ev(
                6,
                AgentRole::Remediation,
                RunEventKind::ApprovalRequested { approval },
            ),
        ];
        let mut s = LiveState::from_events(&evs);
        assert_eq!(s.card(AgentRole::Triage).status, CardStatus::Done);
        assert_eq!(s.card(AgentRole::Triage).tool_calls[0].ok, Some(true));
        assert_eq!(s.tool_calls, 1);
        assert!(s.pending.is_some());
        assert_eq!(s.status, IncidentStatus::AwaitingApproval);
        // Replays are idempotent.
        s.apply(&evs[2]);
        assert_eq!(s.tool_calls, 1);
        s.apply(&ev(
            7,
            AgentRole::Remediation,
            RunEventKind::ApprovalDecided {
                outcome: ApprovalOutcome::Approved,
                by: "x".into(),
                comment: String::new(),
            },
        ));
        assert!(s.pending.is_none());
        s.apply(&ev(
            8,
            AgentRole::Orchestrator,
            RunEventKind::IncidentResolved {
                summary: "ok".into(),
            },
        ));
        assert!(s.finished);
        assert_eq!(s.status, IncidentStatus::Resolved);
    }
}
