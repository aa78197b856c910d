//! Triage: service metadata (tier) and memory search, then priority and duplicate check.

use crate::agents::policy::*;
use crate::engine::decide;
use sentinel_model::{SimilarIncident, TriageReport};

/// An open incident on the same service this similar is a duplicate.
pub const DUPLICATE_SIMILARITY: f32 = 0.85;

pub struct Triage;

#[async_trait::async_trait]
impl Policy for Triage {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        let service = b.alert.service.as_str();
        if !called(h, "get_service_metadata") {
            return Ok(Step::Call(vec![
                call(
                    "get_service_metadata",
                    serde_json::json!({ "service": service }),
                    1,
                ),
                call(
                    "search_past_incidents",
                    serde_json::json!({ "query": symptom_text(b), "service": service, "k": 5 }),
                    2,
                ),
            ]));
        }
        let meta = result_of(h, "get_service_metadata");
        let tier = meta.and_then(|m| m["tier"].as_u64()).map(|t| t as u8);
        let severity = decide::priority(b.alert.severity, tier);
        let past = result_of(h, "search_past_incidents");
        let similar: Vec<SimilarIncident> = past
            .and_then(|p| p["similar"].as_array())
            .map(|a| {
                a.iter()
                    .map(|s| SimilarIncident {
                        incident_id: s["incident_id"].as_str().unwrap_or_default().to_string(),
                        similarity: s["similarity"].as_f64().unwrap_or(0.0) as f32,
                        service: s["service"].as_str().map(String::from),
                        summary: s["summary"].as_str().map(String::from),
                        action: s["action"].as_str().map(String::from),
                        outcome: s["outcome"].as_str().map(String::from),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let duplicate_of = past
            .and_then(|p| p["open_on_service"].as_array())
            .and_then(|a| {
                a.iter()
                    .filter(|o| {
                        o["similarity"].as_f64().unwrap_or(0.0) as f32 >= DUPLICATE_SIMILARITY
                    })
                    .max_by(|x, y| {
                        x["similarity"]
                            .as_f64()
                            .unwrap_or(0.0)
                            .total_cmp(&y["similarity"].as_f64().unwrap_or(0.0))
                    })
                    .and_then(|o| o["incident_id"].as_str().map(String::from))
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
        Ok(Step::Conclude(
            serde_json::to_value(report).unwrap_or_default(),
        ))
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
