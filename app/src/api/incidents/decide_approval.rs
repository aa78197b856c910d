use crate::model::IncidentStatus;
use leptos::prelude::*;

/// Approve or reject a pending remediation. Needs the operator's browser session.
#[server(endpoint = "decide_approval")]
pub async fn decide_approval(
    incident_id: String,
    decision: String,
    comment: String,
) -> Result<IncidentStatus, ServerFnError> {
    let backend = crate::backend::backend()?;
    let creds = crate::api::session::credentials().await;
    backend
        .decide(&incident_id, &decision, &comment, creds)
        .await
        .map_err(crate::backend::to_sfn)
}
