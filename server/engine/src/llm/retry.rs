//! Retry with exponential backoff and full jitter for transient model errors (429, 5xx,
//! timeouts). Permanent and context-length errors are returned at once.

use super::*;
use rand::Rng;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// No waiting between attempts (tests).
    pub fn immediate(max_attempts: u32) -> Self {
        Self {
            max_attempts,
            base: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        if cap.is_zero() {
            return cap;
        }
        let ms = rand::rng().random_range(0..=cap.as_millis() as u64);
        Duration::from_millis(ms)
    }
}

/// Wraps a model so that transient failures are retried.
pub struct Retrying<M> {
    pub inner: M,
    pub policy: RetryPolicy,
}

#[async_trait::async_trait]
impl<M: ChatModel> ChatModel for Retrying<M> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn context_window(&self) -> Option<u32> {
        self.inner.context_window()
    }

    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, LanguageModelError> {
        let mut attempt = 0;
        loop {
            match self.inner.complete(req).await {
                Err(e) if e.is_transient() && attempt + 1 < self.policy.max_attempts => {
                    tracing::warn!(model = %self.inner.name(), attempt, error = %e, "transient model error, retrying");
                    tokio::time::sleep(self.policy.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}
