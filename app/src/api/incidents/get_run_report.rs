use crate::model::RunReport;
use leptos::prelude::*;

/// One incident's run report alone: what the live board shows when an incident finishes (the
/// browser needs neither the alert nor the event log it already streamed).
#[server(endpoint = "get_run_report")]
pub async fn get_run_report(id: String) -> Result<RunReport, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .incident_view(&id)
        .await
        .map(|v| v.detail.report)
        .map_err(crate::backend::to_sfn)
}
