//! The one typed configuration, loaded once at start and passed down, never re-read.
//!
//! Two inputs: the process environment (`SENTINEL_*` and the providers' variables) and an
//! optional TOML file (`SENTINEL_CONFIG=path` or `--config path`; keys in docs/CONTRACTS.md
//! §6). This is the only module that reads the environment ([`Env::from_process`]); everything
//! else gets its values from [`Config`]. Bad values are errors that name the variable or the
//! file key (`SENTINEL_TOOL_CALL_CAP: "ten" is not a whole number`, `sentinel.toml: logs.paths:
//! required when kind = "files"`), unknown file keys included. Secrets are [`Secret`]s: their
//! `Debug` says `[set]`, never the value.

use crate::llm::spec::ModelSpec;
use sentinel_model::AgentRole;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A snapshot of the environment variables Sentinel reads (names and values; empty values
/// count as unset).
#[derive(Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Env {
    /// The process environment: the one place it is read.
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    /// An explicit environment (tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// The trimmed value of `key`, if set and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        self.get(key).map(PathBuf::from)
    }

    fn parse<T: std::str::FromStr>(&self, key: &str, what: &str) -> Result<Option<T>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| ConfigError::Env {
                var: key.to_string(),
                message: format!("{v:?} is not {what}"),
            }),
        }
    }

    fn secs(&self, key: &str, default: Duration) -> Result<Duration, ConfigError> {
        Ok(self
            .parse::<u64>(key, "a whole number of seconds")?
            .map(Duration::from_secs)
            .unwrap_or(default))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {message}")]
    Env { var: String, message: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file}: {key}: {message}")]
    Key {
        file: String,
        key: String,
        message: String,
    },
}

/// A secret value: usable, never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[set]")
    }
}

/// The model of each role, parsed (`provider/model`): triage uses `triage`, the other
/// specialists `analysis`, unless a role has its own (`SENTINEL_<ROLE>_MODEL` or the file's
/// `[models]` table); the LLM judge uses `judge`.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub triage: ModelSpec,
    pub analysis: ModelSpec,
    pub judge: ModelSpec,
    /// Per-role models that replace `triage` / `analysis` for that role.
    pub roles: BTreeMap<AgentRole, ModelSpec>,
}

/// The roles that may have their own model, with their environment variable and file key.
pub const ROLE_MODEL_KEYS: [(AgentRole, &str, &str); 4] = [
    (
        AgentRole::LogAnalyst,
        "SENTINEL_LOG_ANALYST_MODEL",
        "log_analyst",
    ),
    (
        AgentRole::DeployCorrelator,
        "SENTINEL_DEPLOY_CORRELATOR_MODEL",
        "deploy_correlator",
    ),
    (
        AgentRole::Remediation,
        "SENTINEL_REMEDIATION_MODEL",
        "remediation",
    ),
    (AgentRole::Comms, "SENTINEL_COMMS_MODEL", "comms"),
];

impl ModelConfig {
    pub const DEFAULT_MODEL: &'static str = "builtin/sentinel-engine";

    pub fn builtin() -> Self {
        let b = ModelSpec::parse(Self::DEFAULT_MODEL).expect("the default model parses");
        Self {
            triage: b.clone(),
            analysis: b.clone(),
            judge: b,
            roles: BTreeMap::new(),
        }
    }

    /// The model `role` plays with.
    pub fn for_role(&self, role: AgentRole) -> &ModelSpec {
        if let Some(m) = self.roles.get(&role) {
            return m;
        }
        match role {
            AgentRole::Triage => &self.triage,
            _ => &self.analysis,
        }
    }

    /// Fills what the environment left unset from the file's `[models]` table.
    fn apply_file(&mut self, env: &Env, file: &Path, m: &ModelsFile) -> Result<(), ConfigError> {
        let parse = |key: &str, raw: &str| {
            ModelSpec::parse(raw).map_err(|e| ConfigError::Key {
                file: file.display().to_string(),
                key: format!("models.{key}"),
                message: e.to_string(),
            })
        };
        for (slot, var, key, value) in [
            (
                &mut self.triage,
                "SENTINEL_TRIAGE_MODEL",
                "triage",
                &m.triage,
            ),
            (
                &mut self.analysis,
                "SENTINEL_ANALYSIS_MODEL",
                "analysis",
                &m.analysis,
            ),
            (&mut self.judge, "SENTINEL_JUDGE_MODEL", "judge", &m.judge),
        ] {
            if let Some(raw) = value
                && env.get(var).is_none()
            {
                *slot = parse(key, raw)?;
            }
        }
        for (role, var, key) in ROLE_MODEL_KEYS {
            let value = match role {
                AgentRole::LogAnalyst => &m.log_analyst,
                AgentRole::DeployCorrelator => &m.deploy_correlator,
                AgentRole::Remediation => &m.remediation,
                _ => &m.comms,
            };
            if let Some(raw) = value
                && env.get(var).is_none()
            {
                self.roles.insert(role, parse(key, raw)?);
            }
        }
        Ok(())
    }

    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let get = |k: &str| -> Result<ModelSpec, ConfigError> {
            ModelSpec::parse(env.get(k).unwrap_or(Self::DEFAULT_MODEL)).map_err(|e| {
                ConfigError::Env {
                    var: k.to_string(),
                    message: e.to_string(),
                }
            })
        };
        let mut roles = BTreeMap::new();
        for (role, var, _) in ROLE_MODEL_KEYS {
            if env.get(var).is_some() {
                roles.insert(role, get(var)?);
            }
        }
        Ok(Self {
            triage: get("SENTINEL_TRIAGE_MODEL")?,
            analysis: get("SENTINEL_ANALYSIS_MODEL")?,
            judge: get("SENTINEL_JUDGE_MODEL")?,
            roles,
        })
    }
}

