//! [`DelayedBrains`]: the built-in engine behind a hosted model's latency. Every policy step
//! (one model turn) waits a fixed delay first and is recorded as a model call, so the
//! orchestration — which roles wait for which — is measured the way it behaves with a model
//! that answers in a second, while the answers stay the engine's. It is the latency
//! benchmark's model (`benches/latency.rs`) and the overlap tests' double; nothing in
//! production uses it.

use super::builtin::builtin_policy;
use super::policy::{Brains, Brief, Exchange, ModelCallRecord, Policy, PolicyError, Step};
use sentinel_model::AgentRole;
use std::time::Duration;

pub struct DelayedBrains {
    delay: Duration,
}

impl DelayedBrains {
    pub fn new(delay: Duration) -> Self {
        Self { delay }
    }

    fn name(&self) -> String {
        format!("scripted/delayed-{}ms", self.delay.as_millis())
    }
}

impl Brains for DelayedBrains {
    fn policy_for(&self, role: AgentRole) -> Box<dyn Policy> {
        Box::new(Delayed {
            inner: builtin_policy(role),
            delay: self.delay,
            name: self.name(),
            calls: vec![],
        })
    }
    fn model_for(&self, _role: AgentRole) -> String {
        self.name()
    }
    fn price_for(&self, _role: AgentRole) -> Option<crate::llm::prices::Price> {
        None
    }
}

struct Delayed {
    inner: Box<dyn Policy>,
    delay: Duration,
    name: String,
    calls: Vec<ModelCallRecord>,
}

#[async_trait::async_trait]
impl Policy for Delayed {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        tokio::time::sleep(self.delay).await;
        self.calls.push(ModelCallRecord {
            model: self.name.clone(),
            ms: self.delay.as_secs_f64() * 1000.0,
            ok: true,
            detail: "a delayed turn of the built-in engine".into(),
            input_tokens: 0,
            output_tokens: 0,
            truncated: vec![],
        });
        self.inner.next(b, h).await
    }

    fn drain_model_calls(&mut self) -> Vec<ModelCallRecord> {
        std::mem::take(&mut self.calls)
    }
}
