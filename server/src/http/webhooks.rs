//! The webhook routes: receive, verify, bound and accept alerts from each source. One
//! generic pipeline ([`receive`]) serves every source through the small [`WebhookSource`]
//! trait (name, verification, normaliser); the normalisers themselves are pure functions in
//! `ingest/<source>.rs`, and persistence is the ingestion writer (`ingest::writer`).
//!
//! Order of checks, cheapest and most telling first, before any body byte is read:
//! browser-origin refusal → token (or loopback) → JSON content type; then the body (bounded
//! in size and time) → signature → normalise → replay guard → group-commit writer → queue.

use super::{AppState, error::ApiError};
use crate::ingest::{
    IngestConfig, IngestError, NormalisedAlert, alertmanager, datadog, generic, grafana, pagerduty,
    writer,
};
use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Utc;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Malformed(_) => ApiError::BadRequest(e.to_string()),
            IngestError::Field { .. } => ApiError::Unprocessable(e.to_string()),
        }
    }
}

/// How a route authenticates its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// `Authorization: Bearer <token>` or basic auth with the token as password.
    Token,
    /// `X-PagerDuty-Signature` HMAC (or the token rule when no secret is configured).
    PagerDuty,
}

/// Constant-time string equality (through digests, so lengths leak nothing either).
pub fn secret_eq(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes())
        .ct_eq(&Sha256::digest(b.as_bytes()))
        .into()
}

/// The webhook-token rule: with a token configured every caller must present it (bearer, or
/// basic auth with it as password); without one, only loopback callers are accepted.
pub fn check_token(
    token: Option<&str>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<(), ApiError> {
    let Some(token) = token else {
        return if peer.is_some_and(|p| p.ip().is_loopback()) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized(
                "webhooks from other hosts need SENTINEL_WEBHOOK_TOKEN to be set on the server"
                    .into(),
            ))
        };
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            let rest = rest.trim();
            if scheme.eq_ignore_ascii_case("bearer") {
                Some(rest.to_string())
            } else if scheme.eq_ignore_ascii_case("basic") {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(rest)
                    .ok()?;
                let raw = String::from_utf8(raw).ok()?;
                raw.split_once(':').map(|(_, p)| p.to_string())
            } else {
                None
            }
        });
    match presented {
        Some(p) if secret_eq(&p, token) => Ok(()),
        Some(_) => Err(ApiError::Unauthorized("invalid webhook token".into())),
        None => Err(ApiError::Unauthorized(
            "missing webhook token: send Authorization: Bearer <SENTINEL_WEBHOOK_TOKEN>".into(),
        )),
    }
}

fn peer(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Refuses what a browser can send cross-site or after DNS rebinding, before any credential
/// or body is looked at: a request carrying `Origin` or a cross-site `Sec-Fetch-Site`
/// (alert senders are servers, never web pages), and — when loopback callers are trusted
/// (no webhook token, and not a signed source) — a `Host` that is not a loopback name or
/// listed in `SENTINEL_ALLOWED_HOSTS`. Non-JSON bodies are refused by [`check_json_type`] (a
/// cross-site form or `text/plain` POST needs no CORS preflight).
pub fn check_sender(s: &AppState, headers: &HeaderMap, signed: bool) -> Result<(), ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return Err(ApiError::Forbidden(format!(
            "webhooks do not accept browser requests (Origin: {})",
            origin
                .to_str()
                .unwrap_or("?")
                .chars()
                .take(100)
                .collect::<String>()
        )));
    }
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v != "none" && v != "same-origin")
    {
        return Err(ApiError::Forbidden(
            "webhooks do not accept cross-site browser requests".into(),
        ));
    }
    if s.ingest.config.webhook_token.is_none() && !signed {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !host_allowed(host, &s.sentinel.config.http.allowed_hosts) {
            return Err(ApiError::Forbidden(format!(
                "unknown Host {:?}: without SENTINEL_WEBHOOK_TOKEN only loopback names (or SENTINEL_ALLOWED_HOSTS) are accepted",
                host.chars().take(100).collect::<String>()
            )));
        }
    }
    Ok(())
}

