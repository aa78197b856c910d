//! Context budgets: a model's prompt must fit its context window, whatever the telemetry
//! returns. Every request is estimated before it is sent; a tool result larger than its share
//! of the window is cut when it enters the conversation, and when the whole request is still
//! too big the largest tool results are cut further. Each cut leaves a note in the message
//! (what was kept, of how much) and a line in the trajectory, so neither the model nor the
//! engineer mistakes a cut result for a complete one.
//!
//! The estimate is deliberately pessimistic (three characters per token: JSON and log lines
//! tokenise worse than prose) and the budget keeps a margin, so an estimate that is off by a
//! quarter still fits.

use super::{ChatRequest, Message, Role};

/// Characters per token the estimate assumes.
const CHARS_PER_TOKEN: usize = 3;
/// Tokens each message costs beyond its text (role, separators).
const PER_MESSAGE_TOKENS: u32 = 8;
/// Share of the window a request may fill (the rest is the estimate's margin).
const FILL: f64 = 0.85;
/// Share of the prompt budget one tool result may take when it arrives.
const RESULT_SHARE: f64 = 0.35;
/// Room kept for the note a cut leaves (it is about 230 characters).
const NOTE_CHARS: usize = 260;
/// A cut result keeps at least this many characters.
const MIN_KEEP_CHARS: usize = 400;

/// The context window of a model from its `provider/model` name: known defaults of the common
/// models, else a conservative 8k. The configuration's `[context_windows]` overrides it.
pub fn default_window(model: &str) -> u32 {
    let m = model.to_ascii_lowercase();
    let name = m.split_once('/').map_or(m.as_str(), |(_, n)| n);
    match name {
        n if n.starts_with("gpt-4.1") => 1_000_000,
        n if n.starts_with("gpt-4o") || n.starts_with("gpt-4-turbo") || n.starts_with("o3") => {
            128_000
        }
        n if n.starts_with("o4") || n.starts_with("gpt-5") => 200_000,
        n if n.starts_with("claude") => 200_000,
        n if n.starts_with("llama-3.")
            || n.starts_with("llama3.1")
            || n.starts_with("llama3.2") =>
        {
            128_000
        }
        n if n.starts_with("llama3") => 8_192,
        n if n.starts_with("qwen") || n.starts_with("mistral") => 32_768,
        n if n.starts_with("gemma") => 8_192,
        _ => 8_192,
    }
}

/// Estimated tokens of a text.
pub fn estimate_tokens(text: &str) -> u32 {
    text.chars().count().div_ceil(CHARS_PER_TOKEN) as u32
}

/// Estimated tokens of a whole request: messages, tool calls and tool schemas.
pub fn estimate_request(req: &ChatRequest) -> u32 {
    let messages: u32 = req
        .messages
        .iter()
        .map(|m| {
            PER_MESSAGE_TOKENS
                + estimate_tokens(&m.content)
                + m.tool_calls
                    .iter()
                    .map(|c| estimate_tokens(&c.name) + estimate_tokens(&c.arguments))
                    .sum::<u32>()
        })
        .sum();
    let tools: u32 = req
        .tools
        .iter()
        .map(|t| {
            estimate_tokens(&t.name)
                + estimate_tokens(&t.description)
                + estimate_tokens(&t.parameters.to_string())
        })
        .sum();
    messages + tools
}

/// The token budget of one model's requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub window: u32,
    /// Tokens kept free for the answer (`max_tokens`).
    pub answer: u32,
}

impl Budget {
    /// A budget for `window`, keeping up to 2048 tokens (a quarter of a small window) for
    /// the answer.
    pub fn for_window(window: u32) -> Self {
        Self {
            window,
            answer: (window / 4).clamp(256, 2048),
        }
    }

    /// Tokens the prompt (everything but the answer) may use.
    pub fn prompt_tokens(&self) -> u32 {
        ((f64::from(self.window) * FILL) as u32).saturating_sub(self.answer)
    }

    /// Tokens one tool result may take when it enters the conversation.
    pub fn result_tokens(&self) -> u32 {
        (f64::from(self.prompt_tokens()) * RESULT_SHARE) as u32
    }
}

