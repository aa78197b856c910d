//! Triage: how urgent, and is it a duplicate of an open incident.

use super::*;
use crate::tools::get_service_metadata::GetServiceMetadata;
use crate::tools::{Tool, search_past_incidents::SearchPastIncidents};
use sentinel_model::TriageReport;

pub struct Triage;

impl RoleDef for Triage {
    fn role(&self) -> AgentRole {
        AgentRole::Triage
    }
    fn tools(&self) -> &'static [&'static str] {
        &[GetServiceMetadata::NAME, SearchPastIncidents::NAME]
    }
    fn instructions(&self, p: &Params) -> String {
        format!(
            "You are the Triage agent. Look up the alerting service (tier, owner) and search past incidents. Priority: start from the alert severity (critical=P1, high=P2, warning=P3, low/info=P4), one step more urgent for a tier-1 service, one step less for tier 3. Mark duplicate_of only for an OPEN incident on the same service with similarity >= {}.",
            p.duplicate_similarity
        )
    }
    fn output_schema(&self) -> serde_json::Value {
        serde_json::json!({"service": "string", "severity": "P1|P2|P3|P4", "duplicate_of": "string|null", "similar": [{"incident_id": "string", "similarity": "number"}], "tier": "integer|null", "rationale": "string"})
    }
    fn parse(&self, v: serde_json::Value) -> Result<Conclusion, String> {
        typed::<TriageReport>(self.role(), v).map(Conclusion::Triage)
    }
    fn absorb(&self, c: Conclusion, state: &mut RunState) -> Result<(), String> {
        let Conclusion::Triage(t) = c else {
            return Err(wrong(self.role()));
        };
        state.triage = Some(t);
        Ok(())
    }
    fn summary(&self, s: &RunState) -> String {
        s.triage
            .as_ref()
            .map(|t| format!("{} {} ({} similar)", t.service, t.severity, t.similar.len()))
            .unwrap_or_default()
    }
    fn builtin(&self) -> Box<dyn Policy> {
        Box::new(crate::agents::builtin::triage::Triage)
    }
}
