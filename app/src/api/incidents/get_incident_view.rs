use crate::model::{IncidentDetail, RunEvent};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One incident with its whole trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    pub detail: IncidentDetail,
    pub events: Vec<RunEvent>,
}

#[server(endpoint = "get_incident_view")]
pub async fn get_incident_view(id: String) -> Result<IncidentView, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .incident_view(&id)
        .await
        .map_err(crate::backend::to_sfn)
}
