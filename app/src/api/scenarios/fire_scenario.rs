use leptos::prelude::*;

/// Opens an incident for a scenario and starts investigating it; returns the incident id.
/// Needs the operator's session (firing runs agents: an operator act).
#[server(endpoint = "fire_scenario")]
pub async fn fire_scenario(scenario_id: String) -> Result<String, ServerFnError> {
    let backend = crate::backend::backend()?;
    let creds = crate::api::session::credentials().await;
    backend
        .fire_scenario(&scenario_id, creds)
        .await
        .map_err(crate::backend::to_sfn)
}
