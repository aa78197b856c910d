//! `get_dependencies`: the service's place in the dependency graph.

use super::*;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Service name.
    pub service: String,
    /// Also list indirect (transitive) dependencies. Default true.
    #[serde(default)]
    pub transitive: Option<bool>,
}

/// The service's neighbourhood in the dependency graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub service: String,
    /// Whether the catalogue knows the service or any of its edges.
    pub known: bool,
    pub depends_on: Vec<Dependency>,
    /// Services that call this one.
    pub dependents: Vec<String>,
}

/// One service this one depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Dependency {
    pub service: String,
    /// 1 for a direct dependency.
    pub hops: usize,
    pub protocol: Option<String>,
    pub criticality: Option<String>,
    /// An outside vendor (payment processor, SaaS).
    pub external: bool,
    pub in_catalogue: bool,
    /// The service with the edge to this one.
    pub via: Option<String>,
}

pub struct GetDependencies;

#[async_trait::async_trait]
impl Tool for GetDependencies {
    const NAME: &'static str = "get_dependencies";
    const DESCRIPTION: &'static str = "Dependency graph around a service: what it calls (with protocol, criticality, hop count, external vendors) and who calls it.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let cat = &ctx.catalogue;
        let direct = cat.dependencies_of(&a.service);
        let depends_on: Vec<Dependency> = if a.transitive.unwrap_or(true) {
            cat.upstream_closure(&a.service)
                .into_iter()
                .map(|(name, hops)| {
                    let edge = cat.dependencies.iter().find(|d| d.to == name);
                    Dependency {
                        in_catalogue: cat.service(&name).is_some(),
                        external: cat.is_external(&name),
                        protocol: edge.map(|e| e.protocol.clone()),
                        criticality: edge.map(|e| e.criticality.clone()),
                        via: edge.map(|e| e.from.clone()),
                        service: name,
                        hops,
                    }
                })
                .collect()
        } else {
            direct
                .iter()
                .map(|e| Dependency {
                    service: e.to.clone(),
                    hops: 1,
                    protocol: Some(e.protocol.clone()),
                    criticality: Some(e.criticality.clone()),
                    external: e.external,
                    in_catalogue: cat.service(&e.to).is_some(),
                    via: Some(e.from.clone()),
                })
                .collect()
        };
        let dependents: Vec<_> = cat
            .dependents_of(&a.service)
            .iter()
            .map(|e| e.from.clone())
            .collect();
        Ok(Output {
            known: cat.service(&a.service).is_some() || !direct.is_empty(),
            service: a.service,
            depends_on,
            dependents,
        })
    }
}
