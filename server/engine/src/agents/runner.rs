//! The orchestrator loop. It hands the incident from specialist to specialist, executes the
//! tool calls they ask for, enforces the tool-call cap, records every step as a run event, and
//! suspends at the approval gate (persisting a checkpoint; it never blocks waiting for a human).

use super::calls::CallEnd;
use super::conclusions::{Conclusion, RemediationPlan};
use super::events::EventSink;
use super::persist::final_status;
use super::policy::{Brains, Brief, Exchange, Policy, PolicyError, Step};
use super::roles;
use super::state::RunState;
use crate::memory::episodic::EpisodicMemory;
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
    /// Run the log analyst and a model-driven deploy correlator at once.
    pub overlap: bool,
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
            // Log analysis and change correlation need only triage's findings when the
            // correlator is a model (it reads the evidence through `correlate_changes`):
            // with `overlap_specialists` both play at once.
            if role == AgentRole::LogAnalyst && self.overlap && self.overlappable(state) {
                let out = self.overlapped(&mut ctx, state).await?;
                state.elapsed_ms += segment.elapsed().as_secs_f64() * 1000.0;
                match out {
                    Overlap::Continue => {
                        if saved_at.elapsed() >= CHECKPOINT_EVERY {
                            self.checkpoint(&id, state).await?;
                            saved_at = Instant::now();
                        }
                        continue;
                    }
                    Overlap::End(end) => {
                        return self.end_run(&id, AgentRole::LogAnalyst, state, end).await;
                    }
                }
            }
            let brief = self.brief(role, &id, &alert, state);
            let end = self.play(&mut ctx, role, &brief, state, true).await?;
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
                end => return self.end_run(&id, role, state, end).await,
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
                self.count_usage(state, role, &m);
                state
                    .truncations
                    .extend(m.truncated.iter().map(|t| (role, t.clone())));
                self.events
                    .emit(
                        &id,
                        role,
                        RunEventKind::ModelCalled {
                            input_tokens: m.input_tokens,
                            output_tokens: m.output_tokens,
                            model: m.model,
                            ms: m.ms,
                            ok: m.ok,
                            detail: m.detail,
                            truncated: m.truncated,
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
            match self
                .execute_turn(ctx, role, calls, state, &mut history)
                .await?
            {
                None | Some(CallEnd::Answered(_)) => {}
                Some(CallEnd::Suspended(req)) => return Ok(AgentEnd::Suspended(req)),
                Some(CallEnd::Stopped(reason)) => return Ok(AgentEnd::Stopped(reason)),
            }
        }
        Ok(AgentEnd::Failed(format!(
            "{} did not conclude within {MAX_STEPS_PER_AGENT} steps",
            role.title()
        )))
    }
}

/// How an overlapped log-analysis and correlation step ended.
enum Overlap {
    /// Both concluded (or the correlator is to be replayed in turn): carry on from `next`.
    Continue,
    /// The step ended the run (a failed log analysis, the cap).
    End(AgentEnd),
}

impl Runner {
    /// A run that ends with an agent: suspended at the gate, stopped at the cap, or failed.
    async fn end_run(
        &self,
        id: &str,
        role: AgentRole,
        state: &mut RunState,
        end: AgentEnd,
    ) -> Result<RunOutcome, RunError> {
        match end {
            AgentEnd::Suspended(req) => self.suspend(id, state, req).await,
            AgentEnd::Stopped(reason) => {
                state.stop_reason = Some(reason.clone());
                state.next = None;
                self.finish(id, IncidentStatus::Escalated, state, &reason)
                    .await
            }
            AgentEnd::Failed(err) => self.fail(id, role, state, err).await,
            // Conclusions are absorbed by the caller; one arriving here is a logic error,
            // reported as the incident's failure rather than a crash.
            AgentEnd::Concluded(_) => {
                self.fail(id, role, state, "a conclusion was not absorbed".into())
                    .await
            }
        }
    }

    fn brief(&self, role: AgentRole, id: &str, alert: &Alert, state: &RunState) -> Brief {
        Brief {
            role,
            incident_id: id.to_string(),
            alert: alert.clone(),
            triage: state.triage.clone(),
            findings: state.findings.clone(),
            correlation: state.correlation.clone(),
            remediation: state.remediation.clone(),
            tool_budget_left: self.cap.saturating_sub(state.tool_calls.len() as u32),
        }
    }

