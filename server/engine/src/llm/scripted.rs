//! [`ScriptedModel`]: a test double that answers from a fixed script of turns, records every
//! request it received, and fails (permanently) when the script runs out.

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
}

impl ScriptedModel {
    pub fn new(turns: Vec<Turn>) -> Self {
        Self {
            turns: Mutex::new(turns.into()),
            requests: Mutex::new(vec![]),
        }
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

    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, LanguageModelError> {
        if let Ok(mut r) = self.requests.lock() {
            r.push(req.clone());
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