/// Cuts `content` to at most `tokens` (estimated), keeping its beginning and saying what was
/// cut. Returns the note for the trajectory when it cut anything.
pub fn cut_to(content: &mut String, tokens: u32, what: &str) -> Option<String> {
    let total = content.chars().count();
    let keep = (tokens as usize * CHARS_PER_TOKEN)
        .saturating_sub(NOTE_CHARS)
        .max(MIN_KEEP_CHARS);
    if total <= keep {
        return None;
    }
    let head: String = content.chars().take(keep).collect();
    *content = format!(
        "{head}… [cut by Sentinel to fit the model's context window: kept the first {keep} of {total} characters; ask a narrower question (a shorter window, one service, a query) for the rest]"
    );
    Some(format!(
        "{what}: kept {keep} of {total} characters to fit the context window"
    ))
}

/// Makes `req` fit `budget`: cuts the largest tool results (then the largest other non-system
/// message) until the estimate fits, and returns a note per cut. A request that fits is left
/// alone.
pub fn fit(req: &mut ChatRequest, budget: Budget) -> Vec<String> {
    let mut notes = Vec::new();
    req.max_tokens = Some(
        req.max_tokens
            .map_or(budget.answer, |m| m.min(budget.answer)),
    );
    let limit = budget.prompt_tokens();
    for _ in 0..64 {
        let over = estimate_request(req).saturating_sub(limit);
        if over == 0 {
            break;
        }
        // The largest tool result first; the system prompt is never cut.
        let pick = |role_ok: fn(&Role) -> bool, msgs: &[Message]| {
            msgs.iter()
                .enumerate()
                .filter(|(_, m)| role_ok(&m.role) && m.content.chars().count() > MIN_KEEP_CHARS)
                .max_by_key(|(_, m)| m.content.len())
                .map(|(i, _)| i)
        };
        let Some(i) = pick(|r| *r == Role::Tool, &req.messages)
            .or_else(|| pick(|r| *r == Role::User, &req.messages))
        else {
            break;
        };
        let m = &mut req.messages[i];
        let now = estimate_tokens(&m.content);
        let target = now.saturating_sub(over).max(now / 2);
        let what = match (&m.role, &m.name) {
            (Role::Tool, Some(n)) => format!("{n} result"),
            (Role::Tool, None) => "a tool result".to_string(),
            _ => "the briefing".to_string(),
        };
        match cut_to(&mut m.content, target, &what) {
            Some(n) => notes.push(n),
            None => break,
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{ChatRequest, Message};

    fn req(messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            messages,
            tools: vec![],
            temperature: None,
            max_tokens: Some(2048),
            json_mode: false,
        }
    }

    #[test]
    fn known_models_have_their_windows_and_unknown_ones_a_small_default() {
        assert_eq!(default_window("anthropic/claude-sonnet-4"), 200_000);
        assert_eq!(default_window("openai/gpt-4o-mini"), 128_000);
        assert_eq!(default_window("openai-compatible/whatever"), 8_192);
    }

    #[test]
    fn a_request_that_fits_is_left_alone() {
        let mut r = req(vec![Message::system("rules"), Message::user("alert")]);
        let before = r.clone();
        assert!(fit(&mut r, Budget::for_window(8192)).is_empty());
        assert_eq!(r.messages, before.messages);
        assert_eq!(r.max_tokens, Some(2048));
    }

    #[test]
    fn the_largest_tool_result_is_cut_with_a_note_until_the_request_fits() {
        let big = "x".repeat(60_000);
        let small = "y".repeat(2_000);
        let mut r = req(vec![
            Message::system("rules"),
            Message::user("alert"),
            Message::tool("1", "fetch_logs", big),
            Message::tool("2", "list_changes", small.clone()),
        ]);
        let budget = Budget::for_window(4096);
        let notes = fit(&mut r, budget);
        assert!(
            estimate_request(&r) <= budget.prompt_tokens(),
            "{}",
            estimate_request(&r)
        );
        assert!(
            notes.iter().any(|n| n.starts_with("fetch_logs result")),
            "{notes:?}"
        );
        assert!(r.messages[2].content.contains("cut by Sentinel"));
        // The small result was not needed to make room.
        assert_eq!(r.messages[3].content, small);
        assert_eq!(r.max_tokens, Some(1024));
        // The system prompt is never cut.
        assert_eq!(r.messages[0].content, "rules");
    }

    #[test]
    fn a_result_is_cut_to_its_share_when_it_arrives() {
        let budget = Budget::for_window(4096);
        let mut s = "z".repeat(100_000);
        let note = cut_to(&mut s, budget.result_tokens(), "fetch_logs result").unwrap();
        assert!(note.contains("of 100000 characters"), "{note}");
        assert!(estimate_tokens(&s) <= budget.result_tokens() + 60);
        let mut short = "ok".to_string();
        assert!(cut_to(&mut short, budget.result_tokens(), "x").is_none());
    }
}
