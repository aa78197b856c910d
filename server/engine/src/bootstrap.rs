//! The composition root: the one place that turns a [`Config`] into a running [`Sentinel`]
//! (store, catalogue, memory, tools, brains, runner). Every front end calls down into it —
//! `cli` (run, serve), `http::Application`, `eval` — and nothing below it knows how it is
//! wired. New backends (telemetry connectors, notifiers) are chosen here from the config.

use crate::agents::llm_policy::ConfiguredBrains;
use crate::config::Config;
use crate::service::{Sentinel, ServiceError};
use crate::telemetry::Connectors;
use crate::tools::Registry;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("models: {0}")]
    Models(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Builds the application service from the configuration.
pub async fn sentinel(config: Config) -> Result<Sentinel, BootError> {
    warn_unused(&config);
    let registry = Arc::new(Registry::standard());
    let brains = ConfiguredBrains::from_config(&config.models, &config.providers, registry.clone())
        .map_err(BootError::Models)?;
    let mut sentinel = Sentinel::build(config, Arc::new(brains), registry).await?;
    sentinel.connectors = connectors(&sentinel.config);
    Ok(sentinel)
}

/// The telemetry backend of each kind, from the configuration. Scenario incidents always read
/// their scenario's telemetry; these serve every other incident. This build has no backend
/// connectors yet, so every kind stays unconfigured (and `warn_unused` says so when the file
/// names one): webhook incidents then report their telemetry as unavailable.
fn connectors(_config: &Config) -> Connectors {
    Connectors::default()
}

/// Says which configuration-file tables this build accepts but does not act on yet, so a
/// configured backend is never silently ignored.
fn warn_unused(config: &Config) {
    let unused = config.file.not_yet_used();
    if let (Some(path), false) = (&config.file_path, unused.is_empty()) {
        tracing::warn!(
            file = %path.display(),
            tables = %unused.join(", "),
            "these configuration tables are valid but this build does not use them yet: webhook alerts are investigated without telemetry"
        );
    }
}