pub use crate::llm::settings::{AZURE_API_VERSION_ENV, ProviderSettings};

/// Where the local embedding model and ONNX Runtime are (`SENTINEL_MODEL_DIR`,
/// `ORT_DYLIB_PATH`); None: the defaults `memory::minilm` knows.
#[derive(Debug, Clone, Default)]
pub struct EmbeddingPaths {
    pub model_dir: Option<PathBuf>,
    pub ort_dylib: Option<PathBuf>,
}

/// Webhook settings.
#[derive(Clone)]
pub struct IngestConfig {
    /// `SENTINEL_WEBHOOK_TOKEN`: bearer token (or basic-auth password) for Alertmanager,
    /// Grafana, Datadog and the generic route. Unset: only loopback callers are accepted.
    pub webhook_token: Option<String>,
    /// `SENTINEL_PAGERDUTY_SECRET`: HMAC secret of the PagerDuty V3 subscription. Unset: the
    /// PagerDuty route falls back to the webhook-token rule above.
    pub pagerduty_secret: Option<String>,
    /// `SENTINEL_SERVICE_LABELS` (comma-separated, default `service,job,app`): the labels
    /// that name the service, first present wins.
    pub service_labels: Vec<String>,
    /// `SENTINEL_QUEUE_CAPACITY` (default 1024): investigations waiting to run.
    pub queue_capacity: usize,
    /// `SENTINEL_QUEUE_WORKERS` (default 2): investigations running at once.
    pub queue_workers: usize,
}

impl std::fmt::Debug for IngestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestConfig")
            .field(
                "webhook_token",
                &self.webhook_token.as_ref().map(|_| "[set]"),
            )
            .field(
                "pagerduty_secret",
                &self.pagerduty_secret.as_ref().map(|_| "[set]"),
            )
            .field("service_labels", &self.service_labels)
            .field("queue_capacity", &self.queue_capacity)
            .field("queue_workers", &self.queue_workers)
            .finish()
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            webhook_token: None,
            pagerduty_secret: None,
            service_labels: vec!["service".into(), "job".into(), "app".into()],
            queue_capacity: 1024,
            queue_workers: 2,
        }
    }
}

impl IngestConfig {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            webhook_token: env.get("SENTINEL_WEBHOOK_TOKEN").map(String::from),
            pagerduty_secret: env.get("SENTINEL_PAGERDUTY_SECRET").map(String::from),
            service_labels: env
                .get("SENTINEL_SERVICE_LABELS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or(d.service_labels),
            queue_capacity: env
                .parse("SENTINEL_QUEUE_CAPACITY", "a whole number")?
                .unwrap_or(d.queue_capacity),
            queue_workers: env
                .parse("SENTINEL_QUEUE_WORKERS", "a whole number")?
                .unwrap_or(d.queue_workers),
        })
    }
}

/// What one HTTP client, or all of them together, may hold. Defaults suit one Sentinel
/// serving a team; every value has a `SENTINEL_*` variable.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// `SENTINEL_MAX_CONNECTIONS` (default 1024): open connections; more are closed at once.
    pub max_connections: usize,
    /// `SENTINEL_MAX_CONNECTIONS_PER_IP` (default 128): open connections from one address.
    pub max_connections_per_ip: usize,
    /// `SENTINEL_HEADER_TIMEOUT_SECS` (default 10): time to send a request's headers.
    pub header_timeout: Duration,
    /// `SENTINEL_BODY_TIMEOUT_SECS` (default 30): time to send a whole request body.
    pub body_timeout: Duration,
    /// `SENTINEL_IDLE_TIMEOUT_SECS` (default 60): a connection with no traffic either way
    /// for this long is closed (event streams send a keep-alive every 15 s).
    pub idle_timeout: Duration,
    /// `SENTINEL_MAX_EVENT_STREAMS` (default 512): SSE subscribers at once.
    pub max_event_streams: usize,
    /// `SENTINEL_EVENT_REPLAYS` (default 4): replay pages read from the log at once.
    pub event_replays: usize,
    /// `SENTINEL_MAX_BODY_BYTES` (default 1 MiB): largest request body.
    pub max_body_bytes: usize,
    /// `SENTINEL_ALLOWED_HOSTS` (comma-separated): `Host` names the webhook routes accept
    /// when no webhook token is set, besides loopback names (DNS-rebinding guard).
    pub allowed_hosts: Vec<String>,
    /// `SENTINEL_SIGNED_WEBHOOK_MAX_AGE_SECS` (default 3600): a signed delivery (PagerDuty)
    /// whose `occurred_at` is older than this, or more than 5 minutes ahead, is refused.
    pub signed_webhook_max_age: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_ip: 128,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_event_streams: 512,
            event_replays: 4,
            max_body_bytes: 1024 * 1024,
            allowed_hosts: Vec::new(),
            signed_webhook_max_age: Duration::from_secs(3600),
        }
    }
}