    /// Plays one role to its end: the started event, its brain, and — when the model fails
    /// it and `fallback` — the built-in engine from where it stood.
    async fn play(
        &self,
        ctx: &mut ToolContext,
        role: AgentRole,
        brief: &Brief,
        state: &mut RunState,
        fallback: bool,
    ) -> Result<AgentEnd, RunError> {
        let id = ctx.incident_id.clone();
        ctx.agent = role;
        self.events
            .emit(
                &id,
                role,
                RunEventKind::AgentStarted {
                    brief: format!(
                        "{} on {} ({})",
                        role.title(),
                        brief.alert.service,
                        self.brains.model_for(role)
                    ),
                },
            )
            .await?;
        let mut policy = self.brains.policy_for(role);
        let mut end = self.run_agent(ctx, policy.as_mut(), brief, state).await?;
        // A model that fails its role (unusable answers, the provider down, a budget
        // spent) does not sink the incident: the built-in engine takes the role over.
        let failure = match &end {
            AgentEnd::Failed(e) => Some(e.clone()),
            _ => None,
        };
        if let Some(why) = failure
            && fallback
            && !self.brains.is_builtin(role)
        {
            let model = self.brains.model_for(role);
            tracing::warn!(%role, %model, reason = %why, "model failed its role; falling back to the built-in engine");
            self.events
                .emit(
                    &id,
                    role,
                    RunEventKind::AgentFellBack {
                        model,
                        reason: why.clone(),
                    },
                )
                .await?;
            state.fallbacks.push((role, why));
            let brief = Brief {
                tool_budget_left: self.cap.saturating_sub(state.tool_calls.len() as u32),
                ..brief.clone()
            };
            let mut builtin = roles::def(role).builtin();
            end = self.run_agent(ctx, builtin.as_mut(), &brief, state).await?;
        }
        Ok(end)
    }

    /// Both roles are models and neither has run: the step can overlap.
    fn overlappable(&self, state: &RunState) -> bool {
        !self.brains.is_builtin(AgentRole::LogAnalyst)
            && !self.brains.is_builtin(AgentRole::DeployCorrelator)
            && state.findings.is_none()
            && state.correlation.is_none()
    }

    /// The log analyst and the deploy correlator at once, each with half the tool calls left;
    /// their records merged in pipeline order. The correlator concludes without the log
    /// findings (it reads the evidence itself); if its model fails, it is played again in turn
    /// with the findings, where the built-in engine can take it over.
    async fn overlapped(
        &self,
        ctx: &mut ToolContext,
        state: &mut RunState,
    ) -> Result<Overlap, RunError> {
        let id = ctx.incident_id.clone();
        let alert = ctx.alert.clone();
        let used = state.tool_calls.len() as u32;
        let left = self.cap.saturating_sub(used);
        let (mut ra, mut rb) = (self.clone(), self.clone());
        ra.cap = used + left - left / 2;
        rb.cap = used + left / 2;
        let (mut sa, mut sb) = (state.clone(), state.clone());
        let (mut ca, mut cb) = (ctx.clone(), ctx.clone());
        let brief_a = ra.brief(AgentRole::LogAnalyst, &id, &alert, &sa);
        let brief_b = rb.brief(AgentRole::DeployCorrelator, &id, &alert, &sb);
        self.handoff(
            &id,
            AgentRole::LogAnalyst,
            AgentRole::DeployCorrelator,
            "in parallel: the correlator reads the evidence itself",
        )
        .await?;
        let (end_a, end_b) = tokio::join!(
            ra.play(&mut ca, AgentRole::LogAnalyst, &brief_a, &mut sa, true),
            rb.play(
                &mut cb,
                AgentRole::DeployCorrelator,
                &brief_b,
                &mut sb,
                false
            ),
        );
        let (end_a, end_b) = (end_a?, end_b?);
        merge(state, sa, sb, used as usize);
        let AgentEnd::Concluded(findings) = end_a else {
            return Ok(Overlap::End(end_a));
        };
        let def = roles::def(AgentRole::LogAnalyst);
        let json = findings.to_json();
        if let Err(e) = def.absorb(findings, state) {
            return Ok(Overlap::End(AgentEnd::Failed(e)));
        }
        let summary = def.summary(state);
        self.events
            .emit(
                &id,
                AgentRole::LogAnalyst,
                RunEventKind::AgentCompleted {
                    conclusion: json,
                    summary,
                },
            )
            .await?;
        match end_b {
            AgentEnd::Concluded(c) => {
                let def = roles::def(AgentRole::DeployCorrelator);
                let json = c.to_json();
                if def.absorb(c, state).is_err() {
                    // Unusable as a correlation: play the role again in turn.
                    state.next = Some(AgentRole::DeployCorrelator);
                    return Ok(Overlap::Continue);
                }
                let summary = def.summary(state);
                self.events
                    .emit(
                        &id,
                        AgentRole::DeployCorrelator,
                        RunEventKind::AgentCompleted {
                            conclusion: json,
                            summary: summary.clone(),
                        },
                    )
                    .await?;
                self.handoff(
                    &id,
                    AgentRole::DeployCorrelator,
                    AgentRole::Remediation,
                    &summary,
                )
                .await?;
                state.next = Some(AgentRole::Remediation);
            }
            AgentEnd::Stopped(reason) => return Ok(Overlap::End(AgentEnd::Stopped(reason))),
            // Its model failed it: in turn now, with the findings, the fallback can run.
            _ => state.next = Some(AgentRole::DeployCorrelator),
        }
        Ok(Overlap::Continue)
    }
}

