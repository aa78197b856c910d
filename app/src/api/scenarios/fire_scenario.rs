use leptos::prelude::*;

/// Opens an incident for a scenario and starts investigating it; returns the incident id.
#[server(endpoint = "fire_scenario")]
pub async fn fire_scenario(scenario_id: String) -> Result<String, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .fire_scenario(&scenario_id)
        .await
        .map_err(crate::backend::to_sfn)
}