/// The body must be declared JSON (`application/json`, `application/*+json`).
pub fn check_json_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMedia(format!(
            "Content-Type must be application/json (got {:?})",
            ct.chars().take(100).collect::<String>()
        )))
    }
}

/// A `Host` header naming this machine's loopback interface, or an allowed name.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default().to_string()
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map(|(h, _)| h.to_string())
            .unwrap_or(host.clone())
    };
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    allowed.iter().any(|a| *a == name || *a == host)
}

/// One alert source behind a webhook route: its name (the `alerts.source` column), how its
/// caller is verified, and its pure normaliser (in `ingest/<source>.rs`).
pub trait WebhookSource: Send + Sync + 'static {
    const NAME: &'static str;
    const VERIFY: Verify;
    fn normalise(cfg: &IngestConfig, body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError>;
}

pub struct Generic;
impl WebhookSource for Generic {
    const NAME: &'static str = "generic";
    const VERIFY: Verify = Verify::Token;
    fn normalise(_: &IngestConfig, body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError> {
        generic::normalise_body(body)
    }
}

pub struct Alertmanager;
impl WebhookSource for Alertmanager {
    const NAME: &'static str = "alertmanager";
    const VERIFY: Verify = Verify::Token;
    fn normalise(cfg: &IngestConfig, body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError> {
        alertmanager::normalise(body, &cfg.service_labels)
    }
}

pub struct Grafana;
impl WebhookSource for Grafana {
    const NAME: &'static str = "grafana";
    const VERIFY: Verify = Verify::Token;
    fn normalise(cfg: &IngestConfig, body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError> {
        grafana::normalise(body, &cfg.service_labels)
    }
}

pub struct Datadog;
impl WebhookSource for Datadog {
    const NAME: &'static str = "datadog";
    const VERIFY: Verify = Verify::Token;
    fn normalise(_: &IngestConfig, body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError> {
        datadog::normalise(body)
    }
}

pub struct PagerDuty;
impl WebhookSource for PagerDuty {
    const NAME: &'static str = "pagerduty";
    const VERIFY: Verify = Verify::PagerDuty;
    fn normalise(_: &IngestConfig, body: &[u8]) -> Result<Vec<NormalisedAlert>, IngestError> {
        pagerduty::normalise(body)
    }
}

/// The route handler of source `S`: the whole webhook pipeline.
pub async fn receive<S: WebhookSource>(State(s): State<AppState>, req: Request) -> Response {
    match handle::<S>(&s, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle<S: WebhookSource>(s: &AppState, req: Request) -> Result<Response, ApiError> {
    let cfg = &s.ingest.config;
    let (parts, body) = req.into_parts();
    let peer = peer(&parts);
    // A signed source is authenticated by its signature, not by where it comes from.
    let signed = S::VERIFY == Verify::PagerDuty && cfg.pagerduty_secret.is_some();
    check_sender(s, &parts.headers, signed)?;
    if !signed {
        check_token(cfg.webhook_token.as_deref(), &parts.headers, peer)?;
    }
    check_json_type(&parts.headers)?;
    let body = super::guard::read_body(s, body).await?;
    if signed && let Some(secret) = &cfg.pagerduty_secret {
        pagerduty::verify_signature(secret, &parts.headers, &body)
            .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    }
    let alerts = S::normalise(cfg, &body)?;
    let delivery = match S::VERIFY {
        Verify::PagerDuty => fresh_delivery(s, S::NAME, &body).await?,
        Verify::Token => None,
    };
    let out = accept(s, S::NAME, alerts).await;
    if out.is_err()
        && let Some(delivery) = delivery
    {
        // Not stored: the sender's retry of this delivery must get through.
        let _ = s.sentinel.store.forget_delivery(S::NAME, &delivery).await;
    }
    out
}

/// The replay guard of signed deliveries: `occurred_at` inside the freshness window, and an
/// `event.id` not seen before (recorded here). Returns the id to forget if storing fails; a
/// replay is refused with 409.
async fn fresh_delivery(
    s: &AppState,
    source: &'static str,
    body: &[u8],
) -> Result<Option<String>, ApiError> {
    let (id, occurred) = pagerduty::delivery_stamp(body)?;
    let max_age = s.sentinel.config.http.signed_webhook_max_age;
    if let Some(t) = occurred {
        let now = Utc::now();
        let age = now - t;
        let max = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::hours(1));
        if age > max || age < -chrono::Duration::minutes(5) {
            return Err(ApiError::Unprocessable(format!(
                "event.occurred_at: {t} is outside the accepted window ({} s old at most, 5 min ahead); \
                 a stale or replayed delivery is refused",
                max_age.as_secs()
            )));
        }
    } else if s.ingest.config.pagerduty_secret.is_some() {
        return Err(ApiError::Unprocessable(
            "event.occurred_at: required on signed deliveries".into(),
        ));
    }
    let Some(id) = id else {
        if s.ingest.config.pagerduty_secret.is_some() {
            return Err(ApiError::Unprocessable(
                "event.id: required on signed deliveries".into(),
            ));
        }
        return Ok(None);
    };
    if !s.sentinel.store.record_delivery(source, &id).await? {
        return Err(ApiError::Conflict(format!(
            "delivery {} was already accepted (replay refused)",
            id.chars().take(64).collect::<String>()
        )));
    }
    Ok(Some(id))
}

/// Persists (group commit), dedups, queues investigations and builds the reply:
/// 202 `{ accepted, incidents: [{ incident_id, outcome, count? }] }`, or 429 with Retry-After
/// when a new incident was recorded but the investigation queue is full (it runs later).
pub async fn accept(
    s: &AppState,
    source: &'static str,
    alerts: Vec<NormalisedAlert>,
) -> Result<Response, ApiError> {
    let n = alerts.len();
    let outcomes = s
        .ingest
        .writer
        .submit(source, alerts)
        .await
        .map_err(ApiError::Internal)?;
    let deferred: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.outcome == writer::Outcome::Deferred)
        .filter_map(|o| o.incident_id.as_deref())
        .collect();
    let incidents: Vec<serde_json::Value> = outcomes.iter().map(|o| o.to_json()).collect();
    if !deferred.is_empty() {
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(serde_json::json!({
                "error": format!(
                    "investigation queue full: the alert is recorded and incident {} will be \
                     investigated when the queue has room; slow down",
                    deferred.join(", ")
                ),
                "accepted": n,
                "deferred": deferred,
                "incidents": incidents,
            })),
        )
            .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return Ok(r);
    }
    let first = outcomes.iter().find_map(|o| o.incident_id.clone());
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "accepted": n,
            "incident_id": first,
            "incidents": incidents,
        })),
    )
        .into_response())
}

