//! `POST /webhooks/alert`: the seed's generic alert JSON (the scenario `alert` object).
//!
//! It goes through the same pipeline as the native sources: persisted before the 202,
//! deduplicated by a hash of source, service, metric and sorted labels, investigated through
//! the bounded queue. Authenticated like the other webhooks: the token when
//! `SENTINEL_WEBHOOK_TOKEN` is set, otherwise loopback callers only.

use super::{AlertState, NormalisedAlert, labels_fingerprint};
use crate::http::{ApiError, AppState};
use crate::scenario::ScenarioAlert;
use app::model::{Alert, AlertSeverity, ServiceName};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};

pub fn normalise(a: ScenarioAlert) -> Result<Alert, ApiError> {
    let bad = |e: app::model::FieldError| ApiError::Unprocessable(e.to_string());
    if !a.threshold.is_finite() || !a.current_value.is_finite() {
        return Err(ApiError::Unprocessable(
            "threshold/current_value: must be finite numbers".into(),
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

pub async fn receive(State(s): State<AppState>, req: Request) -> Response {
    match receive_inner(&s, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn receive_inner(s: &AppState, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    super::check_sender(s, &parts.headers)?;
    // The same rule as every other webhook: the token when one is set, else loopback only.
    super::check_token(
        s.ingest.config.webhook_token.as_deref(),
        &parts.headers,
        super::peer(&parts),
    )?;
    super::check_json_type(&parts.headers)?;
    let body = super::read_body(s, body).await?;
    let raw: ScenarioAlert = super::parse_json(&body).map_err(ApiError::from)?;
    let alert = normalise(raw)?;
    let na = NormalisedAlert {
        fingerprint: fingerprint(&alert),
        alert,
        state: AlertState::Firing,
        ended_at: None,
    };
    super::accept(s, "generic", vec![na]).await
}
