//! Where the tools read production telemetry from: logs, deploys, config/flag changes and
//! metrics. The [`TelemetrySource`] trait hides the backend; today it is a scenario file
//! ([`ScenarioTelemetry`]) or nothing at all ([`NoTelemetry`], for alerts from real sources
//! before a connector is configured). Agents never see which.

mod scenario;
mod types;

pub use scenario::ScenarioTelemetry;
pub use types::*;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, thiserror::Error)]
pub enum TelemetryError {
    #[error("no telemetry source is configured for {0}")]
    Unavailable(String),
    #[error("telemetry backend failed: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub service: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub min_level: Option<LogLevel>,
    pub keyword: Option<String>,
}

#[async_trait::async_trait]
pub trait TelemetrySource: Send + Sync {
    /// The reference "now" of the incident (when the alert fired).
    fn now(&self) -> DateTime<Utc>;
    async fn logs(&self, q: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError>;
    async fn deploys(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Deploy>, TelemetryError>;
    async fn changes(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Change>, TelemetryError>;
    async fn metrics(
        &self,
        service: Option<&str>,
        metric: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError>;
}

/// A source that has nothing: every query says so, so agents report what they could not see.
pub struct NoTelemetry {
    pub now: DateTime<Utc>,
}

#[async_trait::async_trait]
impl TelemetrySource for NoTelemetry {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    async fn logs(&self, _: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError> {
        Err(TelemetryError::Unavailable("logs".into()))
    }
    async fn deploys(
        &self,
        _: Option<&str>,
        _: DateTime<Utc>,
    ) -> Result<Vec<Deploy>, TelemetryError> {
        Err(TelemetryError::Unavailable("deploys".into()))
    }
    async fn changes(
        &self,
        _: Option<&str>,
        _: DateTime<Utc>,
    ) -> Result<Vec<Change>, TelemetryError> {
        Err(TelemetryError::Unavailable("changes".into()))
    }
    async fn metrics(
        &self,
        _: Option<&str>,
        _: Option<&str>,
        _: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError> {
        Err(TelemetryError::Unavailable("metrics".into()))
    }
}
