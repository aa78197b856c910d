//! The Anthropic Messages API, which differs from OpenAI chat completions in ways the runner
//! should not care about: the system prompt is a top-level field, tool calls and tool results are
//! typed content blocks (`tool_use` / `tool_result`, the results of one turn in ONE user message),
//! `max_tokens` is mandatory, and overload is HTTP 529. This adapter hides all of that behind
//! [`ChatModel`] and maps failures onto [`LanguageModelError`]. The API key is never logged or put
//! in an error.

use crate::llm::{ChatModel, ChatRequest, ChatResponse, LanguageModelError, Role, ToolCall, Usage};
use reqwest::StatusCode;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::fmt;
use std::time::Duration;

/// How long to wait for the TCP/TLS connection before calling the API unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// `max_tokens` is required by the API; used when the request does not set one.
/// Shortest prompt prefix (estimated tokens) Anthropic caches; below it a cache mark is
/// ignored, so none is sent.
const CACHEABLE_TOKENS: u32 = 1024;
const DEFAULT_MAX_TOKENS: u32 = 2048;
const API_VERSION: &str = "2023-06-01";
/// How much of an unexpected response body goes into an error message.
const BODY_SNIPPET_CHARS: usize = 300;

/// A Claude model behind the Messages API.
pub struct AnthropicModel {
    model: String,
    /// `{base_url}/messages`.
    url: String,
    /// Kept only to scrub it from error texts; never printed.
    api_key: String,
    /// The `x-api-key` header value, marked sensitive.
    key_header: HeaderValue,
    client: reqwest::Client,
}

