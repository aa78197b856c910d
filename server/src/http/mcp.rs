//! `POST /mcp`: the MCP server over streamable HTTP (one JSON-RPC message or batch per
//! request, answered as `application/json`; a notification gets 202 with no body). It needs
//! the operator's credentials like any other act: `investigate_alert` runs the agents.
//! `GET /mcp` (a server-initiated event stream) is not offered: 405.

use super::{AppState, error::ApiError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn post(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    s.auth.operator(&headers, "using the MCP endpoint").await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    let server = crate::mcp::McpServer::new(s.sentinel.clone());
    Ok(match server.handle_text(text).await {
        Some(reply) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            reply,
        )
            .into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    })
}

pub async fn get() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST")],
        "this MCP endpoint answers POST requests; it opens no event stream",
    )
        .into_response()
}