/// The body of a request to a token-authenticated route, after the sender, token and
/// content-type checks (in that order, before any body byte is read).
async fn token_body(s: &AppState, req: Request) -> Result<axum::body::Bytes, ApiError> {
    let (parts, body) = req.into_parts();
    let peer = peer(&parts);
    check_sender(s, &parts.headers, false)?;
    check_token(
        s.ingest.config.webhook_token.as_deref(),
        &parts.headers,
        peer,
    )?;
    check_json_type(&parts.headers)?;
    super::guard::read_body(s, body).await
}

/// `POST /webhooks/change` (docs/CONTRACTS.md §7): a deploy or config/flag change from CI/CD,
/// authenticated like the alert webhooks, stored append-only. 202 also for a repeat of the
/// same id (which changes nothing; `stored: false`).
pub async fn receive_change(State(s): State<AppState>, req: Request) -> Response {
    match handle_change(&s, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle_change(s: &AppState, req: Request) -> Result<Response, ApiError> {
    let body = token_body(s, req).await?;
    let change = crate::ingest::change::parse(&body)?;
    let stored = s.sentinel.store.insert_change(&change, "webhook").await?;
    tracing::info!(
        change = %change.id,
        service = %change.service,
        kind = %change.kind,
        stored,
        "change event received"
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "accepted": true, "id": change.id, "stored": stored })),
    )
        .into_response())
}

