//! How the runner records a run: status changes and checkpoints (events first, then the
//! incident row), the suspension at the gate (one transaction with the approval), the end of
//! a run, a human decision folded into the run, and the finished incident in episodic memory.

use super::conclusions::RemediationPlan;
use super::runner::{RunError, RunOutcome, Runner};
use super::state::RunState;
use crate::memory::episodic::MemoryRecord;
use crate::tools::ToolContext;
use sentinel_model::*;

impl Runner {
    /// Folds a committed decision into the run state and hands over to Comms.
    pub(super) async fn apply_decision(
        &self,
        id: &str,
        state: &mut RunState,
        outcome: ApprovalOutcome,
        by: &str,
        comment: &str,
    ) -> Result<(), RunError> {
        let plan = state
            .plan
            .clone()
            .ok_or_else(|| RunError::Corrupt(id.to_string()))?;
        if !self.store.has_event(id, "approval_decided").await? {
            self.events
                .emit(
                    id,
                    AgentRole::Remediation,
                    RunEventKind::ApprovalDecided {
                        outcome,
                        by: by.to_string(),
                        comment: comment.to_string(),
                    },
                )
                .await?;
            let report = plan.report(outcome, Some(by), Some(comment));
            self.events
                .emit(
                    id,
                    AgentRole::Remediation,
                    RunEventKind::AgentCompleted {
                        conclusion: serde_json::to_value(&report).unwrap_or_default(),
                        summary: format!(
                            "{} {} — {}",
                            plan.action,
                            plan.target.clone().unwrap_or_default(),
                            outcome.as_str()
                        ),
                    },
                )
                .await?;
            self.handoff(
                id,
                AgentRole::Remediation,
                AgentRole::Comms,
                "remediation decided",
            )
            .await?;
        }
        state.approval = Some(outcome);
        state.pending_approval = None;
        state.remediation = Some(plan.report(outcome, Some(by), Some(comment)));
        state.next = Some(AgentRole::Comms);
        Ok(())
    }

    pub(super) fn gate(&self, ctx: &ToolContext, plan: &RemediationPlan) -> ApprovalRequest {
        crate::tools::gate::approval_request(
            crate::tools::gate::Proposal {
                incident_id: ctx.incident_id.clone(),
                action: plan.action,
                target: plan.target.clone(),
                risk: plan.risk.clone(),
                evidence: vec![plan.rationale.clone()],
                proposer: "orchestrator (gate enforced)".into(),
            },
            ctx.approval_timeout,
        )
    }

    pub(super) async fn suspend(
        &self,
        id: &str,
        state: &mut RunState,
        req: ApprovalRequest,
    ) -> Result<RunOutcome, RunError> {
        state.proposal_ms.get_or_insert(state.elapsed_ms);
        state.pending_approval = Some(req.approval_id.clone());
        state.next = Some(AgentRole::Comms);
        if let Some(plan) = &state.plan {
            state.remediation = Some(plan.report(ApprovalOutcome::Pending, None, None));
        }
        self.events
            .emit(
                id,
                AgentRole::Remediation,
                RunEventKind::ApprovalRequested {
                    approval: req.clone(),
                },
            )
            .await?;
        // The approval row and the incident's status commit together (see the store).
        self.events.flush().await?;
        let report = build_report(id, IncidentStatus::AwaitingApproval, state);
        let state_json = serde_json::to_string(state).ok();
        self.store
            .suspend_for_approval(
                &req,
                state.triage.as_ref().map(|t| t.severity),
                &report,
                state_json.as_deref(),
            )
            .await?;
        Ok(RunOutcome::Suspended(req))
    }

    pub(super) async fn fail(
        &self,
        id: &str,
        role: AgentRole,
        state: &mut RunState,
        error: String,
    ) -> Result<RunOutcome, RunError> {
        self.events
            .emit(
                id,
                role,
                RunEventKind::AgentFailed {
                    error: error.clone(),
                },
            )
            .await?;
        state.stop_reason = Some(error.clone());
        state.next = None;
        self.events
            .emit(
                id,
                AgentRole::Orchestrator,
                RunEventKind::IncidentFailed { error },
            )
            .await?;
        self.set_status(id, IncidentStatus::Failed, state).await?;
        self.remember(id, IncidentStatus::Failed, state).await;
        Ok(RunOutcome::Finished(IncidentStatus::Failed))
    }

