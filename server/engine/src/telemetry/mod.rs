//! Where the tools read production telemetry from: logs, deploys, config/flag changes and
//! metrics. One source trait per kind ([`LogSource`], [`ChangeSource`], [`MetricSource`]), so
//! each backend plugs in on its own; [`Telemetry`] is what an incident's tools hold, one
//! source per kind. A scenario file ([`ScenarioTelemetry`]) is one connector among others;
//! [`Connectors`] holds the ones chosen from the configuration; a kind with nothing
//! configured answers [`NoTelemetry`]'s "unavailable". Agents never see which.

pub mod changes;
pub mod files;
pub mod loki;
pub mod postgres;
pub mod prometheus;
mod scenario;
mod types;

pub use scenario::ScenarioTelemetry;
pub use types::*;

use chrono::{DateTime, Utc};
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error)]
pub enum TelemetryError {
    #[error("no telemetry source is configured for {0}")]
    Unavailable(String),
    #[error("telemetry backend failed: {0}")]
    Backend(String),
}

impl TelemetryError {
    /// A failed HTTP call to a backend (`what` at `base`): timed out, unreachable, or why —
    /// the URL left out (only its credential-free base is named).
    pub fn http(what: &str, base: &str, e: reqwest::Error) -> Self {
        let why = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "unreachable".to_string()
        } else {
            e.without_url().to_string()
        };
        Self::Backend(format!("{what} {} {why}", crate::redact::url(base)))
    }
}

#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub service: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub min_level: Option<LogLevel>,
    pub keyword: Option<String>,
}

/// Where logs come from (a scenario's recorded lines; a log backend).
#[async_trait::async_trait]
pub trait LogSource: Send + Sync {
    async fn logs(&self, q: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError>;
}

/// Where deploys and config/flag changes come from (a scenario; change events; git history).
#[async_trait::async_trait]
pub trait ChangeSource: Send + Sync {
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
    /// Commits this source knows of (pushed ones, with their files), per service, for
    /// [`changes::ChangeSources`] to attach to the deploy that shipped them.
    async fn commits(
        &self,
        _service: Option<&str>,
        _since: DateTime<Utc>,
    ) -> Result<Vec<(String, changes::Commit)>, TelemetryError> {
        Ok(Vec::new())
    }
}

/// Where metric samples come from (a scenario; a Prometheus-API backend).
#[async_trait::async_trait]
pub trait MetricSource: Send + Sync {
    /// Whether the backend answers (checked at start; a failure is a warning).
    async fn ping(&self) -> Result<(), TelemetryError> {
        Ok(())
    }

