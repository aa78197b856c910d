//! `draft_scaling_plan`: drafts a capacity change (replicas, pool size), never applies it.

use super::*;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    pub service: String,
    /// The evidence that capacity is the bottleneck.
    pub reason: String,
    /// Resource to scale, e.g. "replicas" or "db_pool_size" (default replicas).
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub current: Option<f64>,
    #[serde(default)]
    pub target: Option<f64>,
}

pub struct DraftScalingPlan;

pub type Output = Draft;

#[async_trait::async_trait]
impl Tool for DraftScalingPlan {
    const NAME: &'static str = "draft_scaling_plan";
    const DESCRIPTION: &'static str = "Draft a scaling plan (replicas or connection-pool size) with current and target values. Draft only; nothing is applied.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, _ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let resource = a.resource.unwrap_or_else(|| "replicas".into());
        let current = a
            .current
            .map(|c| c.to_string())
            .unwrap_or_else(|| "current".into());
        let target = a
            .target
            .map(|c| c.to_string())
            .unwrap_or_else(|| "2x current".into());
        let body = format!(
            "## Scale {svc}: {resource} {current} → {target}\n\n### Why\n{reason}\n\n### Steps\n1. `kubectl scale deployment/{svc} --replicas=<target>` (or raise the pool size in config)\n2. Confirm the database can accept the extra connections (max_connections headroom)\n3. Watch saturation for 15 minutes; open a follow-up to fix the underlying slow path\n\n_Drafted by Sentinel; requires human approval._",
            svc = a.service,
            reason = a.reason,
        );
        Ok(Draft {
            draft_id: super::draft_rollback_pr::draft_id("scale"),
            kind: "scaling_plan".into(),
            status: "draft (not applied)".into(),
            repo: None,
            branch: None,
            title: format!("Scale {} ({resource})", a.service),
            body,
        })
    }
}