impl HttpLimits {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let n = |k: &str, d: usize| -> Result<usize, ConfigError> {
            Ok(env.parse(k, "a whole number")?.unwrap_or(d))
        };
        Ok(Self {
            max_connections: n("SENTINEL_MAX_CONNECTIONS", d.max_connections)?,
            max_connections_per_ip: n("SENTINEL_MAX_CONNECTIONS_PER_IP", d.max_connections_per_ip)?,
            header_timeout: env.secs("SENTINEL_HEADER_TIMEOUT_SECS", d.header_timeout)?,
            body_timeout: env.secs("SENTINEL_BODY_TIMEOUT_SECS", d.body_timeout)?,
            idle_timeout: env.secs("SENTINEL_IDLE_TIMEOUT_SECS", d.idle_timeout)?,
            max_event_streams: n("SENTINEL_MAX_EVENT_STREAMS", d.max_event_streams)?,
            event_replays: n("SENTINEL_EVENT_REPLAYS", d.event_replays)?,
            max_body_bytes: n("SENTINEL_MAX_BODY_BYTES", d.max_body_bytes)?,
            allowed_hosts: env
                .get("SENTINEL_ALLOWED_HOSTS")
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            signed_webhook_max_age: env.secs(
                "SENTINEL_SIGNED_WEBHOOK_MAX_AGE_SECS",
                d.signed_webhook_max_age,
            )?,
        })
    }
}

// ---- the TOML file (docs/CONTRACTS.md §6) ----

/// The configuration file's contents. Every table and key is typed; unknown keys are errors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
    #[serde(default)]
    pub logs: Option<LogsConfig>,
    #[serde(default)]
    pub changes: ChangesConfig,
    #[serde(default)]
    pub services: BTreeMap<String, ServiceConfig>,
    #[serde(default)]
    pub operators: Vec<OperatorConfig>,
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub models: ModelsFile,
    #[serde(default)]
    pub catalog: CatalogConfig,
    /// `[prices."<provider/model>"] input_per_mtok, output_per_mtok`: USD per million tokens,
    /// over the built-in defaults (`llm/prices.rs`).
    #[serde(default)]
    pub prices: BTreeMap<String, crate::llm::prices::Price>,
    /// `[context_windows] "<provider/model>" = tokens`: a model's context window, over what
    /// the client reports and the defaults (`llm/budget.rs`); every request is fitted to it.
    #[serde(default)]
    pub context_windows: BTreeMap<String, u32>,
    #[serde(default)]
    pub eval: EvalFileConfig,
}

/// `[eval]`: what an evaluation started from the dashboard or `POST /api/evals` may run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalFileConfig {
    /// `NAME = "DIR"` (subfolders included), e.g. `public = "data/scenarios"`,
    /// `regression = "server/tests/fixtures/regression"`. Default: `public` = the scenarios
    /// directory.
    #[serde(default)]
    pub suites: BTreeMap<String, PathBuf>,
    /// Scenarios run at once (default 2).
    #[serde(default)]
    pub concurrency: Option<usize>,
}

/// `[catalog]`: the user's own service catalogue, merged over `data/services`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// Globs of Backstage `catalog-info.yaml` descriptors.
    #[serde(default)]
    pub backstage: Vec<String>,
    /// Globs of Markdown runbooks with front matter.
    #[serde(default)]
    pub runbooks: Vec<String>,
    /// Seconds between checks for changed files (default 5).
    #[serde(default)]
    pub reload_secs: Option<u64>,
}

