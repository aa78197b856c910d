//! Deploy correlator: which change, if any, caused the failure; writes the diagnosis.

use super::*;
use crate::agents::conclusions::CorrelationFindings;
use crate::tools::Tool;
use crate::tools::correlate_changes::CorrelateChanges;
use crate::tools::metric_onsets::MetricOnsets;
use crate::tools::query_metrics::QueryMetrics;
use crate::tools::{list_changes::ListChanges, list_recent_deploys::ListRecentDeploys};

pub struct DeployCorrelator;

impl RoleDef for DeployCorrelator {
    fn role(&self) -> AgentRole {
        AgentRole::DeployCorrelator
    }
    fn tools(&self) -> &'static [&'static str] {
        &[
            ListRecentDeploys::NAME,
            ListChanges::NAME,
            QueryMetrics::NAME,
            CorrelateChanges::NAME,
            MetricOnsets::NAME,
            // Played alongside the log analyst, it reads the logs itself.
            crate::tools::fetch_logs::FetchLogs::NAME,
            crate::tools::get_dependencies::GetDependencies::NAME,
        ]
    }
    fn instructions(&self, _p: &Params) -> String {
        "You are the Deploy Correlator. Call correlate_changes first: it returns every deploy and change (and the explanations without a change) ranked with evidence for and against; metric_onsets tells when the symptoms turned. Decide which change caused the failure: it must land BEFORE the first error, on the origin service or on its path, and what it changed must explain the errors; a change the evidence exonerates is not the cause. Write the diagnosis with a calibrated confidence (0..1); if nothing correlates say so and set suspects to null.".into()
    }
    fn output_schema(&self) -> serde_json::Value {
        serde_json::json!({"diagnosis": {"failure_class": "string", "summary": "string", "suspect_deploy": "string|null", "suspect_change": "string|null", "confidence": "number 0..1", "evidence": ["string"], "origin_service": "string", "first_error_at": "RFC3339|null"}, "culprit_kind": "deploy|feature_flag|config|null", "culprit_description": "string|null", "rollback_unsafe": "bool", "candidates_considered": "integer", "ranking": ["string"]})
    }
    fn parse(&self, v: serde_json::Value) -> Result<Conclusion, String> {
        typed::<CorrelationFindings>(self.role(), v).map(Conclusion::Correlation)
    }
    fn absorb(&self, c: Conclusion, state: &mut RunState) -> Result<(), String> {
        let Conclusion::Correlation(f) = c else {
            return Err(wrong(self.role()));
        };
        state.correlation = Some(f);
        Ok(())
    }
    fn summary(&self, s: &RunState) -> String {
        s.correlation
            .as_ref()
            .map(|c| {
                format!(
                    "{} — suspect {} (confidence {:.2})",
                    c.diagnosis.failure_class,
                    c.diagnosis
                        .suspect_deploy
                        .clone()
                        .or(c.diagnosis.suspect_change.clone())
                        .unwrap_or_else(|| "none".into()),
                    c.diagnosis.confidence
                )
            })
            .unwrap_or_default()
    }
    fn builtin(&self) -> Box<dyn Policy> {
        Box::new(crate::agents::builtin::deploy_correlator::DeployCorrelator)
    }
}
