//! REST handlers (CONTRACTS.md §5). Thin: validate, call the service, map errors.

use super::{
    AppState,
    error::{ApiError, parse_json},
};
use crate::store::IncidentFilter;
use app::model::*;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

pub async fn health(State(s): State<AppState>) -> impl IntoResponse {
    match s.sentinel.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                serde_json::json!({ "status": "database unavailable", "error": "database unavailable" }),
            ),
        ),
    }
}

pub async fn list_scenarios(
    State(s): State<AppState>,
) -> Result<Json<Vec<ScenarioSummary>>, ApiError> {
    Ok(Json(
        s.sentinel
            .scenarios()?
            .iter()
            .map(|s| s.summary())
            .collect(),
    ))
}

/// Firing a scenario opens an incident and runs agents: an operator act.
pub async fn fire_scenario(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let who = s.auth.operator(&headers, "firing a scenario").await?;
    let incident_id = s.sentinel.fire_scenario(&id, &who).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "incident_id": incident_id })),
    ))
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    service: Option<String>,
    limit: Option<i64>,
}

pub async fn list_incidents(
    State(s): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<IncidentSummary>>, ApiError> {
    let status = match q.status.as_deref().filter(|x| !x.is_empty()) {
        Some(x) => Some(IncidentStatus::parse(x).map_err(|e| ApiError::BadRequest(e.to_string()))?),
        None => None,
    };
    let f = IncidentFilter {
        status,
        service: q.service.filter(|x| !x.is_empty()),
        limit: q.limit,
    };
    Ok(Json(
        s.sentinel
            .store
            .list_incidents(&f)
            .await?
            .iter()
            .map(|r| r.summary())
            .collect(),
    ))
}

pub async fn get_incident(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let d = s
        .sentinel
        .incident_detail(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))?;
    let mut v = serde_json::to_value(&d.report).map_err(|e| ApiError::Internal(e.to_string()))?;
    v["service"] = serde_json::json!(d.summary.service);
    v["severity"] = serde_json::json!(d.summary.severity);
    v["title"] = serde_json::json!(d.summary.title);
    v["alert"] = serde_json::to_value(&d.alert).unwrap_or_default();
    v["alert_count"] = serde_json::json!(d.summary.alert_count);
    v["created_at"] = serde_json::json!(d.summary.created_at);
    v["pending_approval"] = serde_json::to_value(&d.pending_approval).unwrap_or_default();
    Ok(Json(v))
}

#[derive(serde::Deserialize)]
pub struct DecisionBody {
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn decide(
    State(s): State<AppState>,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<impl IntoResponse, ApiError> {
    // Who is asking, before a byte of the body is read.
    let (parts, body) = req.into_parts();
    let who = s
        .auth
        .operator(&parts.headers, "deciding an approval")
        .await?;
    let body = super::guard::read_body(&s, body).await?;
    let b: DecisionBody = parse_json(&body)?;
    let d = ApprovalDecision::parse(&b.decision, &b.comment, &who)
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    // An unknown incident is the service's NotFound (404).
    s.sentinel.decide(&id, d).await?;
    let rec = s
        .sentinel
        .store
        .get_incident(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))?;
    Ok(Json(
        serde_json::json!({ "incident_id": id, "status": rec.status, "decided_by": who }),
    ))
}

/// `GET /api/incidents/:id/postmortem`: the postmortem draft as Markdown.
pub async fn postmortem(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let text = crate::service::postmortem_draft(&s.sentinel.store, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "inline; filename=\"postmortem-{}.md\"",
                    id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
                ),
            ),
        ],
        text,
    ))
}

pub async fn eval_report(State(s): State<AppState>) -> Result<Json<EvalReport>, ApiError> {
    let runs = s.sentinel.store.eval_runs(1).await?;
    runs.into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no evaluation has been run yet (sentinel eval)".into()))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EvalBody {
    #[serde(default)]
    suites: Vec<String>,
}

/// `POST /api/evals` `{"suites": ["public", …]}` (empty or no body: every configured suite):
/// starts an evaluation in the background (202 with its progress; 409 while one runs). It
/// runs agents on every scenario: an operator act.
pub async fn start_eval(
    State(s): State<AppState>,
    req: axum::extract::Request,
) -> Result<impl IntoResponse, ApiError> {
    let (parts, body) = req.into_parts();
    let who = s
        .auth
        .operator(&parts.headers, "starting an evaluation")
        .await?;
    let body = super::guard::read_body(&s, body).await?;
    let b: EvalBody = if body.iter().all(u8::is_ascii_whitespace) {
        EvalBody::default()
    } else {
        parse_json(&body)?
    };
    let progress = s.sentinel.start_eval(b.suites, &who)?;
    Ok((StatusCode::ACCEPTED, Json(progress)))
}

/// `GET /api/evals/current`: the configured suites and the evaluation running or run last by
/// this server (`current: null` before the first).
pub async fn eval_status(State(s): State<AppState>) -> Json<EvalStatus> {
    Json(s.sentinel.evals.status(&s.sentinel.config))
}

#[derive(serde::Deserialize)]
pub struct ChangesQuery {
    service: Option<String>,
    hours: Option<f64>,
    limit: Option<u32>,
}

/// `GET /api/changes?service=&hours=&limit=`: the change events CI/CD posted (deploys, flag
/// and config changes, pushed commits), oldest first — the changes list.
pub async fn list_changes(
    State(s): State<AppState>,
    Query(q): Query<ChangesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let hours = q.hours.unwrap_or(72.0);
    if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 90.0) {
        return Err(ApiError::BadRequest(
            "hours: must be a number of hours between 0 and 2160".into(),
        ));
    }
    let limit = q.limit.unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(ApiError::BadRequest("limit: must be 1..5000".into()));
    }
    let since = chrono::Utc::now() - chrono::Duration::milliseconds((hours * 3_600_000.0) as i64);
    let rows = s
        .sentinel
        .store
        .changes_since(q.service.as_deref(), since, limit)
        .await?;
    Ok(Json(serde_json::json!({
        "changes": rows.iter().map(|c| serde_json::json!({
            "id": c.id, "service": c.service, "kind": c.kind, "ts": c.ts, "author": c.author,
            "description": c.description, "commit": c.commit, "version": c.version,
            "files_changed": c.files_changed,
        })).collect::<Vec<_>>()
    })))
}
