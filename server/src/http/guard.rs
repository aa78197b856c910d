//! Middleware at the HTTP edge: what every request goes through before a handler sees it,
//! and what every answer gets on the way out.
//!
//! - [`deadline_body`]: a request body must arrive whole within the body timeout (a body
//!   shorter than its `Content-Length` used to hang the handler reading it).
//! - [`server_fn_guard`]: server functions that act (`decide_approval`, `fire_scenario`)
//!   check the operator before their arguments are read; malformed arguments are a 400 with
//!   a JSON message instead of the 500 (and an ERROR log line) server_fn answers.
//! - [`json_errors`]: under `/api/` and `/webhooks/` (and `/login`, `/logout`, `/health`)
//!   every error is JSON, including axum's
//!   own rejections (bad path or query, wrong method, unknown route, body too large).
//! - [`security_headers`]: no framing, no MIME sniffing, no referrer (the login URL carries
//!   the token).

use super::{AppState, error::ApiError};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Server functions that change something: operator only.
const ACTING_SERVER_FNS: &[&str] = &[
    "/api/decide_approval",
    "/api/fire_scenario",
    "/api/start_eval",
];
/// server_fn's header on its error answers.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

/// The error a body read fails with once the deadline passed.
#[derive(Debug)]
pub struct BodyDeadline(pub Duration);

impl std::fmt::Display for BodyDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request body not received within {} s", self.0.as_secs())
    }
}

impl std::error::Error for BodyDeadline {}

/// A body that fails once `deadline` passes (the whole body, not per chunk).
struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(r) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(r.map(|f| f.map_err(Into::into)));
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyDeadline(self.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pub async fn deadline_body(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let limit = s.sentinel.config.http.body_timeout;
    let (parts, body) = req.into_parts();
    let body = Body::new(DeadlineBody {
        inner: body,
        sleep: Box::pin(tokio::time::sleep(limit)),
        limit,
    });
    next.run(Request::from_parts(parts, body)).await
}

/// Reads a request body whole, under the router's size limit and the body deadline: an
/// oversized body is a JSON 413, one that does not arrive in time a 408. Handlers call it
/// after they checked who is asking.
pub async fn read_body(s: &AppState, body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, usize::MAX).await.map_err(|e| {
        if is_deadline(&e) {
            return ApiError::Timeout(format!(
                "request body not received within {} s",
                s.sentinel.config.http.body_timeout.as_secs()
            ));
        }
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.to_string().contains("length limit"))
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

/// Whether a body read error was our deadline.
pub fn is_deadline(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyDeadline>() || err.to_string().starts_with("request body not received") {
            return true;
        }
        cur = err.source();
    }
    false
}

pub async fn server_fn_guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() == Method::POST
        && ACTING_SERVER_FNS.contains(&req.uri().path())
        && let Err(e) = s.auth.operator(req.headers(), "this action").await
    {
        return e.into_response();
    }
    let resp = next.run(req).await;
    if resp.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !resp.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    // server_fn encodes its errors as `Kind|message`; these kinds are the caller's fault.
    if let Some((kind, msg)) = text.split_once('|')
        && matches!(kind, "Args" | "MissingArg" | "Deserialization" | "Request")
    {
        let msg: String = msg.chars().take(300).collect();
        return if msg.contains("request body not received") {
            ApiError::Timeout(msg).into_response()
        } else {
            ApiError::BadRequest(format!("invalid arguments: {msg}")).into_response()
        };
    }
    tracing::error!(error = %text.chars().take(300).collect::<String>(), "server function failed");
    Response::from_parts(parts, Body::from(bytes))
}

pub async fn json_errors(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let api = path.starts_with("/api/")
        || path.starts_with("/webhooks/")
        || matches!(path, "/api" | "/login" | "/logout" | "/health");
    let resp = next.run(req).await;
    let status = resp.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let msg = match status {
        StatusCode::NOT_FOUND => "no such route".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "request body larger than {} bytes",
            s.sentinel.config.http.max_body_bytes
        ),
        _ if text.trim().is_empty() || text.trim_start().starts_with('<') => status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase(),
        _ => text
            .chars()
            .take(300)
            .collect::<String>()
            .trim()
            .to_string(),
    };
    let mut out = (status, axum::Json(serde_json::json!({ "error": msg }))).into_response();
    for (k, v) in parts.headers.iter() {
        if k == header::ALLOW || k == header::RETRY_AFTER {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if !h.contains_key("content-security-policy") {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    resp
}
