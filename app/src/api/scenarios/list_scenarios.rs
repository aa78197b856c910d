use crate::model::ScenarioSummary;
use leptos::prelude::*;

/// The scenarios that can be fired from the dashboard.
#[server(endpoint = "list_scenarios")]
pub async fn list_scenarios() -> Result<Vec<ScenarioSummary>, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .list_scenarios()
        .await
        .map_err(crate::backend::to_sfn)
}
