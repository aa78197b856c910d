//! The orchestrator loop. It hands the incident from specialist to specialist, executes the
//! tool calls they ask for, enforces the tool-call cap, records every step as a run event, and
//! suspends at the approval gate (persisting a checkpoint; it never blocks waiting for a human).

use super::conclusions::{Conclusion, RemediationPlan};
use super::events::EventSink;
use super::policy::{Brains, Brief, Exchange, PlannedCall, Policy, PolicyError, Step};
use super::roles;
use super::state::RunState;
use crate::memory::episodic::{EpisodicMemory, MemoryRecord};
use crate::store::{Store, StoreError};
use crate::tools::{Registry, ToolContext};
use sentinel_model::*;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Finished(IncidentStatus),
    Suspended(ApprovalRequest),
    /// Another runner (in this process or another) holds the incident; it will carry on.
    Running,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("incident {0} not found")]
    NotFound(String),
    #[error("corrupt checkpoint for incident {0}")]
    Corrupt(String),
}

/// Most policy steps one agent may take (guards against a model that never concludes).
const MAX_STEPS_PER_AGENT: usize = 12;

/// Least time between two mid-run checkpoints of the incident row. Status changes (start,
/// suspend at the gate, finish) always save; between agents the state is saved only when
/// this much work would otherwise be lost by a crash. An LLM-driven agent takes seconds, so
/// every hand-off is saved; the offline engine finishes a whole incident in milliseconds and
/// rewriting the ~30 kB row after each agent was most of its SQLite cost.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone)]
pub struct Runner {
    pub store: Store,
    pub events: EventSink,
    pub registry: Arc<Registry>,
    pub brains: Arc<dyn Brains>,
    pub memory: Option<EpisodicMemory>,
    pub cap: u32,
}

enum AgentEnd {
    Concluded(Conclusion),
    Suspended(ApprovalRequest),
    Stopped(String),
    Failed(String),
}

impl Runner {
    /// Runs the pipeline from the start, or continues it from the checkpoint: after a crash,
    /// after a decision, or both. A checkpoint that still names its approval tells which: if
    /// the approval is pending the incident keeps waiting; if it was decided, the decision is
    /// applied first (once: a decision already in the log is not recorded again).
    #[tracing::instrument(skip(self, ctx), fields(incident = %ctx.incident_id))]
    pub async fn run(&self, ctx: ToolContext) -> Result<RunOutcome, RunError> {
        let id = ctx.incident_id.clone();
        let rec = self
            .store
            .get_incident(&id)
            .await?
            .ok_or_else(|| RunError::NotFound(id.clone()))?;
        if rec.status.is_terminal() {
            return Ok(RunOutcome::Finished(rec.status));
        }
        let mut state: RunState = match rec.state_json.as_deref() {
            Some(s) => serde_json::from_str(s).map_err(|_| RunError::Corrupt(id.clone()))?,
            None => RunState {
                next: Some(AgentRole::Triage),
                ..Default::default()
            },
        };
        if let Some(approval_id) = state.pending_approval.clone() {
            let approval = self
                .store
                .get_approval(&approval_id)
                .await?
                .ok_or_else(|| RunError::Corrupt(id.clone()))?;
            match ApprovalOutcome::parse(&approval.status) {
                Ok(ApprovalOutcome::Pending) | Err(_) => {
                    if rec.status != IncidentStatus::AwaitingApproval {
                        self.set_status(&id, IncidentStatus::AwaitingApproval, &state)
                            .await?;
                    }
                    return Ok(RunOutcome::Suspended(approval.request));
                }
                Ok(outcome) => {
                    self.apply_decision(
                        &id,
                        &mut state,
                        outcome,
                        approval.decided_by.as_deref().unwrap_or("unknown"),
                        approval.comment.as_deref().unwrap_or(""),
                    )
                    .await?;
                }
            }
        }
        if state.next.is_none() {
            // The run ended but the crash came before its final status was saved.
            let (status, reason) = final_status(&state);
            return self.finish(&id, status, &mut state, &reason).await;
        }
        self.set_status(&id, IncidentStatus::Investigating, &state)
            .await?;
        self.drive(ctx, &mut state).await
    }

