//! Alert ingestion: each source's native payload is verified, normalised into an [`Alert`]
//! and persisted before the caller gets its 202.
//!
//! This module holds what the sources share: the normalised form ([`NormalisedAlert`]), the
//! field-naming errors ([`IngestError`]), the webhook configuration ([`IngestConfig`], from
//! `SENTINEL_*` variables), the shared-secret check for Alertmanager/Grafana/Datadog, and the
//! request pipeline (auth → body → normalise → group-commit writer → investigation queue).
//! One file per source does the parsing; [`writer`] does dedup and persistence.

pub mod alertmanager;
pub mod datadog;
pub mod generic;
pub mod grafana;
pub mod pagerduty;
pub mod writer;

use crate::http::{ApiError, AppState};
use crate::queue::InvestigationQueue;
use crate::service::Sentinel;
use app::model::{Alert, AlertSeverity, ServiceName};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Datelike, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

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

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Malformed(_) => ApiError::BadRequest(e.to_string()),
            IngestError::Field { .. } => ApiError::Unprocessable(e.to_string()),
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

/// Webhook settings, from the environment at start (tests build them directly).
#[derive(Clone)]
pub struct IngestConfig {
    /// `SENTINEL_WEBHOOK_TOKEN`: bearer token (or basic-auth password) for Alertmanager,
    /// Grafana, Datadog and the generic route. Unset: only loopback callers are accepted.
    pub webhook_token: Option<String>,
    /// `SENTINEL_PAGERDUTY_SECRET`: HMAC secret of the PagerDuty V3 subscription. Unset: the
    /// PagerDuty route falls back to the webhook-token rule above.
    pub pagerduty_secret: Option<String>,
    /// `SENTINEL_SERVICE_LABELS` (comma-separated, default `service,job,app`): the labels
    /// that name the service, first present wins.
    pub service_labels: Vec<String>,
    /// `SENTINEL_QUEUE_CAPACITY` (default 1024): investigations waiting to run.
    pub queue_capacity: usize,
    /// `SENTINEL_QUEUE_WORKERS` (default 2): investigations running at once.
    pub queue_workers: usize,
}

impl std::fmt::Debug for IngestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestConfig")
            .field(
                "webhook_token",
                &self.webhook_token.as_ref().map(|_| "[set]"),
            )
            .field(
                "pagerduty_secret",
                &self.pagerduty_secret.as_ref().map(|_| "[set]"),
            )
            .field("service_labels", &self.service_labels)
            .field("queue_capacity", &self.queue_capacity)
            .field("queue_workers", &self.queue_workers)
            .finish()
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            webhook_token: None,
            pagerduty_secret: None,
            service_labels: vec!["service".into(), "job".into(), "app".into()],
            queue_capacity: 1024,
            queue_workers: 2,
        }
    }
}

impl IngestConfig {
    pub fn from_env() -> Self {
        let var = |k: &str| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let d = Self::default();
        Self {
            webhook_token: var("SENTINEL_WEBHOOK_TOKEN"),
            pagerduty_secret: var("SENTINEL_PAGERDUTY_SECRET"),
            service_labels: var("SENTINEL_SERVICE_LABELS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or(d.service_labels),
            queue_capacity: var("SENTINEL_QUEUE_CAPACITY")
                .and_then(|v| v.parse().ok())
                .unwrap_or(d.queue_capacity),
            queue_workers: var("SENTINEL_QUEUE_WORKERS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(d.queue_workers),
        }
    }
}

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
/// (alert senders are servers, never web pages), a body that is not JSON (a cross-site form
/// or `text/plain` POST needs no CORS preflight), and — when no webhook token is set, so
/// loopback callers are trusted — a `Host` that is not a loopback name or listed in
/// `SENTINEL_ALLOWED_HOSTS`.
pub fn check_sender(s: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
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
    if s.ingest.config.webhook_token.is_none() {
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

/// Reads the body under the router's limit and the body deadline; an oversized body is a
/// JSON 413, a body that does not arrive in time a 408.
async fn read_body(s: &AppState, body: axum::body::Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, usize::MAX).await.map_err(|e| {
        if crate::http::guard::is_deadline(&e) {
            return ApiError::Timeout(format!(
                "request body not received within {} s",
                s.sentinel.config.http.body_timeout.as_secs()
            ));
        }
        let too_large = std::error::Error::source(&e)
            .map(|s| s.to_string().contains("length limit"))
            .unwrap_or(false)
            || e.to_string().contains("length limit");
        if too_large {
            ApiError::TooLarge(format!(
                "request body larger than {} bytes",
                s.sentinel.config.http.max_body_bytes
            ))
        } else {
            ApiError::BadRequest(format!("cannot read the request body: {e}"))
        }
    })
}

/// The whole webhook pipeline for one source.
pub async fn handle(
    s: &AppState,
    req: Request,
    source: &'static str,
    verify: Verify,
    normalise: impl FnOnce(&IngestConfig, &[u8]) -> Result<Vec<NormalisedAlert>, IngestError>,
) -> Response {
    match handle_inner(s, req, source, verify, normalise).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle_inner(
    s: &AppState,
    req: Request,
    source: &'static str,
    verify: Verify,
    normalise: impl FnOnce(&IngestConfig, &[u8]) -> Result<Vec<NormalisedAlert>, IngestError>,
) -> Result<Response, ApiError> {
    let cfg = &s.ingest.config;
    let (parts, body) = req.into_parts();
    let peer = peer(&parts);
    check_sender(s, &parts.headers)?;
    if verify == Verify::Token || cfg.pagerduty_secret.is_none() {
        check_token(cfg.webhook_token.as_deref(), &parts.headers, peer)?;
    }
    check_json_type(&parts.headers)?;
    let body = read_body(s, body).await?;
    if verify == Verify::PagerDuty
        && let Some(secret) = &cfg.pagerduty_secret
    {
        pagerduty::verify_signature(secret, &parts.headers, &body)?;
    }
    let alerts = normalise(cfg, &body)?;
    let delivery = match verify {
        Verify::PagerDuty => fresh_delivery(s, source, &body).await?,
        Verify::Token => None,
    };
    let Some(delivery) = delivery else {
        return accept(s, source, alerts).await;
    };
    let out = accept(s, source, alerts).await;
    if out.is_err() {
        // Not stored: the sender's retry of this delivery must get through.
        let _ = s.sentinel.store.forget_delivery(source, &delivery).await;
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
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/webhooks")
            .join(name),
    )
    .unwrap()
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
