//! The agents of the pipeline.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    Orchestrator,
    Triage,
    LogAnalyst,
    DeployCorrelator,
    Remediation,
    Comms,
}

impl AgentRole {
    /// The specialists in pipeline order (the orchestrator is not one of them).
    pub const PIPELINE: [AgentRole; 5] = [
        AgentRole::Triage,
        AgentRole::LogAnalyst,
        AgentRole::DeployCorrelator,
        AgentRole::Remediation,
        AgentRole::Comms,
    ];

    pub const ALL: [AgentRole; 6] = [
        AgentRole::Orchestrator,
        AgentRole::Triage,
        AgentRole::LogAnalyst,
        AgentRole::DeployCorrelator,
        AgentRole::Remediation,
        AgentRole::Comms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orchestrator => "orchestrator",
            Self::Triage => "triage",
            Self::LogAnalyst => "log_analyst",
            Self::DeployCorrelator => "deploy_correlator",
            Self::Remediation => "remediation",
            Self::Comms => "comms",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Orchestrator => "Orchestrator",
            Self::Triage => "Triage",
            Self::LogAnalyst => "Log Analyst",
            Self::DeployCorrelator => "Deploy Correlator",
            Self::Remediation => "Remediation",
            Self::Comms => "Comms",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

impl fmt::Display for AgentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
