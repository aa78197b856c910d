//! The port through which server functions reach the engine. The server crate implements it
//! and provides it as Leptos context, so this crate never depends on the server.

use crate::model::*;
use std::sync::Arc;

/// Failures a server function may report; the message is safe to show a user.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not authorised: {0}")]
    Unauthorized(String),
    #[error("internal error (see server log)")]
    Internal,
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn list_scenarios(&self) -> Result<Vec<ScenarioSummary>, BackendError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The backend from Leptos context (provided by the server for every request).
pub fn backend() -> Result<SharedBackend, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<SharedBackend>()
        .ok_or_else(|| leptos::prelude::ServerFnError::new("backend missing from context"))
}
