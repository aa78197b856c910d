//! `POST /webhooks/pagerduty`: PagerDuty V3 webhook subscriptions.
//!
//! Each delivery carries one `event` (`incident.triggered`, `incident.acknowledged`,
//! `incident.resolved`, …) about one incident in `event.data`. Deliveries are signed:
//! `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>`, several comma-separated
//! signatures while a secret rotates; any match (constant-time) is accepted. Events that are
//! not about an incident's life (annotations, pings, …) are accepted and ignored.

use super::{AlertState, IngestError, NormalisedAlert, parse_time, service_slug};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sentinel_model::{Alert, AlertSeverity};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

pub const SIGNATURE_HEADER: &str = "x-pagerduty-signature";

#[derive(Debug, Clone, Deserialize)]
pub struct Payload {
    pub event: Event,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub id: Option<String>,
    pub event_type: String,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// The incident for `incident.*` events; other resources have other shapes.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Incident {
    pub id: String,
    #[serde(default)]
    pub number: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub incident_key: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub urgency: Option<String>,
    #[serde(default)]
    pub service: Option<Reference>,
    #[serde(default)]
    pub priority: Option<Reference>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-PagerDuty-Signature")]
    Missing,
    #[error("bad PagerDuty signature")]
    Bad,
}

/// Checks `X-PagerDuty-Signature` against the raw body.
pub fn verify_signature(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(SignatureError::Missing)?;
    if signature_matches(secret, header, body) {
        Ok(())
    } else {
        Err(SignatureError::Bad)
    }
}

/// True when any `v1=<hex>` entry of the header is the HMAC-SHA256 of `body` under `secret`.
pub fn signature_matches(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    let mut ok = subtle::Choice::from(0u8);
    for sig in header.split(',') {
        let Some(hex_sig) = sig.trim().strip_prefix("v1=") else {
            continue;
        };
        if let Ok(bytes) = hex::decode(hex_sig.trim())
            && bytes.len() == expected.len()
        {
            ok |= bytes.as_slice().ct_eq(expected.as_slice());
        }
    }
    ok.into()
}

/// The signature header PagerDuty would send for `body` (tests and the benchmark).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Normalises a parsed delivery: zero alerts for events that are not an incident's life.
pub fn normalise_payload(p: &Payload) -> Result<Vec<NormalisedAlert>, IngestError> {
    let e = &p.event;
    let state = match e.event_type.as_str() {
        "incident.triggered" | "incident.reopened" | "incident.unacknowledged" => {
            AlertState::Firing
        }
        "incident.acknowledged" => AlertState::Acknowledged,
        "incident.resolved" => AlertState::Resolved,
        _ => return Ok(Vec::new()),
    };
    let data = e
        .data
        .clone()
        .filter(|d| !d.is_null())
        .ok_or_else(|| IngestError::field("event.data", "missing for an incident event"))?;
    let d: Incident = serde_path_to_error::deserialize(data).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        if path == "." {
            IngestError::field("event.data", inner)
        } else {
            IngestError::field(format!("event.data.{path}"), inner)
        }
    })?;
    let d = &d;
    if d.id.trim().is_empty() {
        return Err(IngestError::field("event.data.id", "must not be empty"));
    }
    let occurred = parse_time("event.occurred_at", e.occurred_at.as_deref())?;
    let created = parse_time("event.data.created_at", d.created_at.as_deref())?;
    let service_name = d.service.as_ref().and_then(|s| s.summary.as_deref());
    let priority = d.priority.as_ref().and_then(|p| p.summary.as_deref());
    let severity = priority
        .and_then(|p| AlertSeverity::parse(p).ok())
        .unwrap_or(match d.urgency.as_deref() {
            Some("high") => AlertSeverity::High,
            Some("low") => AlertSeverity::Low,
            _ => AlertSeverity::Warning,
        });
    let mut labels = BTreeMap::new();
    labels.insert("pagerduty_incident_id".into(), d.id.clone());
    if let Some(k) = &d.incident_key {
        labels.insert("incident_key".into(), k.clone());
    }
    if let Some(n) = d.number {
        labels.insert("incident_number".into(), n.to_string());
    }
    if let Some(s) = d.service.as_ref().and_then(|s| s.id.clone()) {
        labels.insert("pagerduty_service_id".into(), s);
    }
    if let Some(u) = &d.urgency {
        labels.insert("urgency".into(), u.clone());
    }
    let mut annotations = BTreeMap::new();
    if let Some(t) = &d.title {
        annotations.insert("summary".into(), t.clone());
    }
    if let Some(u) = &d.html_url {
        annotations.insert("url".into(), u.clone());
    }
    if let Some(id) = &e.id {
        annotations.insert("event_id".into(), id.clone());
    }
    annotations.insert("event_type".into(), e.event_type.clone());
    Ok(vec![NormalisedAlert {
        alert: Alert {
            source: "pagerduty".into(),
            service: service_name
                .map(service_slug)
                .unwrap_or_else(super::unknown_service),
            metric: "pagerduty_incident".into(),
            threshold: 0.0,
            current_value: 0.0,
            severity,
            labels,
            annotations,
            fired_at: created.or(occurred),
        },
        fingerprint: format!("pagerduty:{}", d.id),
        state,
        ended_at: (state == AlertState::Resolved)
            .then_some(occurred)
            .flatten(),
    }])
}

