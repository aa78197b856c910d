//! Comms: the status update, from everyone's conclusions and the approval outcome.

use super::*;
use crate::tools::Tool;
use crate::tools::draft_slack_summary::DraftSlackSummary;
use sentinel_model::CommsReport;

pub struct Comms;

impl RoleDef for Comms {
    fn role(&self) -> AgentRole {
        AgentRole::Comms
    }
    fn tools(&self) -> &'static [&'static str] {
        &[DraftSlackSummary::NAME]
    }
    fn instructions(&self, _p: &Params) -> String {
        "You are the Comms agent. Call draft_slack_summary with Impact, Root Cause, Timeline, Current Status, Action Items and ETA consistent with the diagnosis and the approval outcome, then answer with the drafted text.".into()
    }
    fn output_schema(&self) -> serde_json::Value {
        serde_json::json!({"summary": "string (the drafted Slack text)"})
    }
    fn parse(&self, v: serde_json::Value) -> Result<Conclusion, String> {
        typed::<CommsReport>(self.role(), v).map(Conclusion::Comms)
    }
    fn absorb(&self, c: Conclusion, state: &mut RunState) -> Result<(), String> {
        let Conclusion::Comms(r) = c else {
            return Err(wrong(self.role()));
        };
        state.comms = Some(r);
        Ok(())
    }
    fn summary(&self, _s: &RunState) -> String {
        "status summary drafted".into()
    }
    fn builtin(&self) -> Box<dyn Policy> {
        Box::new(crate::agents::builtin::comms::Comms)
    }
}