/// `[models]`: `provider/model` per role (the environment overrides each key).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsFile {
    pub triage: Option<String>,
    pub analysis: Option<String>,
    pub judge: Option<String>,
    pub log_analyst: Option<String>,
    pub deploy_correlator: Option<String>,
    pub remediation: Option<String>,
    pub comms: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricsKind {
    /// The Prometheus HTTP API (Prometheus, VictoriaMetrics, Thanos, Mimir).
    Prometheus,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub kind: MetricsKind,
    pub url: String,
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// PEM file of extra CA certificates to trust (a private CA in front of Prometheus).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogsKind {
    Files,
    Loki,
    Postgres,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    pub kind: LogsKind,
    /// `files`: globs of JSON-lines or text files.
    #[serde(default)]
    pub paths: Vec<String>,
    /// `loki`, `postgres`: where.
    #[serde(default)]
    pub url: Option<Secret>,
    /// `postgres`: the table holding (ts, level, service, message).
    #[serde(default)]
    pub table: Option<String>,
    /// `loki`: sent as `Authorization: Bearer`.
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// `loki`: PEM file of extra CA certificates to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// `files`: the zone of timestamps written without an offset (`UTC`, `+02:00`,
    /// `Europe/Berlin`; default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesConfig {
    #[serde(default)]
    pub git: Vec<GitChanges>,
    /// `POST /webhooks/change/github`: `deployment_status` and `push` deliveries.
    #[serde(default)]
    pub github: Option<GithubChanges>,
    /// `POST /webhooks/change/argocd`: Argo CD notifications.
    #[serde(default)]
    pub argocd: Option<ArgoChanges>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubChanges {
    /// The webhook secret; deliveries must carry its `X-Hub-Signature-256`.
    pub secret: Secret,
    /// Repository (`name` or `owner/name`) → service, where they differ.
    #[serde(default)]
    pub services: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgoChanges {
    /// Application → service, where they differ.
    #[serde(default)]
    pub services: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitChanges {
    pub service: String,
    /// A path or a `git://` URL.
    pub repo: String,
    /// Seconds a git command may take (default 10).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Label matchers added to every metrics query for this service (`{service="x"}`).
    #[serde(default)]
    pub metrics_selector: Option<String>,
    /// The log stream selector for this service (Loki) or its file glob.
    #[serde(default)]
    pub log_selector: Option<String>,
    /// Extra metric signals: name → PromQL; `{{selector}}` stands for the service's matchers.
    #[serde(default)]
    pub queries: BTreeMap<String, String>,
}

/// What an operator may do; ordered, each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorRole {
    Viewer,
    Responder,
    Admin,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    pub name: String,
    pub token: Secret,
    pub role: OperatorRole,
    #[serde(default)]
    pub slack_user: Option<String>,
}

/// `[notify]`: where incidents are announced (`notify/`). Every channel is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// The dashboard's public URL, for links in messages (default: the address `serve`
    /// listens on).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Per-call timeout in seconds (default 10).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Attempts after the first failed one (default 3).
    #[serde(default)]
    pub retries: Option<u32>,
    /// The first retry's delay in milliseconds; doubled for each further one (default 1000).
    #[serde(default)]
    pub backoff_ms: Option<u64>,
    #[serde(default)]
    pub slack: Option<SlackConfig>,
    #[serde(default)]
    pub webhook: Option<WebhookNotifyConfig>,
    #[serde(default)]
    pub pagerduty: Option<PagerDutyConfig>,
    #[serde(default)]
    pub email: Option<EmailConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// An incoming webhook: each update is a new message.
    #[serde(default)]
    pub webhook_url: Option<Secret>,
    /// Verifies interactive callbacks (`POST /webhooks/slack/interactions`).
    #[serde(default)]
    pub signing_secret: Option<Secret>,
    /// A bot token (`xoxb-…`, scope `chat:write`): one message per incident, updated in place
    /// with `chat.update`, each change also a thread reply. Needs `channel`.
    #[serde(default)]
    pub bot_token: Option<Secret>,
    #[serde(default)]
    pub channel: Option<String>,
    /// The Web API's base URL (default `https://slack.com/api`).
    #[serde(default)]
    pub api_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookNotifyConfig {
    pub url: Secret,
    /// Signs each body: `X-Sentinel-Signature: sha256=<hex HMAC-SHA256>`.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Which events to send (default: all).
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

/// `[notify.pagerduty]`: Events API v2. Escalations and timed-out approvals trigger an alert
/// for the owning team (dedup key per incident), resolved when the incident resolves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    /// The routing key for teams without their own.
    #[serde(default)]
    pub routing_key: Option<Secret>,
    /// Team (the catalogue's `team`) → routing key.
    #[serde(default)]
    pub teams: BTreeMap<String, Secret>,
    /// Default `https://events.pagerduty.com/v2/enqueue`.
    #[serde(default)]
    pub events_url: Option<String>,
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on loopback or a trusted network.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub smtp_host: String,
    #[serde(default)]
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
    /// Which events to mail (default: awaiting approval, escalated, resolved).
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

fn http_url(s: &str) -> bool {
    reqwest::Url::parse(s)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

impl FileConfig {
    /// Parses a file's text; errors name the key path.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let name = file.display().to_string();
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::File {
            file: name.clone(),
            message: e.to_string().trim().to_string(),
        })?;
        let cfg: FileConfig = serde_path_to_error::deserialize(table).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Key {
                file: name.clone(),
                key: if key == "." {
                    "(top level)".into()
                } else {
                    key
                },
                message: e.into_inner().to_string(),
            }
        })?;
        cfg.validate(&name)?;
        Ok(cfg)
    }

    fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Key {
                file: file.to_string(),
                key: key.to_string(),
                message: message.to_string(),
            })
        };
        for (name, dir) in &self.eval.suites {
            if let Err(e) = crate::eval::check_suite_name(name) {
                return bad(&format!("eval.suites.{name}"), &e);
            }
            if dir.as_os_str().is_empty() {
                return bad(&format!("eval.suites.{name}"), "the directory is empty");
            }
        }
        if self.eval.concurrency == Some(0) {
            return bad("eval.concurrency", "must be at least 1");
        }
        if let Some(m) = &self.metrics
            && !http_url(&m.url)
        {
            return bad("metrics.url", "must be an http(s) URL");
        }
        if let Some(ca) = self.metrics.as_ref().and_then(|m| m.ca_file.as_ref())
            && let Err(e) = crate::telemetry::read_ca_file(ca)
        {
            return bad("metrics.ca_file", &e);
        }
        if let Some(l) = &self.logs {
            if let Some(ca) = &l.ca_file
                && let Err(e) = crate::telemetry::read_ca_file(ca)
            {
                return bad("logs.ca_file", &e);
            }
            if let Some(z) = &l.timezone
                && let Err(e) = crate::telemetry::files::Zone::parse(z)
            {
                return bad("logs.timezone", &e);
            }
            match l.kind {
                LogsKind::Files if l.paths.is_empty() => {
                    return bad("logs.paths", "required when kind = \"files\"");
                }
                LogsKind::Loki if !l.url.as_ref().is_some_and(|u| http_url(u.expose())) => {
                    return bad(
                        "logs.url",
                        "an http(s) URL is required when kind = \"loki\"",
                    );
                }
                LogsKind::Postgres if l.url.is_none() => {
                    return bad("logs.url", "required when kind = \"postgres\"");
                }
                LogsKind::Postgres if l.table.as_deref().is_none_or(str::is_empty) => {
                    return bad("logs.table", "required when kind = \"postgres\"");
                }
                _ => {}
            }
        }
        for (model, p) in &self.prices {
            if !(p.input_per_mtok.is_finite()
                && p.output_per_mtok.is_finite()
                && p.input_per_mtok >= 0.0
                && p.output_per_mtok >= 0.0)
            {
                return bad(
                    &format!("prices.{model}"),
                    "prices are USD per million tokens, finite and not negative",
                );
            }
        }
        for (model, w) in &self.context_windows {
            if *w < 1024 {
                return bad(
                    &format!("context_windows.{model}"),
                    "a context window is at least 1024 tokens",
                );
            }
        }
        for (i, g) in self.changes.git.iter().enumerate() {
            if g.service.trim().is_empty() {
                return bad(&format!("changes.git[{i}].service"), "must not be empty");
            }
            if g.repo.trim().is_empty() {
                return bad(&format!("changes.git[{i}].repo"), "must not be empty");
            }
        }
        let mut names = std::collections::BTreeSet::new();
        let mut tokens = std::collections::BTreeSet::new();
        let mut slack_users = std::collections::BTreeSet::new();
        for (i, o) in self.operators.iter().enumerate() {
            let name = o.name.trim();
            if name.is_empty() {
                return bad(&format!("operators[{i}].name"), "must not be empty");
            }
            if name.starts_with("operator (") || name.starts_with("sentinel (") {
                return bad(
                    &format!("operators[{i}].name"),
                    "names starting with \"operator (\" or \"sentinel (\" are reserved",
                );
            }
            if !names.insert(name.to_string()) {
                return bad(
                    &format!("operators[{i}].name"),
                    "two operators have this name",
                );
            }
            if !tokens.insert(o.token.expose().trim().to_string()) {
                return bad(
                    &format!("operators[{i}].token"),
                    "two operators have the same token",
                );
            }
            if let Some(u) = o
                .slack_user
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                && !slack_users.insert(u.to_string())
            {
                return bad(
                    &format!("operators[{i}].slack_user"),
                    "two operators have this Slack user",
                );
            }
            if o.token.expose().len() < 16 {
                return bad(
                    &format!("operators[{i}].token"),
                    "must be at least 16 characters",
                );
            }
        }
        self.notify
            .validate()
            .map_err(|(key, message)| ConfigError::Key {
                file: file.to_string(),
                key,
                message,
            })?;
        Ok(())
    }

    /// Which keys are set, for the settings page: secrets as `[set]`, never their value.
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let set = |s: &Option<Secret>| if s.is_some() { "[set]" } else { "[not set]" }.to_string();
        if let Some(m) = &self.metrics {
            out.push((
                "metrics.kind".into(),
                format!("{:?}", m.kind).to_ascii_lowercase(),
            ));
            out.push(("metrics.url".into(), crate::redact::url(&m.url)));
            out.push(("metrics.bearer_token".into(), set(&m.bearer_token)));
        }
        if let Some(l) = &self.logs {
            out.push((
                "logs.kind".into(),
                format!("{:?}", l.kind).to_ascii_lowercase(),
            ));
            if !l.paths.is_empty() {
                out.push(("logs.paths".into(), l.paths.join(", ")));
            }
            if l.url.is_some() {
                out.push(("logs.url".into(), "[set]".into()));
            }
        }
        for g in &self.changes.git {
            out.push((
                format!("changes.git[{}]", g.service),
                crate::redact::url(&g.repo),
            ));
        }
        for (name, s) in &self.services {
            if let Some(sel) = &s.metrics_selector {
                out.push((format!("services.{name}.metrics_selector"), sel.clone()));
            }
        }
        for o in &self.operators {
            out.push((
                format!("operators.{}", o.name),
                format!("{:?}, token [set]", o.role).to_ascii_lowercase(),
            ));
        }
        if let Some(s) = &self.notify.slack {
            out.push(("notify.slack.webhook_url".into(), set(&s.webhook_url)));
            out.push(("notify.slack.bot_token".into(), set(&s.bot_token)));
            out.push(("notify.slack.signing_secret".into(), set(&s.signing_secret)));
            if let Some(c) = &s.channel {
                out.push(("notify.slack.channel".into(), c.clone()));
            }
        }
        if let Some(w) = &self.notify.webhook {
            out.push((
                "notify.webhook.url".into(),
                // The host only: the path of a webhook URL is often its secret.
                format!("[set] ({})", crate::notify::host_of(w.url.expose())),
            ));
            out.push(("notify.webhook.secret".into(), set(&w.secret)));
        }
        if let Some(p) = &self.notify.pagerduty {
            out.push(("notify.pagerduty.routing_key".into(), set(&p.routing_key)));
            for team in p.teams.keys() {
                out.push((format!("notify.pagerduty.teams.{team}"), "[set]".into()));
            }
        }
        if let Some(e) = &self.notify.email {
            out.push((
                "notify.email".into(),
                format!(
                    "{}:{} → {}",
                    e.smtp_host,
                    e.smtp_port.unwrap_or(587),
                    e.to.join(", ")
                ),
            ));
        }
        out
    }
}

