use crate::model::SettingsView;
use leptos::prelude::*;

/// Model per role and provider key presence (never the keys).
#[server(endpoint = "get_settings")]
pub async fn get_settings() -> Result<SettingsView, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend.settings().await.map_err(crate::backend::to_sfn)
}