impl fmt::Debug for AnthropicModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicModel")
            .field("model", &self.model)
            .field("url", &self.url)
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl AnthropicModel {
    /// `POST {base_url}/messages` with `x-api-key` and `anthropic-version: 2023-06-01`.
    #[tracing::instrument(level = "debug", skip(api_key))]
    pub fn new(
        base_url: String,
        api_key: String,
        model: String,
    ) -> Result<Self, LanguageModelError> {
        let url = format!("{}/messages", base_url.trim().trim_end_matches('/'));
        reqwest::Url::parse(&url).map_err(|e| {
            LanguageModelError::Permanent(format!(
                "anthropic: invalid base URL {:?}: {e}",
                crate::redact::url(&url)
            ))
        })?;
        let mut key_header = HeaderValue::from_str(api_key.trim()).map_err(|_| {
            LanguageModelError::Permanent(
                "anthropic: the API key contains characters not allowed in an HTTP header".into(),
            )
        })?;
        key_header.set_sensitive(true);
        let client = client_builder(super::REQUEST_TIMEOUT)
            .build()
            .map_err(|e| {
                LanguageModelError::Permanent(format!(
                    "anthropic: cannot build the HTTP client: {e}"
                ))
            })?;
        Ok(Self {
            model,
            url,
            api_key,
            key_header,
            client,
        })
    }

    /// The JSON body of a Messages API request.
    fn request_body(&self, req: &ChatRequest) -> Value {
        let mut system: Vec<&str> = vec![];
        // (role, content blocks); consecutive turns of the same role are merged, which puts all
        // tool results answering one assistant turn into a single user message.
        let mut turns: Vec<(&'static str, Vec<Value>)> = vec![];
        for m in &req.messages {
            let (role, blocks) = match m.role {
                Role::System => {
                    if !m.content.trim().is_empty() {
                        system.push(&m.content);
                    }
                    continue;
                }
                Role::User => (
                    "user",
                    text_block(&m.content).into_iter().collect::<Vec<_>>(),
                ),
                Role::Tool => (
                    "user",
                    vec![json!({
                        "type": "tool_result",
                        "tool_use_id": m.tool_call_id.as_deref().unwrap_or_default(),
                        "content": m.content,
                    })],
                ),
                Role::Assistant => {
                    let mut blocks: Vec<Value> = text_block(&m.content).into_iter().collect();
                    blocks.extend(m.tool_calls.iter().map(|c| {
                        json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": tool_input(&c.arguments) })
                    }));
                    ("assistant", blocks)
                }
            };
            if blocks.is_empty() {
                // The API rejects empty text blocks and empty messages.
                continue;
            }
            match turns.last_mut() {
                Some((last, existing)) if *last == role => existing.extend(blocks),
                _ => turns.push((role, blocks)),
            }
        }
        let messages: Vec<Value> = turns
            .into_iter()
            .map(|(role, mut blocks)| {
                // A turn that is a single text block goes out as a plain string.
                let content = if blocks.len() == 1 && blocks[0]["type"] == "text" {
                    blocks
                        .pop()
                        .map(|mut b| b["text"].take())
                        .unwrap_or_default()
                } else {
                    Value::Array(blocks)
                };
                json!({ "role": role, "content": content })
            })
            .collect();

        if req.json_mode && req.tools.is_empty() {
            // No response_format here: ask in the system prompt instead.
            system.push("Respond with a single JSON object and nothing else.");
        }
        let mut body = json!({
            "model": self.model,
            "max_tokens": req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            "messages": messages,
        });
        if !system.is_empty() {
            let text = system.join("\n\n");
            // The role's rules and the tool schemas are the same on every turn: mark them as a
            // cacheable prefix (tools, then system) once they are long enough to be cached.
            body["system"] = if crate::llm::budget::estimate_tokens(&text) >= CACHEABLE_TOKENS {
                json!([{ "type": "text", "text": text, "cache_control": { "type": "ephemeral" } }])
            } else {
                json!(text)
            };
        }
        if !req.tools.is_empty() {
            body["tools"] = req
                .tools
                .iter()
                .map(|t| {
                    let schema = if t.parameters.is_object() {
                        t.parameters.clone()
                    } else {
                        json!({ "type": "object", "properties": {} })
                    };
                    json!({ "name": t.name, "description": t.description, "input_schema": schema })
                })
                .collect();
        }
        if let Some(t) = req.temperature {
            // Anthropic accepts 0..=1 (OpenAI's range is 0..=2).
            body["temperature"] = json!(t.clamp(0.0, 1.0));
        }
        body
    }

    #[tracing::instrument(
        name = "llm.anthropic.complete",
        skip_all,
        fields(model = %self.model, messages = req.messages.len(), tools = req.tools.len())
    )]
    async fn send(&self, req: &ChatRequest) -> Result<ChatResponse, LanguageModelError> {
        let body = self.request_body(req);
        let resp = self
            .client
            .post(&self.url)
            .header(
                HeaderName::from_static("x-api-key"),
                self.key_header.clone(),
            )
            .header(HeaderName::from_static("anthropic-version"), API_VERSION)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.transport_error(&e))?;
        if !status.is_success() {
            let err = self.status_error(status, &text);
            tracing::warn!(status = status.as_u16(), error = %err, "model call failed");
            return Err(err);
        }
        let out = self.parse_response(&text)?;
        tracing::debug!(
            input_tokens = out.usage.input_tokens,
            output_tokens = out.usage.output_tokens,
            tool_calls = out.tool_calls.len(),
            "model call finished"
        );
        Ok(out)
    }

    fn parse_response(&self, text: &str) -> Result<ChatResponse, LanguageModelError> {
        let parsed: WireMessage = serde_json::from_str(text).map_err(|e| {
            LanguageModelError::Permanent(self.redact(&format!(
                "anthropic: unreadable Messages API response ({e}): {}",
                snippet(text)
            )))
        })?;
        let mut content = String::new();
        let mut tool_calls = vec![];
        for block in parsed.content {
            match block {
                WireBlock::Text { text } => content.push_str(&text),
                WireBlock::ToolUse { id, name, input } => {
                    tool_calls.push(ToolCall {
                        id,
                        name,
                        arguments: input.to_string(),
                    });
                }
                WireBlock::Other => {}
            }
        }
        Ok(ChatResponse {
            content: Some(content).filter(|c| !c.is_empty()),
            tool_calls,
            usage: Usage {
                input_tokens: parsed.usage.input_tokens,
                output_tokens: parsed.usage.output_tokens,
            },
            model: parsed
                .model
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| self.model.clone()),
        })
    }

    fn transport_error(&self, e: &reqwest::Error) -> LanguageModelError {
        let text = self.redact(&format!("anthropic: {}", error_chain(e)));
        if e.is_builder() || e.is_redirect() {
            LanguageModelError::Permanent(text)
        } else {
            // Timeouts, refused/reset connections, DNS and TLS hiccups, bodies cut short.
            LanguageModelError::Transient(text)
        }
    }

    fn status_error(&self, status: StatusCode, body: &str) -> LanguageModelError {
        let (kind, message) = error_detail(body);
        let text = match &kind {
            Some(kind) => format!("anthropic HTTP {} {kind}: {message}", status.as_u16()),
            None => format!("anthropic HTTP {}: {message}", status.as_u16()),
        };
        classify(status, &message, self.redact(&text))
    }

    fn redact(&self, text: &str) -> String {
        let key = self.api_key.trim();
        if key.is_empty() {
            text.to_string()
        } else {
            text.replace(key, "[redacted]")
        }
    }
}

