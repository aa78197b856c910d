//! One definition per agent role: the tools it may use, what it is told, the shape of its
//! conclusion and how it is checked, how the conclusion lands in the run state, its summary
//! line, its built-in policy and when it is skipped. The runner is generic over these; adding
//! a role means adding a file here and a place in [`AgentRole::PIPELINE`].

mod comms;
mod deploy_correlator;
mod log_analyst;
mod remediation;
mod triage;

use super::conclusions::Conclusion;
use super::policy::Policy;
use super::state::RunState;
use crate::engine::params::Params;
use sentinel_model::{AgentRole, RemediationReport};

/// A role skipped, with what the run does instead.
pub struct Skip {
    pub reason: String,
    /// The roles skipped together (in pipeline order, this one first).
    pub roles: Vec<AgentRole>,
    /// The role the run hands over to instead, and from whom the hand-off is recorded.
    pub from: AgentRole,
    pub next: AgentRole,
    pub handoff_reason: &'static str,
    /// The remediation that stands in for the skipped agents' work.
    pub remediation: Option<RemediationReport>,
}

pub trait RoleDef: Send + Sync {
    fn role(&self) -> AgentRole;
    /// The tools this role may call (a model is offered exactly these).
    fn tools(&self) -> &'static [&'static str];
    /// What an LLM playing this role is told (numbers come from the engine parameters).
    fn instructions(&self, p: &Params) -> String;
    /// The shape of the final answer, shown to an LLM.
    fn output_schema(&self) -> serde_json::Value;
    /// Checks a final answer (from an LLM) and types it.
    fn parse(&self, v: serde_json::Value) -> Result<Conclusion, String>;
    /// Stores a conclusion in the run state.
    fn absorb(&self, c: Conclusion, state: &mut RunState) -> Result<(), String>;
    /// The one-line summary of the role's conclusion (events, hand-offs).
    fn summary(&self, state: &RunState) -> String;
    /// The built-in engine's policy for this role.
    fn builtin(&self) -> Box<dyn Policy>;
    /// Whether to skip this role given the run so far.
    fn skip(&self, _state: &RunState) -> Option<Skip> {
        None
    }
}

/// The definition of `role` (the orchestrator's own summary is the comms role's).
pub fn def(role: AgentRole) -> &'static dyn RoleDef {
    match role {
        AgentRole::Triage => &triage::Triage,
        AgentRole::LogAnalyst => &log_analyst::LogAnalyst,
        AgentRole::DeployCorrelator => &deploy_correlator::DeployCorrelator,
        AgentRole::Remediation => &remediation::Remediation,
        AgentRole::Comms | AgentRole::Orchestrator => &comms::Comms,
    }
}

/// Parses `v` as `T`, naming the role in the error.
fn typed<T: serde::de::DeserializeOwned>(
    role: AgentRole,
    v: serde_json::Value,
) -> Result<T, String> {
    serde_json::from_value(v)
        .map_err(|e| format!("{} concluded with an unusable answer: {e}", role.title()))
}

/// The error for a conclusion of another role's type.
fn wrong(role: AgentRole) -> String {
    format!("{} concluded with another role's document", role.title())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::Registry;

    #[test]
    fn every_role_names_only_registered_tools() {
        let reg = Registry::standard();
        for role in AgentRole::PIPELINE {
            let d = def(role);
            assert_eq!(d.role(), role);
            assert!(!d.tools().is_empty());
            for t in d.tools() {
                assert!(reg.contains(t), "{role:?} names unknown tool {t}");
            }
        }
        // Only remediation may reach the gate.
        for role in AgentRole::PIPELINE {
            let gated = def(role).tools().iter().any(|t| reg.is_gate(t));
            assert_eq!(gated, role == AgentRole::Remediation, "{role:?}");
        }
    }

    #[test]
    fn a_role_rejects_a_malformed_answer_naming_itself() {
        let e = def(AgentRole::Triage)
            .parse(serde_json::json!({"service": 3}))
            .unwrap_err();
        assert!(e.starts_with("Triage"), "{e}");
    }

    #[test]
    fn prompts_carry_the_engine_parameters() {
        let p = Params::default();
        let t = def(AgentRole::Triage).instructions(&p);
        assert!(t.contains(&format!("{}", p.duplicate_similarity)), "{t}");
        let r = def(AgentRole::Remediation).instructions(&p);
        assert!(r.contains(&format!("{}", p.min_action_confidence)), "{r}");
    }
}
