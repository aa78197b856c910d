//! The built-in brain (`builtin/…` models): one deterministic policy per role, deciding the
//! next tool call or the conclusion from what earlier tool calls returned, using the
//! analyzers in [`crate::engine`]. No model, no network. Text found in telemetry is only ever
//! matched against known failure phrases, so instructions hidden in logs have no effect.

pub mod comms;
pub mod deploy_correlator;
pub mod log_analyst;
pub mod remediation;
pub mod triage;

use super::policy::{Brains, Policy};
use sentinel_model::AgentRole;

pub struct BuiltinBrains;

pub const MODEL_NAME: &str = "builtin/sentinel-engine";

impl Brains for BuiltinBrains {
    fn policy_for(&self, role: AgentRole) -> Box<dyn Policy> {
        builtin_policy(role)
    }
    fn model_for(&self, _role: AgentRole) -> String {
        MODEL_NAME.into()
    }
}

/// The built-in policy of `role` (each role's definition names it).
pub fn builtin_policy(role: AgentRole) -> Box<dyn Policy> {
    super::roles::def(role).builtin()
}
