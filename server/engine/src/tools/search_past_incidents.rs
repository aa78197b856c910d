//! `search_past_incidents`: similar finished incidents from episodic memory, plus open
//! incidents on the same service (for the duplicate check).

use super::*;
use serde::{Deserialize, Serialize};

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

/// Finished incidents like this one, and open ones on the same service (duplicate check).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub similar: Vec<PastIncident>,
    pub open_on_service: Vec<OpenIncident>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A finished incident from episodic memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PastIncident {
    pub incident_id: String,
    pub similarity: f32,
    pub service: String,
    pub failure_class: String,
    /// Its diagnosis.
    pub summary: String,
    pub action: String,
    /// The approval outcome.
    pub outcome: String,
    pub status: String,
    pub mttr_ms: f64,
}

/// An incident still open on the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OpenIncident {
    pub incident_id: String,
    pub similarity: f32,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub title: String,
}

pub struct SearchPastIncidents;

/// How far back an open incident counts as a possible duplicate.
pub const DUPLICATE_WINDOW_HOURS: i64 = 2;

#[async_trait::async_trait]
impl Tool for SearchPastIncidents {
    const NAME: &'static str = "search_past_incidents";
    const DESCRIPTION: &'static str = "Search episodic memory for similar past incidents (similarity 0..1, diagnosis, action taken, outcome) and list open incidents on the same service with their similarity to this one.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let Some(memory) = &ctx.memory else {
            return Ok(Output {
                similar: vec![],
                open_on_service: vec![],
                note: Some("episodic memory is disabled".into()),
            });
        };
        let k = a.k.unwrap_or(5).clamp(1, 10);
        let hits = memory
            .search(&a.query, k + 1)
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        let similar: Vec<_> = hits
            .into_iter()
            .filter(|h| h.record.incident_id != ctx.incident_id)
            .take(k)
            .map(|h| PastIncident {
                similarity: (h.similarity * 1000.0).round() / 1000.0,
                incident_id: h.record.incident_id,
                service: h.record.service,
                failure_class: h.record.failure_class,
                summary: h.record.diagnosis,
                action: h.record.action,
                outcome: h.record.approval,
                status: h.record.status,
                mttr_ms: h.record.mttr_ms,
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
                open.push(OpenIncident {
                    similarity: (sim * 1000.0).round() / 1000.0,
                    status: r.status.as_str().to_string(),
                    created_at: r.created_at,
                    incident_id: r.id,
                    title: r.title,
                });
            }
        }
        Ok(Output {
            similar,
            open_on_service: open,
            note: None,
        })
    }
}