    pub(super) async fn finish(
        &self,
        id: &str,
        status: IncidentStatus,
        state: &mut RunState,
        reason: &str,
    ) -> Result<RunOutcome, RunError> {
        state.next = None;
        let kind = match status {
            IncidentStatus::Resolved => RunEventKind::IncidentResolved {
                summary: reason.to_string(),
            },
            _ => RunEventKind::IncidentEscalated {
                reason: reason.to_string(),
            },
        };
        self.events.emit(id, AgentRole::Orchestrator, kind).await?;
        self.set_status(id, status, state).await?;
        self.remember(id, status, state).await;
        Ok(RunOutcome::Finished(status))
    }

    pub(super) async fn handoff(
        &self,
        id: &str,
        from: AgentRole,
        to: AgentRole,
        reason: &str,
    ) -> Result<(), RunError> {
        self.events
            .emit(
                id,
                AgentRole::Orchestrator,
                RunEventKind::Handoff {
                    from,
                    to,
                    reason: reason.to_string(),
                },
            )
            .await?;
        Ok(())
    }

    pub(super) async fn checkpoint(&self, id: &str, state: &RunState) -> Result<(), RunError> {
        self.set_status(id, IncidentStatus::Investigating, state)
            .await
    }

    pub(super) async fn set_status(
        &self,
        id: &str,
        status: IncidentStatus,
        state: &RunState,
    ) -> Result<(), RunError> {
        // The trajectory first: a checkpoint never runs ahead of its events.
        self.events.flush().await?;
        let report = build_report(id, status, state);
        let state_json = serde_json::to_string(state).ok();
        self.store
            .update_incident(
                id,
                status,
                state.triage.as_ref().map(|t| t.severity),
                &report,
                state_json.as_deref(),
            )
            .await?;
        Ok(())
    }

