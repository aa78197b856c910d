//! `POST /webhooks/datadog`: Datadog monitor notifications through the Webhooks integration.
//!
//! Datadog's webhook body is a user-defined template of `$VARIABLES`; the README gives the
//! template Sentinel expects (`alert_id` = `$ALERT_ID`, `alert_transition`, `alert_scope`,
//! `tags`, …). Dedup is by monitor id + group (scope); `Recovered` is a resolve. Datadog sends
//! every variable as a string, ids included, so numbers are accepted either way.

use super::{
    AlertState, IngestError, NormalisedAlert, parse_number, service_slug, unknown_service,
};
use chrono::{DateTime, Utc};
use sentinel_model::{Alert, AlertSeverity};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A string, or a number Datadog rendered without quotes.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Loose {
    Str(String),
    Num(serde_json::Number),
}

impl Loose {
    fn text(&self) -> String {
        match self {
            Loose::Str(s) => s.trim().to_string(),
            Loose::Num(n) => n.to_string(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Payload {
    /// `$ALERT_ID`: the monitor id.
    pub alert_id: Loose,
    /// `$ALERT_TRANSITION`: Triggered, Re-Triggered, Warn, Recovered, No Data, Renotify…
    pub alert_transition: String,
    #[serde(default)]
    pub id: Option<Loose>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub alert_type: Option<String>,
    #[serde(default)]
    pub alert_priority: Option<String>,
    #[serde(default)]
    pub alert_metric: Option<String>,
    #[serde(default)]
    pub alert_query: Option<String>,
    #[serde(default)]
    pub alert_scope: Option<String>,
    #[serde(default)]
    pub alert_status: Option<String>,
    #[serde(default)]
    pub alert_value: Option<String>,
    #[serde(default)]
    pub alert_threshold: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    /// `$DATE` / `$LAST_UPDATED`: epoch milliseconds.
    #[serde(default)]
    pub date: Option<Loose>,
    #[serde(default)]
    pub last_updated: Option<Loose>,
}

fn epoch_ms(v: Option<&Loose>) -> Option<DateTime<Utc>> {
    let ms: i64 = v?.text().parse().ok()?;
    DateTime::from_timestamp_millis(ms)
}

/// Normalises a parsed Datadog monitor notification.
pub fn normalise_payload(p: &Payload) -> Result<Vec<NormalisedAlert>, IngestError> {
    let monitor = p.alert_id.text();
    if monitor.is_empty() {
        return Err(IngestError::field("alert_id", "must not be empty"));
    }
    let transition = p.alert_transition.trim().to_ascii_lowercase();
    let state = match transition.as_str() {
        "recovered" | "success" | "resolved" => AlertState::Resolved,
        "" => {
            return Err(IngestError::field("alert_transition", "must not be empty"));
        }
        _ => AlertState::Firing,
    };
    // Tags "env:prod,service:payment-service" and the scope "host:a,service:b" as labels.
    let mut labels = BTreeMap::new();
    let split = |s: &str| -> Vec<(String, String)> {
        s.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| match t.split_once(':') {
                Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
                None => (t.to_string(), String::new()),
            })
            .collect()
    };
    for (k, v) in split(p.tags.as_deref().unwrap_or_default()) {
        labels.insert(k, v);
    }
    let mut scope: Vec<(String, String)> = split(p.alert_scope.as_deref().unwrap_or_default());
    scope.sort();
    for (k, v) in &scope {
        labels.insert(k.clone(), v.clone());
    }
    let group = scope
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}:{v}")
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    labels.insert("monitor_id".into(), monitor.clone());
    let service = labels
        .get("service")
        .filter(|v| !v.is_empty())
        .map(|v| service_slug(v))
        .or_else(|| {
            p.hostname
                .as_deref()
                .filter(|h| !h.trim().is_empty())
                .map(service_slug)
        })
        .unwrap_or_else(unknown_service);
    let severity = p
        .alert_priority
        .as_deref()
        .and_then(|x| AlertSeverity::parse(x).ok())
        .unwrap_or(match p.alert_type.as_deref() {
            Some("error") => AlertSeverity::High,
            Some("warning") => AlertSeverity::Warning,
            Some("info") | Some("success") => AlertSeverity::Info,
            _ => AlertSeverity::Warning,
        });
    let mut annotations = BTreeMap::new();
    for (k, v) in [
        ("summary", &p.title),
        ("description", &p.body),
        ("query", &p.alert_query),
        ("url", &p.link),
        ("status", &p.alert_status),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            annotations.insert(k.to_string(), v.clone());
        }
    }
    annotations.insert("transition".into(), p.alert_transition.clone());
    let when = epoch_ms(p.date.as_ref()).or_else(|| epoch_ms(p.last_updated.as_ref()));
    Ok(vec![NormalisedAlert {
        alert: Alert {
            source: "datadog".into(),
            service,
            metric: p
                .alert_metric
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "datadog_monitor".into()),
            threshold: parse_number(p.alert_threshold.as_ref()).unwrap_or(0.0),
            current_value: parse_number(p.alert_value.as_ref()).unwrap_or(0.0),
            severity,
            labels,
            annotations,
            fired_at: when,
        },
        fingerprint: format!("datadog:{monitor}:{group}"),
        state,
        ended_at: (state == AlertState::Resolved).then_some(when).flatten(),
    }])
}

/// Parses and normalises a Datadog webhook body.
pub fn normalise(body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError> {
    normalise_payload(&super::parse_json(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::test_fixture as fixture;

    #[test]
    fn triggered_and_recovered() {
        let t = normalise(&fixture("datadog_triggered.json")).unwrap();
        assert_eq!(t.len(), 1);
        let a = &t[0];
        assert_eq!(a.state, AlertState::Firing);
        assert_eq!(a.alert.service.as_str(), "payment-service");
        assert_eq!(a.alert.severity, AlertSeverity::High);
        assert_eq!(a.alert.metric, "trace.http.request.errors");
        assert_eq!(
            a.fingerprint,
            "datadog:84215523:env:prod,host:i-0a1b2c3d,service:payment-service"
        );
        assert!(a.alert.fired_at.is_some());
        let r = normalise(&fixture("datadog_recovered.json")).unwrap();
        assert_eq!(r[0].state, AlertState::Resolved);
        assert_eq!(r[0].fingerprint, a.fingerprint, "same monitor + group");
    }

    #[test]
    fn numeric_ids_and_missing_fields() {
        let body = br#"{"alert_id": 42, "alert_transition": "Triggered"}"#;
        let out = normalise(body).unwrap();
        assert_eq!(out[0].fingerprint, "datadog:42:");
        assert_eq!(out[0].alert.service.as_str(), "unknown");
        let e = normalise(br#"{"alert_transition": "Triggered"}"#).unwrap_err();
        assert!(e.to_string().starts_with("alert_id"), "{e}");
        let e = normalise(br#"{"alert_id": "1"}"#).unwrap_err();
        assert!(e.to_string().starts_with("alert_transition"), "{e}");
    }
}
