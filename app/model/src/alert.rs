//! Alerts as Sentinel sees them after ingestion, whatever the source.

use super::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Severity as the alerting system reported it (before triage turns it into a priority).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    Critical,
    High,
    Warning,
    Low,
    Info,
}

impl AlertSeverity {
    /// Accepts the contract's names and the usual aliases of alerting tools.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" | "page" | "p1" | "sev1" | "fatal" | "emergency" => {
                Ok(Self::Critical)
            }
            "high" | "error" | "major" | "p2" | "sev2" => Ok(Self::High),
            "warning" | "warn" | "medium" | "minor" | "p3" | "sev3" => Ok(Self::Warning),
            "low" | "p4" | "sev4" => Ok(Self::Low),
            "info" | "informational" | "none" | "p5" => Ok(Self::Info),
            other => Err(FieldError::new(
                "alert.severity",
                format!(
                    "unknown severity {other:?} (expected critical, high, warning, low or info)"
                ),
            )),
        }
    }

    /// 1 (most urgent) ..= 4, the base of the triage priority.
    pub fn urgency(self) -> u8 {
        match self {
            Self::Critical => 1,
            Self::High => 2,
            Self::Warning => 3,
            Self::Low | Self::Info => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Warning => "warning",
            Self::Low => "low",
            Self::Info => "info",
        }
    }
}

impl fmt::Display for AlertSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Incident priority decided by triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "P1" => Ok(Self::P1),
            "P2" => Ok(Self::P2),
            "P3" => Ok(Self::P3),
            "P4" => Ok(Self::P4),
            other => Err(FieldError::new(
                "severity",
                format!("{other:?} is not one of P1, P2, P3, P4"),
            )),
        }
    }

    /// From an urgency level 1..=4 (clamped).
    pub fn from_level(level: i32) -> Self {
        match level {
            i32::MIN..=1 => Self::P1,
            2 => Self::P2,
            3 => Self::P3,
            _ => Self::P4,
        }
    }

    pub fn level(self) -> i32 {
        match self {
            Self::P1 => 1,
            Self::P2 => 2,
            Self::P3 => 3,
            Self::P4 => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::P1 => "P1",
            Self::P2 => "P2",
            Self::P3 => "P3",
            Self::P4 => "P4",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A service name: lowercase letters, digits, `-`, `_` and `.`, 1..=100 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new("service", "must not be empty"));
        }
        if s.len() > 100 {
            return Err(FieldError::new("service", "longer than 100 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        {
            return Err(FieldError::new(
                "service",
                format!("{s:?} may contain only letters, digits, '-', '_', '.' and '/'"),
            ));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ServiceName {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ServiceName> for String {
    fn from(value: ServiceName) -> Self {
        value.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A normalised alert, whatever system sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub source: String,
    pub service: ServiceName,
    pub metric: String,
    pub threshold: f64,
    pub current_value: f64,
    pub severity: AlertSeverity,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub fired_at: Option<DateTime<Utc>>,
}

impl Alert {
    /// How far past its threshold the metric is (1.0 = at threshold). Handles "lower is worse"
    /// thresholds (e.g. availability) by inverting the ratio.
    pub fn breach_ratio(&self) -> f64 {
        if self.threshold == 0.0 || !self.threshold.is_finite() || !self.current_value.is_finite() {
            return 1.0;
        }
        let r = self.current_value / self.threshold;
        if r > 0.0 && r < 1.0 && self.metric.contains("availability") {
            1.0 / r
        } else {
            r.abs()
        }
    }

    /// One-line human description.
    pub fn headline(&self) -> String {
        format!(
            "{} {} on {}: {} (threshold {})",
            self.severity, self.metric, self.service, self.current_value, self.threshold
        )
    }
}
