//! Log analyst: where the failure originates and which family it belongs to. Skipped (with
//! the two specialists after it) when triage found the alert duplicates an open incident.

use super::*;
use crate::agents::conclusions::LogFindings;
use crate::tools::Tool;
use crate::tools::query_metrics::QueryMetrics;
use crate::tools::{fetch_logs::FetchLogs, get_dependencies::GetDependencies};
use sentinel_model::{ApprovalOutcome, RemediationAction};

pub struct LogAnalyst;

impl RoleDef for LogAnalyst {
    fn role(&self) -> AgentRole {
        AgentRole::LogAnalyst
    }
    fn tools(&self) -> &'static [&'static str] {
        &[FetchLogs::NAME, GetDependencies::NAME, QueryMetrics::NAME]
    }
    fn instructions(&self, _p: &Params) -> String {
        format!(
            "You are the Log Analyst. Fetch warning-level logs (all services) and the dependency graph. Group errors by signature, find the first error time, and decide which service the failure ORIGINATES in (an upstream dependency with its own earlier failure, or the alerting service). Name the failure family ({}).",
            crate::engine::signals::Family::prompt_list()
        )
    }
    fn output_schema(&self) -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(LogFindings)).unwrap_or_default()
    }
    fn parse(&self, v: serde_json::Value) -> Result<Conclusion, String> {
        typed::<LogFindings>(self.role(), v).map(Conclusion::Logs)
    }
    fn absorb(&self, c: Conclusion, state: &mut RunState) -> Result<(), String> {
        let Conclusion::Logs(f) = c else {
            return Err(wrong(self.role()));
        };
        state.findings = Some(f);
        Ok(())
    }
    fn summary(&self, s: &RunState) -> String {
        s.findings
            .as_ref()
            .map(|f| f.hypothesis.clone())
            .unwrap_or_default()
    }
    fn builtin(&self) -> Box<dyn Policy> {
        Box::new(crate::agents::builtin::log_analyst::LogAnalyst)
    }
    /// A duplicate of an open incident is linked to it; the specialists that would repeat its
    /// investigation are skipped with the reason recorded.
    fn skip(&self, s: &RunState) -> Option<Skip> {
        let dup = s.triage.as_ref()?.duplicate_of.clone()?;
        let reason =
            format!("duplicate of open incident {dup}: its investigation covers this alert");
        Some(Skip {
            roles: vec![
                AgentRole::LogAnalyst,
                AgentRole::DeployCorrelator,
                AgentRole::Remediation,
            ],
            from: AgentRole::Triage,
            next: AgentRole::Comms,
            handoff_reason: "duplicate",
            remediation: Some(RemediationReport {
                action: RemediationAction::Escalate,
                target: Some(dup),
                approval: ApprovalOutcome::NotRequired,
                rationale: reason.clone(),
                risk: "none".into(),
                draft: None,
                decided_by: None,
                decision_comment: None,
            }),
            reason,
        })
    }
}
