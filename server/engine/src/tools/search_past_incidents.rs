//! `search_past_incidents`: similar finished incidents from episodic memory, plus open
//! incidents on the same service (for the duplicate check).

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Free-text description of the symptoms (alert, error messages).
    pub query: String,
    /// Service the alert fired on (used for the open-incident duplicate check).
    #[serde(default)]
    pub service: Option<String>,
    /// How many similar incidents to return (1..=10, default 5).
    #[serde(default)]
    pub k: Option<usize>,
}

pub struct SearchPastIncidents;

/// How far back an open incident counts as a possible duplicate.
pub const DUPLICATE_WINDOW_HOURS: i64 = 2;

#[async_trait::async_trait]
impl Tool for SearchPastIncidents {
    fn name(&self) -> &'static str {
        "search_past_incidents"
    }
    fn description(&self) -> &'static str {
        "Search episodic memory for similar past incidents (similarity 0..1, diagnosis, action taken, outcome) and list open incidents on the same service with their similarity to this one."
    }
    fn parameters(&self) -> serde_json::Value {
        schema_of::<Args>()
    }
    async fn call(
        &self,
        ctx: &ToolContext,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError> {
        let a: Args = parse_args(args)?;
        let Some(memory) = &ctx.memory else {
            return Ok(ToolOutput::json(
                serde_json::json!({ "similar": [], "open_on_service": [], "note": "episodic memory is disabled" }),
            ));
        };
        let k = a.k.unwrap_or(5).clamp(1, 10);
        let hits = memory
            .search(&a.query, k + 1)
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        let similar: Vec<_> = hits
            .into_iter()
            .filter(|h| h.record.incident_id != ctx.incident_id)
            .take(k)
            .map(|h| {
                serde_json::json!({
                    "incident_id": h.record.incident_id, "similarity": (h.similarity * 1000.0).round() / 1000.0,
                    "service": h.record.service, "failure_class": h.record.failure_class,
                    "summary": h.record.diagnosis, "action": h.record.action, "outcome": h.record.approval,
                    "status": h.record.status, "mttr_ms": h.record.mttr_ms,
                })
            })
            .collect();
        let mut open = Vec::new();
        if let Some(service) = &a.service {
            let since = chrono::Utc::now() - chrono::Duration::hours(DUPLICATE_WINDOW_HOURS);
            let rows = ctx
                .store
                .open_incidents_on(service, since, &ctx.incident_id)
                .await
                .map_err(|e| ToolError::Failed(e.to_string()))?;
            for r in rows {
                let sim = memory
                    .similarity(&a.query, &r.alert_text())
                    .map_err(|e| ToolError::Failed(e.to_string()))?;
                open.push(serde_json::json!({
                    "incident_id": r.id, "similarity": (sim * 1000.0).round() / 1000.0,
                    "status": r.status.as_str(), "created_at": r.created_at, "title": r.title,
                }));
            }
        }
        Ok(ToolOutput::json(
            serde_json::json!({ "similar": similar, "open_on_service": open }),
        ))
    }
}
