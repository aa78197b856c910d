use crate::model::IncidentSummary;
use leptos::prelude::*;

/// Incident history, newest first, optionally filtered.
#[server(endpoint = "list_incidents")]
pub async fn list_incidents(
    status: Option<String>,
    service: Option<String>,
) -> Result<Vec<IncidentSummary>, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .list_incidents(
            status.filter(|s| !s.is_empty()),
            service.filter(|s| !s.is_empty()),
        )
        .await
        .map_err(crate::backend::to_sfn)
}
