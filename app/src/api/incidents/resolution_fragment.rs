use crate::model::RunReport;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A finished incident's resolution view, rendered on the server: the live board shows it as
/// HTML instead of decoding the run report and rendering it itself, which keeps the report's
/// types and the view out of the browser's WebAssembly (docs/benchmarks.md, "Bundle").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolutionFragment {
    pub incident_id: String,
    /// The `Resolution` component's HTML.
    pub html: String,
    /// Similar past incidents triage found (the board's "memory hits").
    pub memory_hits: usize,
}

impl ResolutionFragment {
    /// Renders `report`'s resolution view (on the server; no island calls it, so it stays out
    /// of the WebAssembly).
    pub fn render(report: RunReport) -> Self {
        let owner = Owner::new();
        let incident_id = report.incident_id.clone();
        let memory_hits = report.triage.as_ref().map_or(0, |t| t.similar.len());
        let html = owner.with(|| view! { <crate::components::live::Resolution report/> }.to_html());
        Self {
            incident_id,
            html,
            memory_hits,
        }
    }
}

#[server(endpoint = "get_resolution")]
pub async fn get_resolution(id: String) -> Result<ResolutionFragment, ServerFnError> {
    let backend = crate::backend::backend()?;
    let report: RunReport = backend
        .incident_view(&id)
        .await
        .map(|v| v.detail.report)
        .map_err(crate::backend::to_sfn)?;
    Ok(ResolutionFragment::render(report))
}