    /// Writes the finished incident into episodic memory (best effort: a memory failure is
    /// logged, it does not fail the incident).
    async fn remember(&self, id: &str, status: IncidentStatus, state: &RunState) {
        let Some(memory) = &self.memory else { return };
        let Ok(Some(rec)) = self.store.get_incident(id).await else {
            return;
        };
        let d = state.correlation.as_ref().map(|c| &c.diagnosis);
        let sigs = state
            .findings
            .as_ref()
            .map(|f| {
                f.signatures
                    .iter()
                    .take(3)
                    .map(|s| s.template.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let record = MemoryRecord {
            incident_id: id.to_string(),
            service: rec.service.clone(),
            severity: state.triage.as_ref().map(|t| t.severity.to_string()),
            failure_class: d
                .map(|d| d.failure_class.to_string())
                .unwrap_or_else(|| "unknown".into()),
            symptoms: format!("{} | {}", rec.alert_text(), sigs),
            diagnosis: d
                .map(|d| d.summary.clone())
                .unwrap_or_else(|| state.stop_reason.clone().unwrap_or_default()),
            action: state
                .remediation
                .as_ref()
                .map(|r| r.action.to_string())
                .unwrap_or_else(|| "escalate".into()),
            approval: state
                .remediation
                .as_ref()
                .map(|r| r.approval.as_str().to_string())
                .unwrap_or_else(|| "not_required".into()),
            status: status.as_str().into(),
            mttr_ms: (chrono::Utc::now() - rec.created_at).num_milliseconds() as f64,
            created_at: chrono::Utc::now(),
        };
        if let Err(e) = memory.remember(record).await {
            tracing::warn!(incident = id, error = %e, "could not write episodic memory");
            return;
        }
        // The postmortem draft goes with the entry, from the whole (flushed) trajectory.
        if self.events.flush().await.is_ok() {
            match crate::service::postmortem_draft(&self.store, id).await {
                Ok(Some(text)) => {
                    if let Err(e) = self.store.set_memory_postmortem(id, &text).await {
                        tracing::warn!(incident = id, error = %e, "could not keep the postmortem draft");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(incident = id, error = %e, "could not draft the postmortem")
                }
            }
        }
    }
}

/// From the trajectory: each telemetry kind whose reading tools answered at least once
/// (consulted), or were called and never answered (unavailable).
fn telemetry_use(calls: &[ToolCallSummary]) -> TelemetryUse {
    use crate::tools::{
        Tool, fetch_logs::FetchLogs, list_changes::ListChanges,
        list_recent_deploys::ListRecentDeploys, query_metrics::QueryMetrics,
    };
    let mut out = TelemetryUse::default();
    for (kind, tools) in [
        ("logs", &[FetchLogs::NAME][..]),
        ("changes", &[ListRecentDeploys::NAME, ListChanges::NAME][..]),
        ("metrics", &[QueryMetrics::NAME][..]),
    ] {
        let mut of_kind = calls
            .iter()
            .filter(|c| tools.contains(&c.tool.as_str()))
            .peekable();
        if of_kind.peek().is_none() {
            continue;
        }
        if of_kind.any(|c| c.ok) {
            out.consulted.push(kind.into());
        } else {
            out.unavailable.push(kind.into());
        }
    }
    out
}

pub(super) fn final_status(s: &RunState) -> (IncidentStatus, String) {
    match s.remediation.as_ref() {
        Some(r) if r.approval == ApprovalOutcome::Approved => (
            IncidentStatus::Resolved,
            format!(
                "{} {} approved",
                r.action,
                r.target.clone().unwrap_or_default()
            ),
        ),
        Some(r) if r.approval == ApprovalOutcome::Rejected => (
            IncidentStatus::Escalated,
            format!(
                "{} rejected by {}: {}",
                r.action,
                r.decided_by.clone().unwrap_or_default(),
                r.decision_comment.clone().unwrap_or_default()
            ),
        ),
        Some(r) if r.approval == ApprovalOutcome::TimedOut => (
            IncidentStatus::Escalated,
            "timed_out: no approval decision in time".into(),
        ),
        Some(r) => (IncidentStatus::Escalated, r.rationale.clone()),
        None => (
            IncidentStatus::Escalated,
            s.stop_reason
                .clone()
                .unwrap_or_else(|| "no remediation proposed".into()),
        ),
    }
}

/// The contract's run JSON from the state.
pub fn build_report(id: &str, status: IncidentStatus, s: &RunState) -> RunReport {
    RunReport {
        telemetry: telemetry_use(&s.tool_calls),
        incident_id: id.to_string(),
        status,
        triage: s.triage.clone(),
        diagnosis: s.correlation.as_ref().map(|c| c.diagnosis.clone()),
        remediation: s.remediation.clone(),
        comms: s.comms.clone(),
        trajectory: TrajectorySummary {
            tool_calls: s.tool_calls.clone(),
            llm_calls: s.llm_calls,
            elapsed_ms: (s.elapsed_ms * 10.0).round() / 10.0,
            stop_reason: s.stop_reason.clone(),
            fallbacks: s
                .fallbacks
                .iter()
                .map(|(r, why)| format!("{}: {why}", r.as_str()))
                .collect(),
            truncations: s
                .truncations
                .iter()
                .map(|(r, what)| format!("{}: {what}", r.as_str()))
                .collect(),
            usage: (!s.usage.is_empty()).then(|| UsageSummary {
                input_tokens: s.usage.iter().map(|u| u.input_tokens).sum(),
                output_tokens: s.usage.iter().map(|u| u.output_tokens).sum(),
                cost_usd: s
                    .usage
                    .iter()
                    .map(|u| u.cost_usd)
                    .sum::<Option<f64>>()
                    .map(|c| (c * 1_000_000.0).round() / 1_000_000.0),
                agents: s.usage.clone(),
            }),
        },
    }
}
