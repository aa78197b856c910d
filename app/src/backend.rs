//! The port through which server functions reach the engine. The server crate implements it
//! and provides it as Leptos context, so this crate never depends on the server.

use crate::api::eval::EvalHistory;
use crate::api::incidents::{IncidentView, LiveSnapshot};
use crate::api::session::Credentials;
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
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error (see server log)")]
    Internal,
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn list_scenarios(&self) -> Result<Vec<ScenarioSummary>, BackendError>;
    /// Operator only (checked against `creds`).
    async fn fire_scenario(
        &self,
        scenario_id: &str,
        creds: Credentials,
    ) -> Result<String, BackendError>;
    /// The incident a live dashboard should show: `pin` if given, else the newest one
    /// awaiting approval, else the newest.
    async fn live_snapshot(&self, pin: Option<String>) -> Result<LiveSnapshot, BackendError>;
    async fn incident_view(&self, id: &str) -> Result<IncidentView, BackendError>;
    async fn list_incidents(
        &self,
        status: Option<String>,
        service: Option<String>,
    ) -> Result<Vec<IncidentSummary>, BackendError>;
    async fn decide(
        &self,
        incident_id: &str,
        decision: &str,
        comment: &str,
        creds: Credentials,
    ) -> Result<IncidentStatus, BackendError>;
    async fn is_operator(&self, creds: Credentials) -> bool;
    async fn settings(&self) -> Result<SettingsView, BackendError>;
    async fn eval_history(&self) -> Result<EvalHistory, BackendError>;
    async fn eval_status(&self) -> Result<EvalStatus, BackendError>;
    /// Operator only (checked against `creds`).
    async fn start_eval(
        &self,
        suites: Vec<String>,
        creds: Credentials,
    ) -> Result<EvalProgress, BackendError>;
    /// Stored changes of the last `hours`, oldest first.
    async fn list_changes(
        &self,
        service: Option<String>,
        hours: f64,
    ) -> Result<Vec<ChangeRow>, BackendError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The backend from Leptos context (provided by the server for every request).
pub fn backend() -> Result<SharedBackend, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<SharedBackend>()
        .ok_or_else(|| leptos::prelude::ServerFnError::new("backend missing from context"))
}

impl BackendError {
    /// The HTTP status a server function answers with for this error.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::NotFound(_) => http::StatusCode::NOT_FOUND,
            Self::Invalid(_) => http::StatusCode::BAD_REQUEST,
            Self::Conflict(_) => http::StatusCode::CONFLICT,
            Self::Unauthorized(_) => http::StatusCode::UNAUTHORIZED,
            Self::Unavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Maps a backend error to a server-function error (message safe for users) and sets the
/// response status to match (401, 404, 400, 409; 500 only for internal errors). The browser
/// client decodes the message from any 4xx/5xx answer.
pub fn to_sfn(e: BackendError) -> leptos::prelude::ServerFnError {
    if let Some(opts) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        opts.set_status(e.status());
    }
    leptos::prelude::ServerFnError::new(e.to_string())
}