    /// An expression of the backend's query language over the window (the alert's own rule),
    /// as samples of `service` named `name`.
    async fn expression(
        &self,
        _service: &str,
        _name: &str,
        _expr: &str,
        _since: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError> {
        Err(TelemetryError::Unavailable("alert expressions".into()))
    }
    /// The expression of the alerting rule of that name, when the backend serves its rules.
    async fn rule_expr(&self, _alertname: &str) -> Result<Option<String>, TelemetryError> {
        Ok(None)
    }
    async fn metrics(
        &self,
        service: Option<&str>,
        metric: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError>;
}

/// The configured backends, one per kind (None: nothing configured for that kind). Chosen
/// once from the configuration in the composition root (`bootstrap`); each backend plugs in
/// on its own.
#[derive(Clone, Default)]
pub struct Connectors {
    pub logs: Option<Arc<dyn LogSource>>,
    pub changes: Option<Arc<dyn ChangeSource>>,
    pub metrics: Option<Arc<dyn MetricSource>>,
}

/// What an incident's tools read: one source per kind, and the incident's "now" (when the
/// alert fired). Agents never see which backend answers.
#[derive(Clone)]
pub struct Telemetry {
    now: DateTime<Utc>,
    /// The alert's own expression (from its rule's `generatorURL`), when the alert has one.
    alert_expr: Option<String>,
    /// The alert's `alertname`, to find its rule when it came without a `generatorURL`.
    alert_name: Option<String>,
    /// The rule looked up by name, once per incident (every `query_metrics` call needs it).
    rule_expr: Arc<tokio::sync::OnceCell<Option<String>>>,
    logs: Arc<dyn LogSource>,
    changes: Arc<dyn ChangeSource>,
    metrics: Arc<dyn MetricSource>,
}

impl Telemetry {
    /// A scenario file's recorded telemetry for every kind.
    pub fn from_scenario(s: ScenarioTelemetry) -> Self {
        let now = s.now();
        let s = Arc::new(s);
        Self {
            now,
            alert_expr: None,
            alert_name: None,
            rule_expr: Default::default(),
            logs: s.clone(),
            changes: s.clone(),
            metrics: s,
        }
    }

    /// The configured connectors; a kind with none says so on every query.
    pub fn from_connectors(now: DateTime<Utc>, c: &Connectors) -> Self {
        let none = Arc::new(NoTelemetry { now });
        Self {
            now,
            alert_expr: None,
            alert_name: None,
            rule_expr: Default::default(),
            logs: c.logs.clone().unwrap_or_else(|| none.clone()),
            changes: c.changes.clone().unwrap_or_else(|| none.clone()),
            metrics: c.metrics.clone().unwrap_or(none),
        }
    }

    /// The reference "now" of the incident (when the alert fired).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// With the alert's own expression (read with the metrics).
    pub fn with_alert_expr(mut self, expr: Option<String>) -> Self {
        self.alert_expr = expr;
        self
    }

    /// With the alert's `alertname`.
    pub fn with_alert_name(mut self, name: Option<String>) -> Self {
        self.alert_name = name;
        self
    }

    pub fn alert_expr(&self) -> Option<&str> {
        self.alert_expr.as_deref()
    }

    /// The alert's own expression: from its `generatorURL`, else its rule looked up by name in
    /// the metrics backend (`/api/v1/rules`); `None` when neither is known.
    pub async fn alert_expression(&self) -> Option<String> {
        if let Some(e) = &self.alert_expr {
            return Some(e.clone());
        }
        let name = self.alert_name.as_deref()?;
        self.rule_expr
            .get_or_init(|| async {
                match self.metrics.rule_expr(name).await {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::debug!(alertname = name, error = %e, "alert rule not found");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    pub async fn expression(
        &self,
        service: &str,
        name: &str,
        expr: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError> {
        self.metrics.expression(service, name, expr, since).await
    }

    pub async fn logs(&self, q: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError> {
        self.logs.logs(q).await
    }

    pub async fn deploys(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Deploy>, TelemetryError> {
        self.changes.deploys(service, since).await
    }

    pub async fn changes(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Change>, TelemetryError> {
        self.changes.changes(service, since).await
    }

    pub async fn metrics(
        &self,
        service: Option<&str>,
        metric: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError> {
        self.metrics.metrics(service, metric, since).await
    }
}

/// A source that has nothing: every query says so, so agents report what they could not see.
pub struct NoTelemetry {
    pub now: DateTime<Utc>,
}

#[async_trait::async_trait]
impl LogSource for NoTelemetry {
    async fn logs(&self, _: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError> {
        Err(TelemetryError::Unavailable("logs".into()))
    }
}

#[async_trait::async_trait]
impl ChangeSource for NoTelemetry {
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
}

#[async_trait::async_trait]
impl MetricSource for NoTelemetry {
    async fn metrics(
        &self,
        _: Option<&str>,
        _: Option<&str>,
        _: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError> {
        Err(TelemetryError::Unavailable("metrics".into()))
    }
}

/// The certificates of a PEM file of extra CA roots, checked (`metrics.ca_file`,
/// `logs.ca_file`): the error names what is wrong with the file, never its contents.
pub fn read_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{}: not a PEM certificate bundle: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", path.display()));
    }
    Ok(certs)
}

/// The HTTP client of a telemetry backend: its timeout (connecting takes at most 5 s of it)
/// and any extra CA roots.
pub fn http_client(
    timeout: std::time::Duration,
    ca: Vec<reqwest::Certificate>,
) -> Result<reqwest::Client, TelemetryError> {
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(5)));
    for c in ca {
        b = b.add_root_certificate(c);
    }
    b.build()
        .map_err(|e| TelemetryError::Backend(format!("http client: {e}")))
}