/// The id and time of a delivery, for the replay guard: an id seen before, or a time outside
/// the freshness window, is a replay.
pub fn delivery_stamp(
    body: &[u8],
) -> Result<(Option<String>, Option<chrono::DateTime<chrono::Utc>>), IngestError> {
    let p: Payload = super::parse_json(body)?;
    let occurred = parse_time("event.occurred_at", p.event.occurred_at.as_deref())?;
    Ok((p.event.id.filter(|i| !i.trim().is_empty()), occurred))
}

/// Parses and normalises a PagerDuty V3 body (the signature is checked before).
pub fn normalise(body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError> {
    normalise_payload(&super::parse_json(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::test_fixture as fixture;

    #[test]
    fn triggered_and_resolved() {
        let t = normalise(&fixture("pagerduty_triggered.json")).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].state, AlertState::Firing);
        assert_eq!(t[0].fingerprint, "pagerduty:Q1R2DLCB21K7NP");
        assert_eq!(t[0].alert.service.as_str(), "payment-service");
        assert_eq!(t[0].alert.severity, AlertSeverity::Critical);
        assert!(t[0].alert.annotations["summary"].contains("5xx"));
        let r = normalise(&fixture("pagerduty_resolved.json")).unwrap();
        assert_eq!(r[0].state, AlertState::Resolved);
        assert_eq!(r[0].fingerprint, t[0].fingerprint);
        assert!(r[0].ended_at.is_some());
        let a = normalise(&fixture("pagerduty_acknowledged.json")).unwrap();
        assert_eq!(a[0].state, AlertState::Acknowledged);
    }

    #[test]
    fn other_events_are_ignored_and_missing_data_named() {
        let ping = br#"{"event":{"id":"x","event_type":"pagey.ping","resource_type":"pagey","occurred_at":null,"data":null}}"#;
        assert!(normalise(ping).unwrap().is_empty());
        let e = normalise(br#"{"event":{"event_type":"incident.triggered"}}"#).unwrap_err();
        assert!(e.to_string().starts_with("event.data"), "{e}");
        let e = normalise(br#"{"event":{}}"#).unwrap_err();
        assert!(e.to_string().contains("event_type"), "{e}");
    }

    #[test]
    fn signatures() {
        let body = fixture("pagerduty_triggered.json");
        let good = sign("whsec", &body);
        assert!(signature_matches("whsec", &good, &body));
        assert!(signature_matches(
            "whsec",
            &format!("v1=deadbeef,{good}"),
            &body
        ));
        assert!(!signature_matches("other", &good, &body));
        assert!(!signature_matches("whsec", "v1=zz", &body));
        assert!(!signature_matches("whsec", &good, b"tampered"));
        assert!(!signature_matches("whsec", "", &body));
    }
}
