//! One tool call of an agent, as the runner executes it: the cap, the role's own tools only,
//! the call and result events, the trajectory entry, and the gate's suspension.

use super::policy::{Exchange, PlannedCall};
use super::roles;
use super::runner::{RunError, Runner};
use super::state::RunState;
use crate::tools::{Tool, ToolContext, ToolError};
use sentinel_model::*;
use std::time::Instant;

/// What became of one call.
pub(super) enum CallEnd {
    /// The tool answered (or failed); the agent sees the exchange.
    Answered(Exchange),
    /// The gate fired; the run suspends.
    Suspended(ApprovalRequest),
    /// The tool-call cap was reached; the run stops and escalates.
    Stopped(String),
}

impl Runner {
    /// The calls one model turn asked for. Read tools run at once (a model that asks for the
    /// logs, the deploys and the metrics in one turn waits for the slowest, not the sum); a
    /// turn that includes the gate runs in order. Events and the trajectory keep the order
    /// the calls were asked in.
    pub(super) async fn execute_turn(
        &self,
        ctx: &ToolContext,
        role: AgentRole,
        calls: Vec<PlannedCall>,
        state: &mut RunState,
        history: &mut Vec<Exchange>,
    ) -> Result<Option<CallEnd>, RunError> {
        let gate = calls.iter().any(|c| self.registry.is_gate(&c.tool));
        if gate || calls.len() == 1 {
            for call in calls {
                match self.execute(ctx, role, call, state, history).await? {
                    CallEnd::Answered(e) => history.push(e),
                    end => return Ok(Some(end)),
                }
            }
            return Ok(None);
        }
        let mut prepared = Vec::new();
        let mut stopped = None;
        for (i, call) in calls.into_iter().enumerate() {
            if state.tool_calls.len() + i >= self.cap as usize {
                stopped = Some(self.cap_reached(ctx, role).await?);
                break;
            }
            prepared.push(self.announce(ctx, role, call).await?);
        }
        let results = futures::future::join_all(
            prepared
                .iter()
                .map(|p| self.invoke(ctx, role, &p.tool, p.args.clone(), state)),
        )
        .await;
        for (p, (result, ms)) in prepared.into_iter().zip(results) {
            match self
                .record(ctx, role, p, result, ms, state, history)
                .await?
            {
                CallEnd::Answered(e) => history.push(e),
                end => return Ok(Some(end)),
            }
        }
        Ok(stopped)
    }

    async fn cap_reached(&self, ctx: &ToolContext, role: AgentRole) -> Result<CallEnd, RunError> {
        let reason = format!(
            "tool-call cap of {} reached during {}; stopping and escalating to a human",
            self.cap,
            role.title()
        );
        self.events
            .emit(
                &ctx.incident_id,
                role,
                RunEventKind::CapReached {
                    cap: self.cap,
                    reason: reason.clone(),
                },
            )
            .await?;
        Ok(CallEnd::Stopped(reason))
    }

    pub(super) async fn execute(
        &self,
        ctx: &ToolContext,
        role: AgentRole,
        call: PlannedCall,
        state: &mut RunState,
        history: &[Exchange],
    ) -> Result<CallEnd, RunError> {
        if state.tool_calls.len() as u32 >= self.cap {
            return self.cap_reached(ctx, role).await;
        }
        let p = self.announce(ctx, role, call).await?;
        let (result, ms) = self.invoke(ctx, role, &p.tool, p.args.clone(), state).await;
        self.record(ctx, role, p, result, ms, state, history).await
    }

    /// The call event.
    async fn announce(
        &self,
        ctx: &ToolContext,
        role: AgentRole,
        call: PlannedCall,
    ) -> Result<Prepared, RunError> {
        let PlannedCall {
            call_id,
            tool,
            args,
        } = call;
        let args_value = args
            .clone()
            .unwrap_or_else(|raw| serde_json::json!({ "_malformed": raw }));
        self.events
            .emit(
                &ctx.incident_id,
                role,
                RunEventKind::ToolCalled {
                    call_id: call_id.clone(),
                    tool: tool.clone(),
                    args: args_value.clone(),
                },
            )
            .await?;
        Ok(Prepared {
            call_id,
            tool,
            args,
            args_value,
        })
    }

    /// The call itself: a role calls only its own tools, whatever a model asks for; the gate
    /// refuses what the safety rule forbids.
    async fn invoke(
        &self,
        ctx: &ToolContext,
        role: AgentRole,
        tool: &str,
        args: Result<serde_json::Value, String>,
        state: &RunState,
    ) -> (Result<crate::tools::ToolOutput, ToolError>, f64) {
        let started = Instant::now();
        let result = match args {
            _ if !roles::def(role).tools().contains(&tool) => Err(ToolError::UnknownTool(format!(
                "{tool} (not a tool of the {})",
                role.title()
            ))),
            Err(raw) => Err(ToolError::InvalidArgs(format!(
                "arguments are not valid JSON: {}",
                clip(&raw, 200)
            ))),
            Ok(a) => match gate_refusal(tool, &a, state) {
                Some(why) => Err(ToolError::Refused(why)),
                None => self.registry.call(ctx, tool, a).await,
            },
        };
        (result, started.elapsed().as_secs_f64() * 1000.0)
    }

    /// The trajectory entry, the result event, and the gate's suspension.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        ctx: &ToolContext,
        role: AgentRole,
        p: Prepared,
        result: Result<crate::tools::ToolOutput, ToolError>,
        ms: f64,
        state: &mut RunState,
        history: &[Exchange],
    ) -> Result<CallEnd, RunError> {
        let Prepared {
            call_id,
            tool,
            args_value,
            ..
        } = p;
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
                &ctx.incident_id,
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
            state.plan = Some(super::runner::plan_from_gate(&req, history));
            return Ok(CallEnd::Suspended(req));
        }
        Ok(CallEnd::Answered(Exchange {
            call_id,
            tool,
            args: args_value,
            ok,
            result: value,
            output,
        }))
    }
}

/// A call announced and not yet answered.
struct Prepared {
    call_id: String,
    tool: String,
    args: Result<serde_json::Value, String>,
    args_value: serde_json::Value,
}

/// The safety rule at the gate: an approval request to undo a change the evidence does not
/// support is refused before it reaches a human (the model is told why).
fn gate_refusal(tool: &str, args: &serde_json::Value, state: &RunState) -> Option<String> {
    if tool != crate::tools::request_human_approval::RequestHumanApproval::NAME {
        return None;
    }
    let action = RemediationAction::parse(args.get("action")?.as_str()?).ok()?;
    let target = args.get("target").and_then(|t| t.as_str());
    super::safety::refuse_change(
        action,
        target,
        state.correlation.as_ref().map(|c| &c.diagnosis),
    )
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