/// The event names notifications use.
pub const NOTIFY_EVENTS: &[&str] = &[
    "incident.opened",
    "incident.updated",
    "incident.awaiting_approval",
    "incident.decided",
    "incident.resolved",
    "incident.escalated",
];

impl NotifyConfig {
    /// Checks what serde cannot: URLs, event names, the Slack pairings. Errors name the key.
    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        let events_ok = |key: &str, evs: &Option<Vec<String>>| -> Result<(), (String, String)> {
            for (i, e) in evs.iter().flatten().enumerate() {
                if !NOTIFY_EVENTS.contains(&e.as_str()) {
                    return Err((
                        format!("{key}[{i}]"),
                        format!("unknown event {e:?}; one of {}", NOTIFY_EVENTS.join(", ")),
                    ));
                }
            }
            Ok(())
        };
        if let Some(u) = &self.base_url
            && !http_url(u)
        {
            return bad("notify.base_url", "must be an http(s) URL");
        }
        if self.timeout_secs == Some(0) {
            return bad("notify.timeout_secs", "must be at least 1");
        }
        if self.retries.is_some_and(|r| r > 10) {
            return bad("notify.retries", "at most 10");
        }
        if let Some(w) = &self.webhook {
            if !http_url(w.url.expose()) {
                return bad("notify.webhook.url", "must be an http(s) URL");
            }
            events_ok("notify.webhook.events", &w.events)?;
        }
        if let Some(s) = &self.slack {
            if let Some(u) = &s.webhook_url
                && !http_url(u.expose())
            {
                return bad("notify.slack.webhook_url", "must be an http(s) URL");
            }
            if let Some(u) = &s.api_url
                && !http_url(u)
            {
                return bad("notify.slack.api_url", "must be an http(s) URL");
            }
            if s.bot_token.is_some() && s.channel.as_deref().is_none_or(|c| c.trim().is_empty()) {
                return bad("notify.slack.channel", "required with bot_token");
            }
            if s.bot_token.is_some() && s.webhook_url.is_some() {
                return bad(
                    "notify.slack.bot_token",
                    "set either webhook_url or bot_token, not both",
                );
            }
        }
        if let Some(p) = &self.pagerduty {
            if p.routing_key.is_none() && p.teams.is_empty() {
                return bad(
                    "notify.pagerduty.routing_key",
                    "set a routing_key or at least one [notify.pagerduty.teams] entry",
                );
            }
            if let Some(u) = &p.events_url
                && !http_url(u)
            {
                return bad("notify.pagerduty.events_url", "must be an http(s) URL");
            }
        }
        if let Some(e) = &self.email {
            if e.smtp_host.trim().is_empty() {
                return bad("notify.email.smtp_host", "must not be empty");
            }
            if e.from.parse::<lettre::message::Mailbox>().is_err() {
                return bad("notify.email.from", "not an email address");
            }
            if e.to.is_empty() {
                return bad("notify.email.to", "at least one address");
            }
            for (i, t) in e.to.iter().enumerate() {
                if t.parse::<lettre::message::Mailbox>().is_err() {
                    return bad(&format!("notify.email.to[{i}]"), "not an email address");
                }
            }
            if e.password.is_some() && e.username.is_none() {
                return bad("notify.email.username", "required with password");
            }
            if e.password.is_some() && e.tls == SmtpTls::None {
                return bad(
                    "notify.email.tls",
                    "a password is never sent over an unencrypted connection; use starttls or tls",
                );
            }
            events_ok("notify.email.events", &e.events)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub scenarios_dir: PathBuf,
    pub services_dir: PathBuf,
    pub site_root: PathBuf,
    /// `LEPTOS_SITE_ADDR`: where `serve` listens when `--addr` is not given.
    pub site_addr: Option<String>,
    pub models: ModelConfig,
    pub providers: ProviderSettings,
    pub tool_call_cap: u32,
    /// `SENTINEL_OVERLAP_SPECIALISTS` (default true): when the log analyst and the deploy
    /// correlator are both models, they run at once after triage.
    pub overlap_specialists: bool,
    pub approval_timeout: Duration,
    pub operator_token: Option<String>,
    /// `SENTINEL_ALERT_RETENTION_DAYS` (default 30, 0 = keep forever): raw alerts of finished
    /// incidents older than this are pruned hourly by `sentinel serve`.
    pub alert_retention_days: u32,
    /// Bounds on what HTTP clients may hold (connections, timeouts, streams, body size).
    pub http: HttpLimits,
    pub ingest: IngestConfig,
    pub embedding: EmbeddingPaths,
    /// `SENTINEL_FORCE_PROMPT`: `sentinel run` asks at the gate even without a terminal.
    pub force_prompt: bool,
    /// `USER`: who decides on the terminal.
    pub user: Option<String>,
    /// The TOML file, when one was given.
    pub file_path: Option<PathBuf>,
    pub file: FileConfig,
}

impl Config {
    /// The suites an evaluation started by the server may run (`[eval] suites`, else
    /// `public` = the scenarios directory), by name.
    pub fn eval_suites(&self) -> Vec<(String, PathBuf)> {
        if self.file.eval.suites.is_empty() {
            return vec![("public".into(), self.scenarios_dir.clone())];
        }
        self.file
            .eval
            .suites
            .iter()
            .map(|(n, d)| (n.clone(), d.clone()))
            .collect()
    }

