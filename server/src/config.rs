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
