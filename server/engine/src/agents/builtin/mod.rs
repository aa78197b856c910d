//! The built-in brain (`builtin/…` models): one deterministic policy per role, deciding the
//! next tool call or the conclusion from what earlier tool calls returned, using the
//! analyzers in [`crate::engine`]. No model, no network. Text found in telemetry is only ever
//! matched against known failure phrases, so instructions hidden in logs have no effect.

mod comms;
mod deploy_correlator;
mod log_analyst;
mod remediation;
mod triage;

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

pub fn builtin_policy(role: AgentRole) -> Box<dyn Policy> {
    match role {
        AgentRole::Triage => Box::new(triage::Triage),
        AgentRole::LogAnalyst => Box::new(log_analyst::LogAnalyst),
        AgentRole::DeployCorrelator => Box::new(deploy_correlator::DeployCorrelator),
        AgentRole::Remediation => Box::new(remediation::Remediation::default()),
        AgentRole::Comms | AgentRole::Orchestrator => Box::new(comms::Comms),
    }
}
