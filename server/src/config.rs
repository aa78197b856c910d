//! Runtime configuration from the environment (and CLI flags), validated once at start.

use std::path::PathBuf;
use std::time::Duration;

/// The models each role uses, as `provider/model` strings.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub triage: String,
    pub analysis: String,
    pub judge: String,
}

impl ModelConfig {
    pub const DEFAULT_MODEL: &'static str = "builtin/sentinel-engine";

    pub fn from_env() -> Self {
        let get = |k: &str| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| Self::DEFAULT_MODEL.to_string())
        };
        Self {
            triage: get("SENTINEL_TRIAGE_MODEL"),
            analysis: get("SENTINEL_ANALYSIS_MODEL"),
            judge: get("SENTINEL_JUDGE_MODEL"),
        }
    }

    pub fn builtin() -> Self {
        Self {
            triage: Self::DEFAULT_MODEL.into(),
            analysis: Self::DEFAULT_MODEL.into(),
            judge: Self::DEFAULT_MODEL.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub scenarios_dir: PathBuf,
    pub services_dir: PathBuf,
    pub site_root: PathBuf,
    pub models: ModelConfig,
    pub tool_call_cap: u32,
    pub approval_timeout: Duration,
    pub operator_token: Option<String>,
    /// `SENTINEL_ALERT_RETENTION_DAYS` (default 30, 0 = keep forever): raw alerts of finished
    /// incidents older than this are pruned hourly by `sentinel serve`.
    pub alert_retention_days: u32,
    /// Bounds on what HTTP clients may hold (connections, timeouts, streams, body size).
    pub http: HttpLimits,
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
    pub fn from_env() -> Self {
        let d = Self::default();
        let secs = |k: &str, d: Duration| env_parse::<u64>(k).map(Duration::from_secs).unwrap_or(d);
        Self {
            max_connections: env_parse("SENTINEL_MAX_CONNECTIONS").unwrap_or(d.max_connections),
            max_connections_per_ip: env_parse("SENTINEL_MAX_CONNECTIONS_PER_IP")
                .unwrap_or(d.max_connections_per_ip),
            header_timeout: secs("SENTINEL_HEADER_TIMEOUT_SECS", d.header_timeout),
            body_timeout: secs("SENTINEL_BODY_TIMEOUT_SECS", d.body_timeout),
            idle_timeout: secs("SENTINEL_IDLE_TIMEOUT_SECS", d.idle_timeout),
            max_event_streams: env_parse("SENTINEL_MAX_EVENT_STREAMS")
                .unwrap_or(d.max_event_streams),
            event_replays: env_parse("SENTINEL_EVENT_REPLAYS").unwrap_or(d.event_replays),
            max_body_bytes: env_parse("SENTINEL_MAX_BODY_BYTES").unwrap_or(d.max_body_bytes),
            allowed_hosts: std::env::var("SENTINEL_ALLOWED_HOSTS")
                .ok()
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            signed_webhook_max_age: secs(
                "SENTINEL_SIGNED_WEBHOOK_MAX_AGE_SECS",
                d.signed_webhook_max_age,
            ),
        }
    }
}

impl Config {
    /// Reads `SENTINEL_*` variables; paths default to the repository layout (`data/…`).
    pub fn from_env() -> Self {
        let data_dir = env_path("SENTINEL_DATA_DIR").unwrap_or_else(|| PathBuf::from(".data"));
        let database_url = std::env::var("SENTINEL_DATABASE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("sentinel.db").display()));
        Self {
            database_url,
            scenarios_dir: env_path("SENTINEL_SCENARIOS_DIR")
                .unwrap_or_else(|| PathBuf::from("data/scenarios")),
            services_dir: env_path("SENTINEL_SERVICES_DIR")
                .unwrap_or_else(|| PathBuf::from("data/services")),
            site_root: env_path("LEPTOS_SITE_ROOT").unwrap_or_else(|| PathBuf::from("target/site")),
            models: ModelConfig::from_env(),
            tool_call_cap: env_parse("SENTINEL_TOOL_CALL_CAP").unwrap_or(15),
            approval_timeout: Duration::from_secs(
                env_parse("SENTINEL_APPROVAL_TIMEOUT_SECS").unwrap_or(15 * 60),
            ),
            operator_token: std::env::var("SENTINEL_OPERATOR_TOKEN")
                .ok()
                .filter(|t| !t.trim().is_empty()),
            alert_retention_days: env_parse("SENTINEL_ALERT_RETENTION_DAYS").unwrap_or(30),
            http: HttpLimits::from_env(),
            data_dir,
        }
    }
}

fn env_path(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn env_parse<T: std::str::FromStr>(key: &str) -> Option<T> {
    std::env::var(key).ok().and_then(|v| v.trim().parse().ok())
}