    /// Every setting at its default, with the data in `data_dir` (tests start from this).
    pub fn defaults(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            database_url: format!("sqlite://{}", data_dir.join("sentinel.db").display()),
            scenarios_dir: PathBuf::from("data/scenarios"),
            services_dir: PathBuf::from("data/services"),
            site_root: PathBuf::from("target/site"),
            site_addr: None,
            models: ModelConfig::builtin(),
            providers: ProviderSettings::default(),
            tool_call_cap: 15,
            overlap_specialists: true,
            approval_timeout: Duration::from_secs(15 * 60),
            operator_token: None,
            alert_retention_days: 30,
            http: HttpLimits::default(),
            ingest: IngestConfig::default(),
            embedding: EmbeddingPaths::default(),
            force_prompt: false,
            user: None,
            file_path: None,
            file: FileConfig::default(),
            data_dir,
        }
    }

    /// The configuration from `env` and the TOML file (`file`, else `SENTINEL_CONFIG`).
    pub fn load(env: &Env, file: Option<&Path>) -> Result<Self, ConfigError> {
        let data_dir = env
            .path("SENTINEL_DATA_DIR")
            .unwrap_or_else(|| PathBuf::from(".data"));
        let mut c = Self::defaults(data_dir);
        if let Some(url) = env.get("SENTINEL_DATABASE_URL") {
            c.database_url = url.to_string();
        }
        if let Some(p) = env.path("SENTINEL_SCENARIOS_DIR") {
            c.scenarios_dir = p;
        }
        if let Some(p) = env.path("SENTINEL_SERVICES_DIR") {
            c.services_dir = p;
        }
        if let Some(p) = env.path("LEPTOS_SITE_ROOT") {
            c.site_root = p;
        }
        c.site_addr = env.get("LEPTOS_SITE_ADDR").map(String::from);
        c.models = ModelConfig::from_env(env)?;
        c.providers = ProviderSettings::from_lookup(|k| env.get(k));
        if let Some(n) = env.parse("SENTINEL_TOOL_CALL_CAP", "a whole number")? {
            c.tool_call_cap = n;
        }
        if let Some(v) = env.get("SENTINEL_OVERLAP_SPECIALISTS") {
            c.overlap_specialists = match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(ConfigError::Env {
                        var: "SENTINEL_OVERLAP_SPECIALISTS".into(),
                        message: format!("{v:?} is not true or false"),
                    });
                }
            };
        }
        c.approval_timeout = env.secs("SENTINEL_APPROVAL_TIMEOUT_SECS", c.approval_timeout)?;
        c.operator_token = env.get("SENTINEL_OPERATOR_TOKEN").map(String::from);
        if let Some(d) = env.parse("SENTINEL_ALERT_RETENTION_DAYS", "a whole number of days")? {
            c.alert_retention_days = d;
        }
        c.http = HttpLimits::from_env(env)?;
        c.ingest = IngestConfig::from_env(env)?;
        c.embedding = EmbeddingPaths {
            model_dir: env.path("SENTINEL_MODEL_DIR"),
            ort_dylib: env.path("ORT_DYLIB_PATH"),
        };
        c.force_prompt = env.get("SENTINEL_FORCE_PROMPT").is_some();
        c.user = env.get("USER").map(String::from);
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.path("SENTINEL_CONFIG"));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File {
                file: path.display().to_string(),
                message: format!("cannot read the configuration file: {e}"),
            })?;
            c.file = FileConfig::parse(&path, &text)?;
            let models = c.file.models.clone();
            c.models.apply_file(env, &path, &models)?;
            c.file_path = Some(path);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_values_are_validated_and_named() {
        let ok = Config::load(&Env::from_pairs([("SENTINEL_TOOL_CALL_CAP", "20")]), None).unwrap();
        assert_eq!(ok.tool_call_cap, 20);
        for (var, val) in [
            ("SENTINEL_TOOL_CALL_CAP", "ten"),
            ("SENTINEL_APPROVAL_TIMEOUT_SECS", "-1"),
            ("SENTINEL_ANALYSIS_MODEL", "gpt-4o"),
            ("SENTINEL_QUEUE_WORKERS", "2.5"),
        ] {
            let e = Config::load(&Env::from_pairs([(var, val)]), None)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(var), "{e}");
        }
        // Empty values are unset.
        let c = Config::load(&Env::from_pairs([("SENTINEL_TOOL_CALL_CAP", " ")]), None).unwrap();
        assert_eq!(c.tool_call_cap, 15);
    }

    #[test]
    fn each_role_may_have_its_own_model_and_the_environment_wins() {
        let dir = std::env::temp_dir().join(format!("sentinel-models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("models.toml");
        std::fs::write(
            &file,
            "[models]\nanalysis = \"ollama/llama3\"\nremediation = \"anthropic/claude-x\"\ncomms = \"ollama/small\"\n",
        )
        .unwrap();
        let env = Env::from_pairs([("SENTINEL_COMMS_MODEL", "groq/fast")]);
        let c = Config::load(&env, Some(&file)).unwrap();
        let m = &c.models;
        assert_eq!(
            m.for_role(AgentRole::Triage).to_string(),
            "builtin/sentinel-engine"
        );
        assert_eq!(
            m.for_role(AgentRole::LogAnalyst).to_string(),
            "ollama/llama3"
        );
        assert_eq!(
            m.for_role(AgentRole::Remediation).to_string(),
            "anthropic/claude-x"
        );
        assert_eq!(m.for_role(AgentRole::Comms).to_string(), "groq/fast");
        std::fs::write(&file, "[models]\nremediation = \"gpt-4o\"\n").unwrap();
        let e = Config::load(&Env::default(), Some(&file))
            .unwrap_err()
            .to_string();
        assert!(e.contains("models.remediation"), "{e}");
        let e = Config::load(
            &Env::from_pairs([("SENTINEL_REMEDIATION_MODEL", "x")]),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("SENTINEL_REMEDIATION_MODEL"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn eval_suites_are_named_and_default_to_the_scenarios_directory() {
        let p = Path::new("sentinel.toml");
        let mut c = Config::defaults("/tmp/x");
        assert_eq!(
            c.eval_suites(),
            [("public".to_string(), PathBuf::from("data/scenarios"))]
        );
        c.file = FileConfig::parse(
            p,
            "[eval]\nconcurrency = 3\n[eval.suites]\nregression = \"r\"\npublic = \"p\"\n",
        )
        .unwrap();
        assert_eq!(c.file.eval.concurrency, Some(3));
        let names: Vec<String> = c.eval_suites().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["public", "regression"]);
        for (text, key) in [
            (
                "[eval.suites]\n\"bad name\" = \"d\"\n",
                "eval.suites.bad name",
            ),
            ("[eval.suites]\nempty = \"\"\n", "eval.suites.empty"),
            ("[eval.suites]\n\"a=b\" = \"d\"\n", "eval.suites.a=b"),
            ("[eval.suites]\n\" a\" = \"d\"\n", "eval.suites. a"),
            ("[eval]\nconcurrency = 0\n", "eval.concurrency"),
            ("[eval]\nsuite = {}\n", "unknown field `suite`"),
        ] {
            let e = FileConfig::parse(p, text).unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn the_file_has_the_contract_keys_and_refuses_unknown_ones() {
        let p = Path::new("sentinel.toml");
        let good = r#"
[metrics]
kind = "prometheus"
url = "http://127.0.0.1:9090"

[logs]
kind = "files"
paths = ["/var/log/fleet/*.log"]

[[changes.git]]
service = "payment-service"
repo = "/srv/git/payment-service"

[services.payment-service]
metrics_selector = '{service="payment-service"}'

[[operators]]
name = "alice"
token = "alice-token-0123456789"
role = "responder"
slack_user = "U0ALICE"

[notify.slack]
webhook_url = "https://hooks.slack.com/services/T/B/x"
signing_secret = "s3cr3t"

[notify.webhook]
url = "https://example.internal/sentinel-events"
secret = "whsec"
"#;
        let c = FileConfig::parse(p, good).unwrap();
        assert_eq!(c.metrics.as_ref().unwrap().kind, MetricsKind::Prometheus);
        assert_eq!(
            c.services["payment-service"].metrics_selector.as_deref(),
            Some("{service=\"payment-service\"}")
        );
        assert_eq!(c.operators[0].role, OperatorRole::Responder);
        let shown = format!("{c:?} {:?}", c.summary());
        for secret in ["alice-token-0123456789", "s3cr3t", "whsec", "T/B/x"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        for (text, key) in [
            (
                "[metrics]\nkind = \"prometheus\"\nurl = \"http://x:9090\"\nurll = 1\n",
                "metrics",
            ),
            ("[logs]\nkind = \"files\"\n", "logs.paths"),
            ("[logs]\nkind = \"graylog\"\n", "logs.kind"),
            (
                "[[operators]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\nrole = \"god\"\n",
                "operators[0].role",
            ),
            (
                "[metrics]\nkind = \"prometheus\"\nurl = \"localhost:9090\"\n",
                "metrics.url",
            ),
            ("[nope]\n", "nope: unknown field"),
            (
                "[prices.\"openai/gpt-4o\"]\ninput_per_mtok = -1.0\noutput_per_mtok = 10.0\n",
                "prices.openai/gpt-4o",
            ),
            (
                "[prices.\"openai/gpt-4o\"]\ninput_per_mtok = 1.0\noutput = 10.0\n",
                "unknown field",
            ),
            (
                "[context_windows]\n\"openai-compatible/gemma\" = 512\n",
                "context_windows.openai-compatible/gemma",
            ),
            (
                "[notify.slack]\nbot_token = \"xoxb-1\"\n",
                "notify.slack.channel",
            ),
            (
                "[notify.webhook]\nurl = \"http://x\"\nevents = [\"incident.exploded\"]\n",
                "notify.webhook.events[0]",
            ),
            ("[notify.pagerduty]\n", "notify.pagerduty.routing_key"),
            (
                "[[operators]]\nname = \"operator (api token)\"\ntoken = \"0123456789abcdef\"\nrole = \"admin\"\n",
                "operators[0].name",
            ),
            (
                "[[operators]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\nrole = \"admin\"\n[[operators]]\nname = \" a \"\ntoken = \"0123456789abcdeg\"\nrole = \"viewer\"\n",
                "operators[1].name",
            ),
            (
                "[[operators]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\nrole = \"admin\"\n[[operators]]\nname = \"b\"\ntoken = \"0123456789abcdef\"\nrole = \"viewer\"\n",
                "operators[1].token",
            ),
            (
                "[[operators]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\nrole = \"admin\"\nslack_user = \"U1\"\n[[operators]]\nname = \"b\"\ntoken = \"0123456789abcdeg\"\nrole = \"viewer\"\nslack_user = \"U1\"\n",
                "operators[1].slack_user",
            ),
            (
                "[notify.email]\nsmtp_host = \"h\"\nfrom = \"s@b.c\"\nto = [\"a@b.c\"]\ntls = \"none\"\nusername = \"u\"\npassword = \"p\"\n",
                "notify.email.tls",
            ),
            (
                "[notify.email]\nsmtp_host = \"localhost\"\nfrom = \"not an address\"\nto = [\"a@b.c\"]\n",
                "notify.email.from",
            ),
            (
                "[notify.email]\nsmtp_host = \"localhost\"\nfrom = \"s@b.c\"\nto = []\n",
                "notify.email.to",
            ),
            (
                "[notify.email]\nsmtp_host = \"h\"\nfrom = \"s@b.c\"\nto = [\"a@b.c\"]\ntls = \"maybe\"\n",
                "notify.email.tls",
            ),
        ] {
            let e = FileConfig::parse(p, text).unwrap_err().to_string();
            assert!(e.contains(key), "{text:?}: {e}");
            assert!(e.starts_with("sentinel.toml"), "{e}");
        }
        assert!(
            FileConfig::parse(p, "[metrics\n")
                .unwrap_err()
                .to_string()
                .starts_with("sentinel.toml")
        );
    }
}
