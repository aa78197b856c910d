use crate::model::ChangeRow;
use leptos::prelude::*;

/// Stored deploys and changes of the last `hours` (1..2160), oldest first, optionally for one
/// service.
#[server(endpoint = "list_changes")]
pub async fn list_changes(
    service: Option<String>,
    hours: f64,
) -> Result<Vec<ChangeRow>, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .list_changes(service.filter(|s| !s.trim().is_empty()), hours)
        .await
        .map_err(crate::backend::to_sfn)
}
