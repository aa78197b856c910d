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
    pub(super) async fn execute(
        &self,
        ctx: &ToolContext,
        role: AgentRole,
        call: PlannedCall,
        state: &mut RunState,
        history: &[Exchange],
    ) -> Result<CallEnd, RunError> {
        let id = &ctx.incident_id;
        let PlannedCall {
            call_id,
            tool,
            args,
        } = call;
        if state.tool_calls.len() as u32 >= self.cap {
            let reason = format!(
                "tool-call cap of {} reached during {}; stopping and escalating to a human",
                self.cap,
                role.title()
            );
            self.events
                .emit(
                    id,
                    role,
                    RunEventKind::CapReached {
                        cap: self.cap,
                        reason: reason.clone(),
                    },
                )
                .await?;
            return Ok(CallEnd::Stopped(reason));
        }
        let args_value = args
            .clone()
            .unwrap_or_else(|raw| serde_json::json!({ "_malformed": raw }));
        self.events
            .emit(
                id,
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
            // A role calls only its own tools, whatever a model asks for.
            _ if !roles::def(role).tools().contains(&tool.as_str()) => Err(ToolError::UnknownTool(
                format!("{tool} (not a tool of the {})", role.title()),
            )),
            Err(raw) => Err(ToolError::InvalidArgs(format!(
                "arguments are not valid JSON: {}",
                clip(&raw, 200)
            ))),
            Ok(a) => match gate_refusal(&tool, &a, state) {
                Some(why) => Err(ToolError::Refused(why)),
                None => self.registry.call(ctx, &tool, a).await,
            },
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
                id,
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
