//! The MCP server: Sentinel's read tools for any Model Context Protocol client (an IDE
//! assistant, another agent). One transport-free dispatcher ([`McpServer::handle`]) answers
//! JSON-RPC 2.0 messages; `sentinel mcp` carries them over stdio (one message per line) and
//! `sentinel serve` over streamable HTTP at `POST /mcp`.
//!
//! The tools (`tools.rs`) read: incidents, telemetry through the configured connectors, past
//! incidents, runbooks; `investigate_alert` opens an incident and runs the agents on it. No
//! tool decides an approval: a proposed production change waits for a person in the dashboard,
//! the CLI or the API, whoever asked for the investigation.
//!
//! Written by hand rather than with the `rmcp` crate: the server side Sentinel needs is five
//! methods over JSON-RPC, the tool schemas already come from the typed tools (schemars), and
//! the protocol is checked end to end by the official Python SDK's client in the test suite.

pub mod tools;

use crate::service::Sentinel;
use serde_json::{Value, json};

/// Protocol revisions this server speaks, newest first. A client asking for another gets the
/// newest (the specification's negotiation rule).
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// JSON-RPC error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

#[derive(Clone)]
pub struct McpServer {
    sentinel: Sentinel,
}

impl McpServer {
    pub fn new(sentinel: Sentinel) -> Self {
        Self { sentinel }
    }

    /// One transport message (a request, a notification, or a batch of them): the reply to
    /// send, if any (notifications get none).
    pub async fn handle_text(&self, text: &str) -> Option<String> {
        let msg: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return Some(
                    error(Value::Null, PARSE_ERROR, &format!("not JSON: {e}")).to_string(),
                );
            }
        };
        match msg {
            Value::Array(batch) => {
                let mut out = Vec::new();
                for m in batch {
                    if let Some(r) = self.handle(m).await {
                        out.push(r);
                    }
                }
                (!out.is_empty()).then(|| Value::Array(out).to_string())
            }
            m => self.handle(m).await.map(|r| r.to_string()),
        }
    }

    /// One JSON-RPC message: the response for a request, `None` for a notification.
    #[tracing::instrument(skip_all, fields(method))]
    pub async fn handle(&self, msg: Value) -> Option<Value> {
        let id = msg.get("id").cloned();
        let Some(method) = msg.get("method").and_then(Value::as_str) else {
            // A response from the client (we send no requests) or garbage.
            return id.map(|id| error(id, INVALID_REQUEST, "a request needs a method"));
        };
        tracing::Span::current().record("method", method);
        let id = id?; // notifications (initialized, cancelled, …) need no answer
        let params = msg.get("params").cloned().unwrap_or(json!({}));
        let result = match method {
            "initialize" => Ok(initialize(&params)),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({ "tools": tools::list() })),
            "tools/call" => {
                let Some(name) = params.get("name").and_then(Value::as_str) else {
                    return Some(error(id, INVALID_PARAMS, "tools/call needs params.name"));
                };
                let args = params.get("arguments").cloned().unwrap_or(json!({}));
                if !tools::exists(name) {
                    return Some(error(id, INVALID_PARAMS, &format!("unknown tool: {name}")));
                }
                Ok(match tools::call(&self.sentinel, name, args).await {
                    Ok(v) => json!({
                        "content": [{ "type": "text", "text": v.to_string() }],
                        "structuredContent": v,
                        "isError": false,
                    }),
                    // A tool that fails is a result the model can read, not a protocol error.
                    Err(e) => json!({
                        "content": [{ "type": "text", "text": e }],
                        "isError": true,
                    }),
                })
            }
            "resources/list" => Ok(json!({ "resources": [] })),
            "prompts/list" => Ok(json!({ "prompts": [] })),
            other => Err((METHOD_NOT_FOUND, format!("method not found: {other}"))),
        };
        Some(match result {
            Ok(r) => json!({ "jsonrpc": "2.0", "id": id, "result": r }),
            Err((code, m)) => error(id, code, &m),
        })
    }
}

fn initialize(params: &Value) -> Value {
    let asked = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let version = PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == asked)
        .copied()
        .unwrap_or(PROTOCOL_VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": "sentinel", "version": env!("CARGO_PKG_VERSION") },
        "instructions": "Sentinel investigates production incidents. These tools read incidents, telemetry, past incidents and runbooks, and can start an investigation. They never approve a production change: a person decides in Sentinel's dashboard, CLI or API.",
    })
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialize_negotiates_the_protocol_version() {
        let r = initialize(&json!({ "protocolVersion": "2025-03-26" }));
        assert_eq!(r["protocolVersion"], "2025-03-26");
        let r = initialize(&json!({ "protocolVersion": "1999-01-01" }));
        assert_eq!(r["protocolVersion"], PROTOCOL_VERSIONS[0]);
        assert!(r["capabilities"]["tools"].is_object());
    }
}
