//! Language models behind one small trait. The runner and policies only see [`ChatModel`],
//! [`ChatRequest`] and [`ChatResponse`]; provider wire formats stay inside `providers/`.
//! Models are chosen by `provider/model` strings ([`spec::ModelSpec`]); `builtin/…` means the
//! offline engine and never reaches this module's providers.

pub mod budget;
pub mod prices;
pub mod providers;
pub mod retry;
pub mod scripted;
pub mod settings;
pub mod spec;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

/// A tool invocation requested by the model. `arguments` is the raw JSON text the model
/// produced (it may be malformed; the runner checks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Tool calls made by an assistant message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For `Role::Tool`: the call this message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For `Role::Tool`: the tool's name (some providers want it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
        }
    }
    pub fn assistant(content: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
            tool_calls,
            tool_call_id: None,
            name: None,
        }
    }
    pub fn tool(
        call_id: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Self {
            role: Role::Tool,
            content: content.into(),
            tool_calls: vec![],
            tool_call_id: Some(call_id.into()),
            name: Some(name.into()),
        }
    }
}

/// A tool offered to the model: name, description and JSON-schema parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Ask for a JSON object answer (where the provider supports it).
    pub json_mode: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u32,
    pub output_tokens: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
    pub model: String,
}

/// Classified model failures: the runner retries `Transient`, gives up on `Permanent`, and
/// shrinks its context on `ContextLengthExceeded`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LanguageModelError {
    #[error("transient model error: {0}")]
    Transient(String),
    #[error("permanent model error: {0}")]
    Permanent(String),
    #[error("context length exceeded: {0}")]
    ContextLengthExceeded(String),
}

impl LanguageModelError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// `provider/model`, for logs and events.
    fn name(&self) -> String;
    /// The model's context window in tokens, when the client knows it (a server that reports
    /// it, a test double); otherwise the configuration or `budget::default_window` decides.
    fn context_window(&self) -> Option<u32> {
        None
    }
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, LanguageModelError>;
}

#[async_trait::async_trait]
impl<T: ChatModel + ?Sized> ChatModel for std::sync::Arc<T> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn context_window(&self) -> Option<u32> {
        (**self).context_window()
    }
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, LanguageModelError> {
        (**self).complete(req).await
    }
}
