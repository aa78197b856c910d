//! Telemetry records, in the scenario file's shape.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sentinel_model::ChangeKind;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum LogLevel {
    #[serde(alias = "debug", alias = "TRACE", alias = "trace")]
    DEBUG,
    #[serde(alias = "info", alias = "NOTICE", alias = "notice")]
    INFO,
    #[serde(alias = "WARN", alias = "warn", alias = "warning")]
    WARNING,
    #[serde(alias = "error", alias = "ERR", alias = "err")]
    ERROR,
    #[serde(
        alias = "critical",
        alias = "FATAL",
        alias = "fatal",
        alias = "CRIT",
        alias = "EMERGENCY",
        alias = "ALERT"
    )]
    CRITICAL,
}

impl LogLevel {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "DEBUG" | "TRACE" => Some(Self::DEBUG),
            "INFO" | "NOTICE" => Some(Self::INFO),
            "WARNING" | "WARN" => Some(Self::WARNING),
            "ERROR" | "ERR" => Some(Self::ERROR),
            "CRITICAL" | "FATAL" | "CRIT" | "EMERGENCY" | "ALERT" => Some(Self::CRITICAL),
            _ => None,
        }
    }

    pub fn is_error(self) -> bool {
        self >= Self::ERROR
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogEntry {
    pub ts: DateTime<Utc>,
    pub level: LogLevel,
    pub service: String,
    pub message: String,
    #[serde(default)]
    pub trace_id: Option<String>,
}

/// `files_changed` is a count in the seed format; richer sources list the paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FilesChanged {
    Count(u64),
    List(Vec<String>),
}

impl FilesChanged {
    pub fn count(&self) -> u64 {
        match self {
            Self::Count(n) => *n,
            Self::List(v) => v.len() as u64,
        }
    }
    pub fn paths(&self) -> &[String] {
        match self {
            Self::Count(_) => &[],
            Self::List(v) => v,
        }
    }
}

impl Default for FilesChanged {
    fn default() -> Self {
        Self::Count(0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deploy {
    pub id: String,
    pub service: String,
    pub ts: DateTime<Utc>,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub files_changed: FilesChanged,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub id: String,
    #[schemars(with = "String")]
    pub kind: ChangeKind,
    pub service: String,
    pub ts: DateTime<Utc>,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSample {
    pub ts: DateTime<Utc>,
    pub service: String,
    pub metric: String,
    pub value: f64,
}