/// Folds two branches that started from `state` (with `base` tool calls) back into it: the
/// first branch's records, then what the second added.
fn merge(state: &mut RunState, a: RunState, b: RunState, base: usize) {
    let (base_llm, base_fb, base_tr) = (
        state.llm_calls,
        state.fallbacks.len(),
        state.truncations.len(),
    );
    state.tool_calls = a.tool_calls;
    state.tool_calls.extend(b.tool_calls.into_iter().skip(base));
    state.llm_calls = a.llm_calls + (b.llm_calls - base_llm);
    state.fallbacks = a.fallbacks;
    state
        .fallbacks
        .extend(b.fallbacks.into_iter().skip(base_fb));
    state.truncations = a.truncations;
    state
        .truncations
        .extend(b.truncations.into_iter().skip(base_tr));
    let mut usage = a.usage;
    for u in b.usage {
        if !usage
            .iter()
            .any(|x| x.agent == u.agent && x.model == u.model)
        {
            usage.push(u);
        }
    }
    state.usage = usage;
}

impl Runner {
    /// Adds one model call to its agent's usage (tokens, time, cost when the model has a price).
    fn count_usage(
        &self,
        state: &mut RunState,
        role: AgentRole,
        m: &super::policy::ModelCallRecord,
    ) {
        let price = self.brains.price_for(role);
        let i = match state
            .usage
            .iter()
            .position(|u| u.agent == role && u.model == m.model)
        {
            Some(i) => i,
            None => {
                state.usage.push(AgentUsage {
                    agent: role,
                    model: m.model.clone(),
                    calls: 0,
                    input_tokens: 0,
                    output_tokens: 0,
                    ms: 0.0,
                    cost_usd: price.map(|_| 0.0),
                });
                state.usage.len() - 1
            }
        };
        let u = &mut state.usage[i];
        u.calls += 1;
        u.input_tokens += u64::from(m.input_tokens);
        u.output_tokens += u64::from(m.output_tokens);
        u.ms += m.ms;
        u.cost_usd = price.map(|p| p.cost(u.input_tokens, u.output_tokens));
    }
}

fn next_role(r: AgentRole) -> Option<AgentRole> {
    let i = AgentRole::PIPELINE.iter().position(|x| *x == r)?;
    AgentRole::PIPELINE.get(i + 1).copied()
}

/// The plan implied by a gate request and the latest draft before it.
pub(super) fn plan_from_gate(req: &ApprovalRequest, history: &[Exchange]) -> RemediationPlan {
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
