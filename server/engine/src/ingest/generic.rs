//! `POST /webhooks/alert`: the seed's generic alert JSON (the scenario `alert` object).
//!
//! It goes through the same pipeline as the native sources: persisted before the 202,
//! deduplicated by a hash of source, service, metric and sorted labels, investigated through
//! the bounded queue. Authenticated like the other webhooks (`http::webhooks`): the token
//! when `SENTINEL_WEBHOOK_TOKEN` is set, otherwise loopback callers only.

use super::{AlertState, IngestError, NormalisedAlert, labels_fingerprint};
use crate::scenario::ScenarioAlert;
use sentinel_model::{Alert, AlertSeverity, ServiceName};

pub fn normalise(a: ScenarioAlert) -> Result<Alert, IngestError> {
    let bad = |e: sentinel_model::FieldError| IngestError::field(e.field, e.message);
    if !a.threshold.is_finite() || !a.current_value.is_finite() {
        return Err(IngestError::field(
            "threshold/current_value",
            "must be finite numbers",
        ));
    }
    Ok(Alert {
        source: a.source,
        service: ServiceName::parse(&a.service).map_err(bad)?,
        metric: a.metric,
        threshold: a.threshold,
        current_value: a.current_value,
        severity: AlertSeverity::parse(&a.severity).map_err(bad)?,
        labels: a.labels,
        annotations: a.annotations,
        fired_at: a.fired_at,
    })
}

/// The dedup key of a generic alert.
pub fn fingerprint(a: &Alert) -> String {
    let mut key = a.labels.clone();
    key.insert("__source".into(), a.source.clone());
    key.insert("__service".into(), a.service.to_string());
    key.insert("__metric".into(), a.metric.clone());
    format!("generic:{}", labels_fingerprint(&key))
}

/// Parses and normalises a generic alert body (one alert, always firing).
pub fn normalise_body(body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError> {
    let raw: ScenarioAlert = super::parse_json(body)?;
    let alert = normalise(raw)?;
    Ok(vec![NormalisedAlert {
        fingerprint: fingerprint(&alert),
        alert,
        state: AlertState::Firing,
        ended_at: None,
    }])
}
