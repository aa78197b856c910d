//! `POST /webhooks/alert`: the seed's generic alert JSON (the scenario `alert` object).

use crate::http::{ApiError, AppState};
use crate::scenario::ScenarioAlert;
use app::model::{Alert, AlertSeverity, ServiceName};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

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

pub async fn receive(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let raw: ScenarioAlert = crate::http::error_parse(&body)?;
    let alert = normalise(raw)?;
    let id = s.sentinel.open_incident(alert, None, None).await?;
    s.sentinel.spawn_run(id.clone(), None);
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "incident_id": id })),
    ))
}
