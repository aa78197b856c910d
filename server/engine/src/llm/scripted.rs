//! [`ScriptedModel`]: a test double that answers from a fixed script of turns, records every
//! request it received, and fails (permanently) when the script runs out. With a context
//! window it refuses, as a server does, any request whose estimate exceeds it; with a delay it
//! answers after that long (the latency benchmark's hosted model).

use super::*;
use std::collections::VecDeque;
use std::sync::Mutex;

pub enum Turn {
    Respond(ChatResponse),
    Fail(LanguageModelError),
}

impl Turn {
    pub fn text(content: &str) -> Self {
        Self::Respond(ChatResponse {
            content: Some(content.to_string()),
            tool_calls: vec![],
            usage: Usage::default(),
            model: "scripted".into(),
        })
    }

    pub fn tool_call(name: &str, arguments: &str) -> Self {
        Self::tool_calls(&[(name, arguments)])
    }

    pub fn tool_calls(calls: &[(&str, &str)]) -> Self {
        Self::Respond(ChatResponse {
            content: None,
            tool_calls: calls
                .iter()
                .enumerate()
                .map(|(i, (n, a))| ToolCall {
                    id: format!("call_{n}_{i}"),
                    name: n.to_string(),
                    arguments: a.to_string(),
                })
                .collect(),
            usage: Usage::default(),
            model: "scripted".into(),
        })
    }
}

#[derive(Default)]
pub struct ScriptedModel {
    turns: Mutex<VecDeque<Turn>>,
    requests: Mutex<Vec<ChatRequest>>,
    window: Option<u32>,
    delay: Option<std::time::Duration>,
}

impl ScriptedModel {
    pub fn new(turns: Vec<Turn>) -> Self {
        Self {
            turns: Mutex::new(turns.into()),
            requests: Mutex::new(vec![]),
            window: None,
            delay: None,
        }
    }

    /// Refuses requests larger than `tokens` (estimated) with `ContextLengthExceeded`.
    pub fn with_context_window(mut self, tokens: u32) -> Self {
        self.window = Some(tokens);
        self
    }

    /// Answers each request after `delay`.
    pub fn with_delay(mut self, delay: std::time::Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn remaining(&self) -> usize {
        self.turns.lock().map(|t| t.len()).unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl ChatModel for ScriptedModel {
    fn name(&self) -> String {
        "scripted/test".into()
    }

    fn context_window(&self) -> Option<u32> {
        self.window
    }

    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, LanguageModelError> {
        if let Ok(mut r) = self.requests.lock() {
            r.push(req.clone());
        }
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        if let Some(w) = self.window {
            let need = budget::estimate_request(req) + req.max_tokens.unwrap_or(0);
            if need > w {
                return Err(LanguageModelError::ContextLengthExceeded(format!(
                    "this model's maximum context length is {w} tokens, the request needs {need}"
                )));
            }
        }
        let next = self.turns.lock().ok().and_then(|mut t| t.pop_front());
        match next {
            Some(Turn::Respond(r)) => Ok(r),
            Some(Turn::Fail(e)) => Err(e),
            None => Err(LanguageModelError::Permanent(
                "scripted model: no turns left".into(),
            )),
        }
    }
}
