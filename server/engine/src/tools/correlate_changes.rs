//! `correlate_changes`: the engine's change correlation as a tool. It reads the logs, the
//! dependency graph, the deploys and changes and the origin's metrics itself, runs the same
//! analyzers the built-in agents run (log templates and failure family, the origin over the
//! graph, the evidence model: timing, scope, content, exact identifiers, version and breadth
//! splits, onsets, precedence, rivals without a change) and returns the ranked hypotheses
//! with their evidence for and against. A model reasons over this instead of hundreds of raw
//! lines; it still decides, and the safety rule still checks what it proposes.

use super::*;
use crate::agents::builtin::{deploy_correlator, log_analyst};
use crate::engine::trend::Picture;
use crate::tools::{
    fetch_logs, get_dependencies, list_changes, list_recent_deploys, query_metrics,
};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The alerting service (default: the incident's).
    #[serde(default)]
    pub service: Option<String>,
    /// How far back to look for changes, in hours (default 72).
    #[serde(default)]
    pub hours_back: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    /// Where the failure starts (may differ from the alerting service).
    pub origin_service: String,
    pub origin_reason: String,
    /// The dominant failure family of the origin's errors (pool, upstream, certificate …).
    pub family: Option<String>,
    #[schemars(with = "Option<String>")]
    pub first_error_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The change the evidence convicts, if one clearly beats the rest and the explanations
    /// without a change.
    pub suspect: Option<String>,
    /// The engine's confidence in its reading (0..1).
    pub confidence: f64,
    /// Every hypothesis, best first: each change and the explanations without one, with its
    /// score, evidence for and against, whether it explains the failure, whether it is
    /// exonerated.
    #[schemars(with = "Vec<serde_json::Value>")]
    pub hypotheses: Vec<sentinel_model::Hypothesis>,
    pub evidence: Vec<String>,
    pub changes_considered: usize,
    /// What could not be read (a source that is down), so a model does not trust silence.
    pub unavailable: Vec<String>,
}

pub struct CorrelateChanges;

#[async_trait::async_trait]
impl Tool for CorrelateChanges {
    const NAME: &'static str = "correlate_changes";
    const DESCRIPTION: &'static str = "Run Sentinel's change correlation for this alert: reads logs, dependencies, deploys, changes and metrics itself and returns the failure's origin and family, and every hypothesis (each deploy or change, and explanations without a change such as a third-party outage or a leak) ranked with its evidence for and against. Prefer this to reading raw lines; check what it says against the data if in doubt.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let hours = a.hours_back.unwrap_or(72.0).clamp(1.0, 24.0 * 14.0);
        let service = a
            .service
            .clone()
            .unwrap_or_else(|| ctx.alert.service.to_string());
        let mut unavailable = Vec::new();
        let logs = fetch_logs::FetchLogs
            .call(
                ctx,
                parse_args(
                    serde_json::json!({ "min_level": "WARNING", "hours_back": 6, "limit": 500 }),
                )?,
            )
            .await;
        let logs_available = logs.is_ok();
        if let Err(e) = &logs {
            unavailable.push(format!("logs: {e}"));
        }
        let deps = get_dependencies::GetDependencies
            .call(
                ctx,
                parse_args(serde_json::json!({ "service": service, "transitive": true }))?,
            )
            .await
            .ok();
        let upstream = log_analyst::upstream_of(deps.as_ref());
        let lines = logs.map(|l| l.lines).unwrap_or_default();
        let findings = log_analyst::analyse(&service, &lines, upstream, logs_available);
        let window = serde_json::json!({ "hours_back": hours });
        let deploys = list_recent_deploys::ListRecentDeploys
            .call(ctx, parse_args(window.clone())?)
            .await;
        let changes = list_changes::ListChanges
            .call(ctx, parse_args(window)?)
            .await;
        for (what, err) in [
            ("deploys", deploys.as_ref().err()),
            ("changes", changes.as_ref().err()),
        ] {
            if let Some(e) = err {
                unavailable.push(format!("{what}: {e}"));
            }
        }
        let cands = deploy_correlator::candidates(deploys.as_ref().ok(), changes.as_ref().ok());
        let metrics = query_metrics::QueryMetrics
            .call(
                ctx,
                parse_args(
                    serde_json::json!({ "service": findings.origin_service, "hours_back": hours }),
                )?,
            )
            .await;
        if let Err(e) = &metrics {
            unavailable.push(format!("metrics: {e}"));
        }
        let series = metrics
            .as_ref()
            .map(deploy_correlator::series_of)
            .unwrap_or_default();
        let picture = (!series.is_empty()).then(|| Picture::new(series.clone()));
        let out = deploy_correlator::correlate_findings(
            &ctx.alert,
            &findings,
            &cands,
            picture.as_ref(),
            &series,
            !logs_available && deploys.is_err(),
        );
        let d = out.diagnosis;
        Ok(Output {
            origin_service: findings.origin_service.clone(),
            origin_reason: findings.origin_reason.clone(),
            family: findings.family.map(|f| f.as_str().to_string()),
            first_error_at: findings.first_error_at,
            suspect: d.suspect_deploy.or(d.suspect_change),
            confidence: d.confidence,
            hypotheses: d.hypotheses,
            evidence: d.evidence,
            changes_considered: cands.len(),
            unavailable,
        })
    }
}