    /// Folds a committed decision into the run state and hands over to Comms.
    async fn apply_decision(
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

    /// Ends an incident that cannot be continued (its checkpoint does not parse).
    pub async fn abandon(&self, id: &str, reason: &str) -> Result<(), RunError> {
        let mut state = RunState::default();
        self.fail(id, AgentRole::Orchestrator, &mut state, reason.to_string())
            .await?;
        Ok(())
    }

    async fn drive(
        &self,
        mut ctx: ToolContext,
        state: &mut RunState,
    ) -> Result<RunOutcome, RunError> {
        let id = ctx.incident_id.clone();
        let alert = ctx.alert.clone();
        // The caller saved the state just before (status change).
        let mut saved_at = Instant::now();
        while let Some(role) = state.next {
            let segment = Instant::now();
            ctx.agent = role;
            let def = roles::def(role);
            if let Some(skip) = def.skip(state) {
                for r in &skip.roles {
                    self.events
                        .emit(
                            &id,
                            *r,
                            RunEventKind::AgentSkipped {
                                reason: skip.reason.clone(),
                            },
                        )
                        .await?;
                    state.skipped.push((*r, skip.reason.clone()));
                }
                if let Some(r) = skip.remediation {
                    state.remediation = Some(r);
                }
                state.stop_reason = Some(skip.reason);
                self.handoff(&id, skip.from, skip.next, skip.handoff_reason)
                    .await?;
                state.next = Some(skip.next);
                state.elapsed_ms += segment.elapsed().as_secs_f64() * 1000.0;
                continue;
            }
            let brief = Brief {
                role,
                incident_id: id.clone(),
                alert: alert.clone(),
                triage: state.triage.clone(),
                findings: state.findings.clone(),
                correlation: state.correlation.clone(),
                remediation: state.remediation.clone(),
                tool_budget_left: self.cap.saturating_sub(state.tool_calls.len() as u32),
            };
            self.events
                .emit(
                    &id,
                    role,
                    RunEventKind::AgentStarted {
                        brief: format!(
                            "{} on {} ({})",
                            role.title(),
                            alert.service,
                            self.brains.model_for(role)
                        ),
                    },
                )
                .await?;
            let mut policy = self.brains.policy_for(role);
            let end = self
                .run_agent(&mut ctx, policy.as_mut(), &brief, state)
                .await?;
            state.elapsed_ms += segment.elapsed().as_secs_f64() * 1000.0;
            match end {
                AgentEnd::Concluded(c) => {
                    let json = c.to_json();
                    if let Err(e) = def.absorb(c, state) {
                        return self.fail(&id, role, state, e).await;
                    }
                    // The gate cannot be bypassed: whichever role concluded, a destructive
                    // plan without an approval is sent to the gate by the runner itself.
                    if let Some(plan) = state.plan.clone()
                        && plan.action.is_destructive()
                        && state.approval.is_none()
                        && state.pending_approval.is_none()
                    {
                        let req = self.gate(&ctx, &plan);
                        return self.suspend(&id, state, req).await;
                    }
                    let summary = def.summary(state);
                    self.events
                        .emit(
                            &id,
                            role,
                            RunEventKind::AgentCompleted {
                                conclusion: json,
                                summary: summary.clone(),
                            },
                        )
                        .await?;
                    let next = next_role(role);
                    if let Some(n) = next {
                        self.handoff(&id, role, n, &summary).await?;
                    }
                    state.next = next;
                    if saved_at.elapsed() >= CHECKPOINT_EVERY {
                        self.checkpoint(&id, state).await?;
                        saved_at = Instant::now();
                    }
                }
                AgentEnd::Suspended(req) => return self.suspend(&id, state, req).await,
                AgentEnd::Stopped(reason) => {
                    state.stop_reason = Some(reason.clone());
                    state.next = None;
                    return self
                        .finish(&id, IncidentStatus::Escalated, state, &reason)
                        .await;
                }
                AgentEnd::Failed(err) => return self.fail(&id, role, state, err).await,
            }
        }
        let (status, reason) = final_status(state);
        self.finish(&id, status, state, &reason).await
    }

    async fn run_agent(
        &self,
        ctx: &mut ToolContext,
        policy: &mut dyn Policy,
        brief: &Brief,
        state: &mut RunState,
    ) -> Result<AgentEnd, RunError> {
        let id = ctx.incident_id.clone();
        let role = brief.role;
        let mut history: Vec<Exchange> = Vec::new();
        for _ in 0..MAX_STEPS_PER_AGENT {
            let step = policy.next(brief, &history).await;
            for m in policy.drain_model_calls() {
                state.llm_calls += 1;
                self.events
                    .emit(
                        &id,
                        role,
                        RunEventKind::ModelCalled {
                            model: m.model,
                            ms: m.ms,
                            ok: m.ok,
                            detail: m.detail,
                        },
                    )
                    .await?;
            }
            let calls = match step {
                Ok(Step::Conclude(v)) => return Ok(AgentEnd::Concluded(v)),
                Ok(Step::Call(calls)) => calls,
                Err(PolicyError::Model(e)) => {
                    return Ok(AgentEnd::Failed(format!("model failed: {e}")));
                }
                Err(e) => return Ok(AgentEnd::Failed(e.to_string())),
            };
            if calls.is_empty() {
                return Ok(AgentEnd::Failed(
                    "the agent asked for nothing and concluded nothing".into(),
                ));
            }
            for PlannedCall {
                call_id,
                tool,
                args,
            } in calls
            {
                if state.tool_calls.len() as u32 >= self.cap {
                    let reason = format!(
                        "tool-call cap of {} reached during {}; stopping and escalating to a human",
                        self.cap,
                        role.title()
                    );
                    self.events
                        .emit(
                            &id,
                            role,
                            RunEventKind::CapReached {
                                cap: self.cap,
                                reason: reason.clone(),
                            },
                        )
                        .await?;
                    return Ok(AgentEnd::Stopped(reason));
                }
                let args_value = args
                    .clone()
                    .unwrap_or_else(|raw| serde_json::json!({ "_malformed": raw }));
                self.events
                    .emit(
                        &id,
                        role,
                        RunEventKind::ToolCalled {
                            call_id: call_id.clone(),
                            tool: tool.clone(),
                            args: args_value.clone(),
                        },
                    )
                    .await?;
                let started = Instant::now();
                let result = match args {
                    Err(raw) => Err(crate::tools::ToolError::InvalidArgs(format!(
                        "arguments are not valid JSON: {}",
                        clip(&raw, 200)
                    ))),
                    Ok(a) => self.registry.call(ctx, &tool, a).await,
                };
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                let (ok, value, output, suspend) = match result {
                    Ok(out) => (true, out.value, out.typed, out.suspend),
                    Err(e) => (
                        false,
                        serde_json::json!({ "error": e.to_string() }),
                        None,
                        None,
                    ),
                };
                state.tool_calls.push(ToolCallSummary {
                    agent: role.as_str().into(),
                    tool: tool.clone(),
                    args: args_value.clone(),
                    ok,
                    ms,
                });
                self.events
                    .emit(
                        &id,
                        role,
                        RunEventKind::ToolResult {
                            call_id: call_id.clone(),
                            tool: tool.clone(),
                            ok,
                            ms,
                            result: value.clone(),
                        },
                    )
                    .await?;
                if let Some(req) = suspend {
                    // The gate fired: remember the plan that asked for it.
                    state.plan = Some(plan_from_gate(&req, &history));
                    return Ok(AgentEnd::Suspended(req));
                }
                history.push(Exchange {
                    call_id,
                    tool,
                    args: args_value,
                    ok,
                    result: value,
                    output,
                });
            }
        }
        Ok(AgentEnd::Failed(format!(
            "{} did not conclude within {MAX_STEPS_PER_AGENT} steps",
            role.title()
        )))
    }

    fn gate(&self, ctx: &ToolContext, plan: &RemediationPlan) -> ApprovalRequest {
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

    async fn suspend(
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

    async fn fail(
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

    async fn finish(
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

    async fn handoff(
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

    async fn checkpoint(&self, id: &str, state: &RunState) -> Result<(), RunError> {
        self.set_status(id, IncidentStatus::Investigating, state)
            .await
    }

    async fn set_status(
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
        }
    }
}

fn next_role(r: AgentRole) -> Option<AgentRole> {
    let i = AgentRole::PIPELINE.iter().position(|x| *x == r)?;
    AgentRole::PIPELINE.get(i + 1).copied()
}

fn final_status(s: &RunState) -> (IncidentStatus, String) {
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

/// The plan implied by a gate request and the latest draft before it.
fn plan_from_gate(req: &ApprovalRequest, history: &[Exchange]) -> RemediationPlan {
    let draft = history
        .iter()
        .rev()
        .find(|e| e.tool.starts_with("draft_") && e.ok)
        .and_then(|e| e.output.as_ref())
        .and_then(|o| o.downcast::<crate::tools::Draft>());
    RemediationPlan {
        action: req.action,
        target: req.target.clone(),
        rationale: req.evidence.first().cloned().unwrap_or_default(),
        risk: req.risk.clone(),
        draft_id: draft.map(|d| d.draft_id.clone()),
        draft: draft.map(|d| d.body.clone()),
    }
}

/// The contract's run JSON from the state.
pub fn build_report(id: &str, status: IncidentStatus, s: &RunState) -> RunReport {
    RunReport {
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
        },
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