/// `POST /webhooks/change/github`: GitHub `deployment_status` and `push` deliveries, verified
/// by `X-Hub-Signature-256` against `[changes.github] secret` (403 when none is configured),
/// replays of an `X-GitHub-Delivery` refused with 409.
pub async fn receive_github(State(s): State<AppState>, req: Request) -> Response {
    match handle_github(&s, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle_github(s: &AppState, req: Request) -> Result<Response, ApiError> {
    use crate::ingest::cicd;
    let Some(gh) = s.sentinel.config.file.changes.github.clone() else {
        return Err(ApiError::Forbidden(
            "GitHub deliveries need [changes.github] secret in the configuration file".into(),
        ));
    };
    let (parts, body) = req.into_parts();
    check_sender(s, &parts.headers, true)?;
    check_json_type(&parts.headers)?;
    let body = super::guard::read_body(s, body).await?;
    let signature = parts
        .headers
        .get(cicd::GITHUB_SIGNATURE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::Unauthorized("missing X-Hub-Signature-256".into()))?;
    if !cicd::github_signature_matches(gh.secret.expose(), signature, &body) {
        return Err(ApiError::Unauthorized("invalid X-Hub-Signature-256".into()));
    }
    let event = parts
        .headers
        .get(cicd::GITHUB_EVENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let changes = cicd::github(&event, &body, &gh.services)?;
    if let Some(delivery) = parts
        .headers
        .get("x-github-delivery")
        .and_then(|v| v.to_str().ok())
        && !s.sentinel.store.record_delivery("github", delivery).await?
    {
        return Err(ApiError::Conflict(format!(
            "delivery {} was already accepted (replay refused)",
            delivery.chars().take(64).collect::<String>()
        )));
    }
    store_changes(s, "github", &event, changes).await
}

/// `POST /webhooks/change/argocd`: Argo CD notifications (a succeeded sync is a deploy),
/// authenticated like the alert webhooks.
pub async fn receive_argocd(State(s): State<AppState>, req: Request) -> Response {
    match handle_argocd(&s, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle_argocd(s: &AppState, req: Request) -> Result<Response, ApiError> {
    let body = token_body(s, req).await?;
    let services = s
        .sentinel
        .config
        .file
        .changes
        .argocd
        .clone()
        .unwrap_or_default()
        .services;
    let changes = crate::ingest::cicd::argocd(&body, &services)?;
    store_changes(s, "argocd", "sync", changes).await
}

async fn store_changes(
    s: &AppState,
    source: &'static str,
    event: &str,
    changes: Vec<crate::store::ChangeEvent>,
) -> Result<Response, ApiError> {
    let mut stored = 0;
    for c in &changes {
        if s.sentinel.store.insert_change(c, source).await? {
            stored += 1;
        }
    }
    tracing::info!(
        source,
        event,
        received = changes.len(),
        stored,
        "change events received"
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "accepted": true,
            "changes": changes.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
            "stored": stored,
        })),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rule() {
        let mut h = HeaderMap::new();
        let lo: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let far: SocketAddr = "10.0.0.8:5000".parse().unwrap();
        assert!(check_token(None, &h, Some(lo)).is_ok());
        assert!(check_token(None, &h, Some(far)).is_err());
        assert!(check_token(None, &h, None).is_err());
        assert!(check_token(Some("s3cret"), &h, Some(lo)).is_err());
        h.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(check_token(Some("s3cret"), &h, Some(far)).is_ok());
        h.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert!(check_token(Some("s3cret"), &h, Some(lo)).is_err());
        let basic = base64::engine::general_purpose::STANDARD.encode("alertmanager:s3cret");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {basic}").parse().unwrap(),
        );
        assert!(check_token(Some("s3cret"), &h, Some(far)).is_ok());
    }
}
