//! The server's implementation of the app's [`Backend`] port, used by server functions.

use super::AppState;
use app::backend::{Backend, BackendError};
use app::model::*;

pub struct HttpBackend {
    pub state: AppState,
}

fn internal(e: impl std::fmt::Display) -> BackendError {
    tracing::error!(error = %e, "backend error");
    BackendError::Internal
}

#[async_trait::async_trait]
impl Backend for HttpBackend {
    async fn list_scenarios(&self) -> Result<Vec<ScenarioSummary>, BackendError> {
        Ok(self
            .state
            .sentinel
            .scenarios()
            .map_err(internal)?
            .iter()
            .map(|s| s.summary())
            .collect())
    }
}