#[async_trait::async_trait]
impl ChatModel for AnthropicModel {
    fn name(&self) -> String {
        format!("anthropic/{}", self.model)
    }

    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, LanguageModelError> {
        self.send(req).await
    }
}

/// Timeouts shared by every request of a model (tests add `.no_proxy()` to the same builder).
fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("sentinel/", env!("CARGO_PKG_VERSION")))
}

fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "type": "text", "text": text }))
}

/// `tool_use.input` must be a JSON object; arguments that are not one become `{}`.
fn tool_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    }
}

/// HTTP status + provider message → the runner's error class. `text` is the finished message.
/// 529 (overloaded) is a 5xx and so transient.
fn classify(status: StatusCode, message: &str, text: String) -> LanguageModelError {
    let code = status.as_u16();
    if code == 429 || code == 408 || status.is_server_error() {
        LanguageModelError::Transient(text)
    } else if (code == 400 || code == 413) && is_context_length(message) {
        LanguageModelError::ContextLengthExceeded(text)
    } else {
        LanguageModelError::Permanent(text)
    }
}

fn is_context_length(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    // "prompt is too long: 213417 tokens > 200000 maximum";
    // "input length and `max_tokens` exceed context limit: 197626 + 8192 > 200000, …".
    [
        "prompt is too long",
        "context limit",
        "context length",
        "context window",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}` → (type, message);
/// anything else → its first characters.
fn error_detail(body: &str) -> (Option<String>, String) {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let kind = err["type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(String::from);
    let message = err["message"]
        .as_str()
        .or_else(|| err.as_str())
        .or_else(|| v["message"].as_str())
        .filter(|s| !s.is_empty())
        .map(String::from)
        .unwrap_or_else(|| {
            let s = snippet(body);
            if s.is_empty() {
                "(empty body)".to_string()
            } else {
                s
            }
        });
    (kind, message)
}

/// The first [`BODY_SNIPPET_CHARS`] characters of a body, on one line.
fn snippet(body: &str) -> String {
    let one_line: String = body
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(BODY_SNIPPET_CHARS) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// `reqwest::Error` plus its sources ("error sending request: … : connection refused").
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = crate::redact::urls_in(&e.to_string());
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = crate::redact::urls_in(&s.to_string());
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    model: Option<String>,
    content: Vec<WireBlock>,
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    /// `thinking`, `redacted_thinking`, server tool blocks, …: not used by the runner.
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::providers::mock::{Mock, Reply, reply};
    use crate::llm::retry::{RetryPolicy, Retrying};
    use crate::llm::{Message, ToolSpec};

    const TEXT: &str = include_str!("../../../../../tests/fixtures/llm/anthropic_text.json");
    const TOOL_USE: &str =
        include_str!("../../../../../tests/fixtures/llm/anthropic_tool_use.json");
    const OVERLOADED: &str =
        include_str!("../../../../../tests/fixtures/llm/anthropic_overloaded.json");
    const PROMPT_TOO_LONG: &str =
        include_str!("../../../../../tests/fixtures/llm/anthropic_prompt_too_long.json");
    const RATE_LIMIT: &str =
        include_str!("../../../../../tests/fixtures/llm/anthropic_rate_limit_error.json");
    const API_ERROR: &str =
        include_str!("../../../../../tests/fixtures/llm/anthropic_api_error.json");
    const AUTH_ERROR: &str =
        include_str!("../../../../../tests/fixtures/llm/anthropic_authentication_error.json");

    const KEY: &str = "sk-ant-api03-TEST-q8Zr3Lw0Vx5Nb2Kc7Jm4Hp1Gd6Fs9Ty";

    /// Never go through a proxy from the environment: the mock is on 127.0.0.1.
    fn claude(mock: &Mock) -> AnthropicModel {
        let mut m = AnthropicModel::new(
            format!("{}/v1/", mock.base),
            KEY.into(),
            "claude-sonnet-4-20250514".into(),
        )
        .unwrap();
        m.client = client_builder(crate::llm::providers::REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .unwrap();
        m
    }

    fn simple_request() -> ChatRequest {
        ChatRequest {
            messages: vec![
                Message::system("You are an SRE."),
                Message::system("Be brief."),
                Message::user("Why is checkout failing?"),
            ],
            tools: vec![],
            temperature: Some(0.3),
            max_tokens: None,
            json_mode: false,
        }
    }

    fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    fn tool_request() -> ChatRequest {
        ChatRequest {
            messages: vec![
                Message::system("You are an SRE."),
                Message::user("Why is checkout failing?"),
                Message::assistant(
                    "Checking alerts and deploys.",
                    vec![
                        call("toolu_a", "get_alerts", r#"{"service":"checkout"}"#),
                        call(
                            "toolu_b",
                            "get_deploys",
                            r#"{"service": "checkout", "limit"#,
                        ),
                    ],
                ),
                Message::tool("toolu_a", "get_alerts", "2 firing alerts"),
                Message::tool("toolu_b", "get_deploys", "v2.31.0 at 14:02"),
                Message::user("Keep going."),
                Message::assistant("", vec![call("toolu_c", "get_metrics", "")]),
                Message::tool("toolu_c", "get_metrics", "error rate 12%"),
            ],
            tools: vec![ToolSpec {
                name: "search_logs".into(),
                description: "Search service logs".into(),
                parameters: json!({
                    "type": "object",
                    "properties": { "service": { "type": "string" } },
                    "required": ["service"],
                }),
            }],
            temperature: Some(1.4),
            max_tokens: Some(1000),
            json_mode: true,
        }
    }

    #[tokio::test]
    async fn text_answer_and_request_shape() {
        let mock = Mock::start(vec![reply(200, TEXT)]).await;
        let model = claude(&mock);
        let out = model.complete(&simple_request()).await.unwrap();

        assert_eq!(
            out.content.as_deref(),
            Some(
                "The 502s on checkout line up with deploy v2.31.0 at 14:02 UTC. Roll back that deploy first."
            )
        );
        assert!(out.tool_calls.is_empty());
        assert_eq!(
            out.usage,
            Usage {
                input_tokens: 1187,
                output_tokens: 42
            }
        );
        assert_eq!(out.model, "claude-sonnet-4-20250514");
        assert_eq!(model.name(), "anthropic/claude-sonnet-4-20250514");

        let seen = mock.only_request();
        assert_eq!(seen.path_and_query, "/v1/messages");
        assert_eq!(seen.headers["x-api-key"], KEY);
        assert_eq!(seen.headers["anthropic-version"], "2023-06-01");
        assert!(seen.headers.get("authorization").is_none());
        assert_eq!(
            seen.body,
            json!({
                "model": "claude-sonnet-4-20250514",
                "max_tokens": 2048,
                "system": "You are an SRE.\n\nBe brief.",
                "messages": [{ "role": "user", "content": "Why is checkout failing?" }],
                "temperature": 0.3f32,
            })
        );
    }

    #[tokio::test]
    async fn a_long_static_prefix_is_marked_for_prompt_caching() {
        let mock = Mock::start(vec![reply(200, TEXT)]).await;
        let rules = "Rule: read the evidence before you conclude. ".repeat(120);
        let req = ChatRequest {
            messages: vec![Message::system(rules.clone()), Message::user("Why?")],
            tools: vec![],
            temperature: None,
            max_tokens: None,
            json_mode: false,
        };
        claude(&mock).complete(&req).await.unwrap();
        let body = mock.only_request().body;
        assert_eq!(body["system"][0]["text"], rules.as_str());
        assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
    }

    #[tokio::test]
    async fn tool_use_answer_and_tool_history_on_the_wire() {
        let mock = Mock::start(vec![reply(200, TOOL_USE)]).await;
        let out = claude(&mock).complete(&tool_request()).await.unwrap();

        assert_eq!(
            out.content.as_deref(),
            Some("I'll look at the recent checkout errors and deploys.")
        );
        let calls: Vec<(&str, &str, Value)> = out
            .tool_calls
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.name.as_str(),
                    serde_json::from_str(&c.arguments).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            calls,
            vec![
                (
                    "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
                    "search_logs",
                    json!({ "service": "checkout", "query": "status:502", "since": "30m" })
                ),
                (
                    "toolu_01QnWb8ZxH3kRv2Yc6sJp9Tm",
                    "get_deploys",
                    json!({ "service": "checkout", "limit": 3 })
                ),
            ]
        );
        assert_eq!(
            out.usage,
            Usage {
                input_tokens: 1402,
                output_tokens: 118
            }
        );

        let body = mock.only_request().body;
        assert_eq!(
            body["system"], "You are an SRE.",
            "json_mode adds nothing when tools are offered"
        );
        assert_eq!(body["max_tokens"], 1000);
        assert_eq!(body["temperature"], 1.0, "clamped to Anthropic's range");
        assert_eq!(
            body["tools"],
            json!([{
                "name": "search_logs",
                "description": "Search service logs",
                "input_schema": {
                    "type": "object",
                    "properties": { "service": { "type": "string" } },
                    "required": ["service"],
                },
            }])
        );
        assert_eq!(
            body["messages"],
            json!([
                { "role": "user", "content": "Why is checkout failing?" },
                { "role": "assistant", "content": [
                    { "type": "text", "text": "Checking alerts and deploys." },
                    { "type": "tool_use", "id": "toolu_a", "name": "get_alerts", "input": { "service": "checkout" } },
                    // Truncated JSON arguments go out as an empty object.
                    { "type": "tool_use", "id": "toolu_b", "name": "get_deploys", "input": {} },
                ]},
                // Both results in ONE user message, followed by the user's text.
                { "role": "user", "content": [
                    { "type": "tool_result", "tool_use_id": "toolu_a", "content": "2 firing alerts" },
                    { "type": "tool_result", "tool_use_id": "toolu_b", "content": "v2.31.0 at 14:02" },
                    { "type": "text", "text": "Keep going." },
                ]},
                { "role": "assistant", "content": [
                    { "type": "tool_use", "id": "toolu_c", "name": "get_metrics", "input": {} },
                ]},
                { "role": "user", "content": [
                    { "type": "tool_result", "tool_use_id": "toolu_c", "content": "error rate 12%" },
                ]},
            ])
        );
    }

    #[tokio::test]
    async fn json_mode_without_tools_asks_in_the_system_prompt() {
        let mock = Mock::start(vec![reply(200, TEXT)]).await;
        let mut req = simple_request();
        req.json_mode = true;
        req.messages.retain(|m| m.role != Role::System);
        claude(&mock).complete(&req).await.unwrap();
        let body = mock.only_request().body;
        assert_eq!(
            body["system"],
            "Respond with a single JSON object and nothing else."
        );
        assert!(body.get("tools").is_none() && body.get("response_format").is_none());
    }

    #[tokio::test]
    async fn rate_limit_server_error_and_overload_are_transient() {
        for (status, body, needle) in [
            (429, RATE_LIMIT, "rate_limit_error"),
            (500, API_ERROR, "Internal server error"),
            (529, OVERLOADED, "Overloaded"),
        ] {
            let mock = Mock::start(vec![reply(status, body)]).await;
            let err = claude(&mock).complete(&simple_request()).await.unwrap_err();
            let LanguageModelError::Transient(msg) = &err else {
                panic!("{status}: expected Transient, got {err:?}")
            };
            assert!(
                msg.contains(&status.to_string()) && msg.contains(needle),
                "{msg}"
            );
        }
    }

    #[tokio::test]
    async fn prompt_too_long_is_context_length_exceeded() {
        let mock = Mock::start(vec![reply(400, PROMPT_TOO_LONG)]).await;
        let err = claude(&mock).complete(&simple_request()).await.unwrap_err();
        let LanguageModelError::ContextLengthExceeded(msg) = &err else {
            panic!("expected ContextLengthExceeded, got {err:?}")
        };
        assert!(
            msg.contains("400") && msg.contains("prompt is too long: 213417 tokens"),
            "{msg}"
        );

        let other = r#"{"type":"error","error":{"type":"invalid_request_error","message":"input length and `max_tokens` exceed context limit: 197626 + 8192 > 200000, decrease input length or `max_tokens` and try again"}}"#;
        let mock = Mock::start(vec![reply(400, other)]).await;
        let err = claude(&mock).complete(&simple_request()).await.unwrap_err();
        assert!(
            matches!(err, LanguageModelError::ContextLengthExceeded(_)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn unauthorized_and_other_client_errors_are_permanent() {
        for (status, body, needle) in [
            (401, AUTH_ERROR.to_string(), "invalid x-api-key"),
            (403, r#"{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}"#.to_string(), "permission"),
            (404, r#"{"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}}"#.to_string(), "claude-nope"),
            (400, r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0.tool_use.input: Input should be a valid dictionary"}}"#.to_string(), "valid dictionary"),
            (413, r#"{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}"#.to_string(), "maximum allowed"),
        ] {
            let mock = Mock::start(vec![reply(status, body)]).await;
            let err = claude(&mock).complete(&simple_request()).await.unwrap_err();
            let LanguageModelError::Permanent(msg) = &err else { panic!("{status}: expected Permanent, got {err:?}") };
            assert!(msg.contains(&status.to_string()) && msg.contains(needle), "{msg}");
        }
    }

    #[tokio::test]
    async fn malformed_200_is_permanent() {
        for body in [
            &TEXT[..150],
            r#"{"type":"message","content":"not blocks"}"#,
            "",
        ] {
            let mock = Mock::start(vec![reply(200, body)]).await;
            let err = claude(&mock).complete(&simple_request()).await.unwrap_err();
            assert!(
                matches!(err, LanguageModelError::Permanent(_)),
                "{body}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn connection_refused_and_timeout_are_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let mut down =
            AnthropicModel::new(format!("http://{addr}/v1"), KEY.into(), "m".into()).unwrap();
        down.client = client_builder(crate::llm::providers::REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .unwrap();
        let err = down.complete(&simple_request()).await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");

        let mock = Mock::start(vec![Reply {
            status: 200,
            body: TEXT.into(),
            delay: Duration::from_secs(5),
        }])
        .await;
        let mut slow = claude(&mock);
        slow.client = client_builder(Duration::from_millis(200))
            .no_proxy()
            .build()
            .unwrap();
        let err = slow.complete(&simple_request()).await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
    }

    #[tokio::test]
    async fn retrying_recovers_after_a_503() {
        let mock = Mock::start(vec![
            reply(
                503,
                "upstream connect error or disconnect/reset before headers",
            ),
            reply(200, TEXT),
        ])
        .await;
        let model = Retrying {
            inner: claude(&mock),
            policy: RetryPolicy::immediate(3),
        };
        let out = model.complete(&simple_request()).await.unwrap();
        assert!(out.content.unwrap().contains("Roll back"));
        assert_eq!(mock.seen().len(), 2);
    }

    #[tokio::test]
    async fn api_key_never_appears_in_errors_or_debug() {
        let echo = format!(
            r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {KEY}"}}}}"#
        );
        let mut errors = vec![];
        for case in [
            reply(401, echo.clone()),
            reply(403, format!("denied: {KEY}")),
            reply(429, RATE_LIMIT),
            reply(529, echo.clone()),
            reply(400, PROMPT_TOO_LONG),
            reply(
                400,
                format!(
                    r#"{{"type":"error","error":{{"type":"invalid_request_error","message":"prompt is too long for {KEY}"}}}}"#
                ),
            ),
            reply(200, format!(r#"{{"content": [ "{KEY}"#)),
        ] {
            let mock = Mock::start(vec![case]).await;
            let model = claude(&mock);
            errors.push(model.complete(&simple_request()).await.unwrap_err());
            let shown = format!("{model:?}");
            assert!(
                !shown.contains(KEY) && shown.contains("[redacted]"),
                "{shown}"
            );
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let mut down =
            AnthropicModel::new(format!("http://{addr}"), KEY.into(), "m".into()).unwrap();
        down.client = client_builder(crate::llm::providers::REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .unwrap();
        errors.push(down.complete(&simple_request()).await.unwrap_err());
        errors.push(
            AnthropicModel::new(
                "http://127.0.0.1:1".into(),
                format!("{KEY}\r\nX-Injected: 1"),
                "m".into(),
            )
            .unwrap_err(),
        );

        assert_eq!(errors.len(), 9);
        for e in &errors {
            let (shown, debug) = (e.to_string(), format!("{e:?}"));
            assert!(
                !shown.contains(KEY) && !debug.contains(KEY),
                "key leaked: {shown} / {debug}"
            );
        }
    }

    #[test]
    fn tool_input_is_always_an_object() {
        assert_eq!(tool_input(r#"{"a":1}"#), json!({ "a": 1 }));
        for bad in ["", "not json", "[1,2]", "null", "\"s\"", r#"{"a":"#] {
            assert_eq!(tool_input(bad), json!({}), "{bad:?}");
        }
    }
}
