//! `get_dependencies`: the service's place in the dependency graph.

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Service name.
    pub service: String,
    /// Also list indirect (transitive) dependencies. Default true.
    #[serde(default)]
    pub transitive: Option<bool>,
}

pub struct GetDependencies;

#[async_trait::async_trait]
impl Tool for GetDependencies {
    fn name(&self) -> &'static str {
        "get_dependencies"
    }
    fn description(&self) -> &'static str {
        "Dependency graph around a service: what it calls (with protocol, criticality, hop count, external vendors) and who calls it."
    }
    fn parameters(&self) -> serde_json::Value {
        schema_of::<Args>()
    }
    async fn call(
        &self,
        ctx: &ToolContext,
        args: serde_json::Value,
    ) -> Result<ToolOutput, ToolError> {
        let a: Args = parse_args(args)?;
        let cat = &ctx.catalogue;
        let direct = cat.dependencies_of(&a.service);
        let depends_on: Vec<serde_json::Value> = if a.transitive.unwrap_or(true) {
            cat.upstream_closure(&a.service)
                .into_iter()
                .map(|(name, hops)| {
                    let edge = cat.dependencies.iter().find(|d| d.to == name);
                    serde_json::json!({
                        "service": name, "hops": hops,
                        "protocol": edge.map(|e| e.protocol.clone()),
                        "criticality": edge.map(|e| e.criticality.clone()),
                        "external": cat.is_external(&name),
                        "in_catalogue": cat.service(&name).is_some(),
                        "via": edge.map(|e| e.from.clone()),
                    })
                })
                .collect()
        } else {
            direct
                .iter()
                .map(|e| serde_json::json!({"service": e.to, "hops": 1, "protocol": e.protocol, "criticality": e.criticality, "external": e.external, "in_catalogue": cat.service(&e.to).is_some(), "via": e.from}))
                .collect()
        };
        let dependents: Vec<_> = cat
            .dependents_of(&a.service)
            .iter()
            .map(|e| e.from.clone())
            .collect();
        Ok(ToolOutput::json(serde_json::json!({
            "service": a.service,
            "known": cat.service(&a.service).is_some() || !direct.is_empty(),
            "depends_on": depends_on,
            "dependents": dependents,
        })))
    }
}
