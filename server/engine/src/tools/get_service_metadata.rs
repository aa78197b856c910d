//! `get_service_metadata`: the service catalogue entry (team, tier, on-call, repo).

use super::*;
use crate::memory::semantic::ServiceInfo;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Service name, e.g. "api-gateway".
    pub service: String,
}

/// The catalogue fields of a known service (all absent for an unknown one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Info {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oncall_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<String>>,
}

impl From<&ServiceInfo> for Info {
    fn from(s: &ServiceInfo) -> Self {
        Self {
            team: Some(s.team.clone()),
            tier: Some(s.tier),
            oncall_channel: Some(s.oncall_channel.clone()),
            repo: Some(s.repo.clone()),
            description: Some(s.description.clone()),
            language: Some(s.language.clone()),
            owners: Some(s.owners.clone()),
        }
    }
}

/// The catalogue's entry for the service, or a note that it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub known: bool,
    pub name: String,
    /// Team, tier, on-call channel, repository, owners (known services only).
    #[serde(flatten)]
    pub info: Info,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub struct GetServiceMetadata;

#[async_trait::async_trait]
impl Tool for GetServiceMetadata {
    const NAME: &'static str = "get_service_metadata";
    const DESCRIPTION: &'static str = "Look up a service in the service catalogue: owning team, tier (1 = most critical), on-call channel, repository, description.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        Ok(match ctx.catalogue.service(&a.service) {
            Some(s) => Output {
                known: true,
                name: s.name.clone(),
                info: s.into(),
                note: None,
            },
            None => Output {
                known: false,
                name: a.service,
                info: Info::default(),
                note: Some(
                    "unknown service: not in the service catalogue; treat tier as unknown".into(),
                ),
            },
        })
    }
}
