//! Triage: service metadata (tier) and memory search, then priority and duplicate check.

use crate::agents::conclusions::Conclusion;
use crate::agents::policy::*;
use crate::engine::decide;
use crate::engine::params::P;
use crate::tools::get_service_metadata::GetServiceMetadata;
use crate::tools::search_past_incidents::SearchPastIncidents;
use sentinel_model::{SimilarIncident, TriageReport};

pub struct Triage;

#[async_trait::async_trait]
impl Policy for Triage {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        let service = b.alert.service.as_str();
        if !called::<GetServiceMetadata>(h) {
            return Ok(Step::Call(vec![
                call_tool::<GetServiceMetadata>(serde_json::json!({ "service": service }), 1),
                call_tool::<SearchPastIncidents>(
                    serde_json::json!({ "query": symptom_text(b), "service": service, "k": 5 }),
                    2,
                ),
            ]));
        }
        let tier = output_of::<GetServiceMetadata>(h).and_then(|m| m.info.tier);
        let severity = decide::priority(b.alert.severity, tier);
        let past = output_of::<SearchPastIncidents>(h);
        let similar: Vec<SimilarIncident> = past
            .map(|p| {
                p.similar
                    .iter()
                    .map(|s| SimilarIncident {
                        incident_id: s.incident_id.clone(),
                        similarity: s.similarity,
                        service: Some(s.service.clone()),
                        summary: Some(s.summary.clone()),
                        action: Some(s.action.clone()),
                        outcome: Some(s.outcome.clone()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let duplicate_of = past.and_then(|p| {
            p.open_on_service
                .iter()
                .filter(|o| o.similarity >= P.duplicate_similarity)
                .max_by(|x, y| x.similarity.total_cmp(&y.similarity))
                .map(|o| o.incident_id.clone())
        });
        let tier_text = match tier {
            Some(t) => format!("tier {t}"),
            None => "unknown tier (service not in catalogue)".into(),
        };
        let rationale = format!(
            "{} alert ({} {} vs threshold {}) on {} service {service} → {severity}",
            b.alert.severity, b.alert.metric, b.alert.current_value, b.alert.threshold, tier_text
        );
        let report = TriageReport {
            service: service.to_string(),
            severity,
            duplicate_of,
            similar,
            tier,
            rationale,
        };
        Ok(Step::Conclude(Conclusion::Triage(report)))
    }
}

/// What the alert says, as a memory query.
pub fn symptom_text(b: &Brief) -> String {
    let mut s = format!(
        "{} {} alert on {}",
        b.alert.severity, b.alert.metric, b.alert.service
    );
    if let Some(summary) = b.alert.annotations.get("summary") {
        s.push_str(": ");
        s.push_str(summary);
    }
    s
}
