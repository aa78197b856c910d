//! Alert ingestion: each source's native payload is verified, normalised into an [`Alert`]
//! and persisted before the caller gets its 202.
//!
//! This module holds what the sources share, with no HTTP in it: the normalised form
//! ([`NormalisedAlert`]), the field-naming errors ([`IngestError`]), the running pipeline
//! ([`Ingest`]: group-commit writer and investigation queue) and the helpers the normalisers
//! share. One file per source does the parsing (a pure `normalise`); [`writer`] does dedup
//! and persistence. The HTTP side — receive, verify, bound, accept — is `http::webhooks`.

pub mod alertmanager;
pub mod change;
pub mod cicd;
pub mod datadog;
pub mod generic;
pub mod grafana;
pub mod pagerduty;
pub mod writer;

use crate::queue::InvestigationQueue;
use crate::service::Sentinel;
use chrono::{DateTime, Datelike, Utc};
use sentinel_model::{Alert, AlertSeverity, ServiceName};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the source says about the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    Firing,
    Resolved,
    /// A human took it (PagerDuty); recorded, never opens an incident.
    Acknowledged,
    /// One alert of a group cleared while the group still fires (Alertmanager, Grafana);
    /// recorded on the group's incident, which stays open.
    Cleared,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
            Self::Acknowledged => "acknowledged",
            Self::Cleared => "cleared",
        }
    }
}

/// One alert after normalisation, whatever the source.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalisedAlert {
    pub alert: Alert,
    /// Dedup key, prefixed with the source (`alertmanager:<fp>`, `pagerduty:<id>`, …).
    pub fingerprint: String,
    pub state: AlertState,
    /// When the source says it ended (resolved notifications).
    pub ended_at: Option<DateTime<Utc>>,
}

/// Why a payload was refused: malformed JSON (400) or a missing/invalid field (422).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    #[error("malformed JSON: {0}")]
    Malformed(String),
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}

impl IngestError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Field {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses a JSON body; a missing or mistyped field is named with its path (`alerts[0].labels`).
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, IngestError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            IngestError::Malformed(inner.to_string())
        } else if path == "." {
            // "missing field `alerts`" already names the field.
            let msg = inner.to_string();
            let field = msg
                .split('`')
                .nth(1)
                .map(str::to_string)
                .unwrap_or_else(|| "body".into());
            IngestError::field(field, msg)
        } else {
            IngestError::field(path, inner.to_string())
        }
    })
}

pub use crate::config::IngestConfig;

/// The running ingestion pipeline shared by the webhook handlers.
pub struct Ingest {
    pub config: IngestConfig,
    pub writer: writer::Writer,
    pub queue: InvestigationQueue,
}

impl Ingest {
    /// Starts the investigation queue (its workers and re-drive sweep) and the writer task.
    pub fn start(sentinel: Sentinel, config: IngestConfig) -> Arc<Self> {
        let queue = InvestigationQueue::start(
            sentinel.clone(),
            config.queue_capacity,
            config.queue_workers,
        );
        let writer = writer::Writer::start(sentinel, queue.clone());
        Arc::new(Self {
            config,
            writer,
            queue,
        })
    }
}

// ---- helpers shared by the normalisers ----

/// A service name from free text: lowercased, other characters turned into `-`.
pub fn service_slug(raw: &str) -> ServiceName {
    let slug: String = raw
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-');
    let slug: String = slug.chars().take(100).collect();
    ServiceName::parse(&slug).unwrap_or_else(|_| unknown_service())
}

pub fn unknown_service() -> ServiceName {
    ServiceName::parse("unknown").expect("valid service name")
}

/// Severity from a label value; unknown or missing values are `warning` (never refused).
pub fn severity_or_warning(raw: Option<&str>) -> AlertSeverity {
    raw.and_then(|s| AlertSeverity::parse(s).ok())
        .unwrap_or(AlertSeverity::Warning)
}

/// Stable hash of a label set (sorted), for sources without a fingerprint.
pub fn labels_fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in labels {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0xff]);
    }
    hex::encode(&h.finalize()[..8])
}

/// RFC 3339 timestamp; Alertmanager's zero time (`0001-01-01T00:00:00Z`) means "not set".
pub fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, IngestError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let t = DateTime::parse_from_rfc3339(raw)
        .map_err(|e| IngestError::field(field, format!("not an RFC 3339 time ({raw:?}): {e}")))?
        .with_timezone(&Utc);
    Ok((t.year() > 1).then_some(t))
}

/// A number from an annotation such as `value: "0.42"` or `"12%"`.
pub fn parse_number(raw: Option<&String>) -> Option<f64> {
    let s = raw?.trim().trim_end_matches('%').trim();
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A recorded webhook payload from `tests/fixtures/webhooks/` (for the normalisers' tests).
#[cfg(test)]
pub(crate) fn test_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .join("tests/fixtures/webhooks")
            .join(name),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(service_slug("API Service").as_str(), "api-service");
        assert_eq!(service_slug("  ").as_str(), "unknown");
        assert_eq!(parse_time("t", Some("0001-01-01T00:00:00Z")).unwrap(), None);
        assert!(parse_time("t", Some("yesterday")).is_err());
        assert_eq!(parse_number(Some(&"12.5%".to_string())), Some(12.5));
        let mut a = BTreeMap::new();
        a.insert("b".to_string(), "2".to_string());
        a.insert("a".to_string(), "1".to_string());
        assert_eq!(labels_fingerprint(&a).len(), 16);
        let e = parse_json::<serde_json::Value>(b"{nope").unwrap_err();
        assert!(matches!(e, IngestError::Malformed(_)));
    }
}
