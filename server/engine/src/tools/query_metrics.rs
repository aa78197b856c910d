//! `query_metrics`: metric series with a summary (baseline, peak, last, trend).

use super::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Only this service (omit for all).
    #[serde(default)]
    pub service: Option<String>,
    /// Only this metric, e.g. request_rate, heap_used_mb, db_connections_active.
    #[serde(default)]
    pub metric: Option<String>,
    /// How far back, in hours (default 6).
    #[serde(default)]
    pub hours_back: Option<f64>,
}

/// One series per (service, metric), with its summary figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    pub series: Vec<SeriesSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeriesSummary {
    pub service: String,
    pub metric: String,
    pub samples: usize,
    /// Mean of the first third of the window.
    pub baseline: f64,
    pub peak: f64,
    pub last: f64,
    /// Peak over baseline (0 when the baseline is 0).
    pub growth_ratio: f64,
    pub monotonic_increase: bool,
    /// `[timestamp, value]` pairs, oldest first.
    pub points: Vec<(chrono::DateTime<chrono::Utc>, f64)>,
}

pub struct QueryMetrics;

/// The series name of the alert's own expression (its rule, from `generatorURL`).
pub const ALERT_SERIES: &str = "alert_symptom";

#[async_trait::async_trait]
impl Tool for QueryMetrics {
    const NAME: &'static str = "query_metrics";
    const DESCRIPTION: &'static str = "Query metric time series; each series comes with baseline (mean of its first third), peak, last value and growth ratio.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let since = since_hours(ctx, a.hours_back, 6.0);
        let mut samples = ctx
            .telemetry
            .metrics(a.service.as_deref(), a.metric.as_deref(), since)
            .await
            .map_err(|e| ToolError::Unavailable(e.to_string()))?;
        // The alert's own rule over the window, to see when it began to hold.
        let alerting = ctx.alert.service.as_str();
        if let Some(expr) = ctx.telemetry.alert_expression().await
            && a.service
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case(alerting))
            && a.metric
                .as_deref()
                .is_none_or(|m| ALERT_SERIES.contains(&m.to_lowercase()))
        {
            match ctx
                .telemetry
                .expression(alerting, ALERT_SERIES, &expr, since)
                .await
            {
                Ok(s) => samples.extend(s),
                Err(e) => tracing::warn!(error = %e, "the alert's expression could not be read"),
            }
        }
        let mut series: BTreeMap<(String, String), Vec<(chrono::DateTime<chrono::Utc>, f64)>> =
            BTreeMap::new();
        for s in samples {
            series
                .entry((s.service, s.metric))
                .or_default()
                .push((s.ts, s.value));
        }
        let out: Vec<_> = series
            .into_iter()
            .map(|((service, metric), pts)| {
                let n = pts.len();
                let third = (n / 3).max(1);
                let baseline = pts.iter().take(third).map(|p| p.1).sum::<f64>() / third as f64;
                let peak = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
                let last = pts.last().map(|p| p.1).unwrap_or_default();
                let growth = if baseline.abs() > f64::EPSILON {
                    peak / baseline
                } else {
                    0.0
                };
                SeriesSummary {
                    service,
                    metric,
                    samples: n,
                    baseline,
                    peak,
                    last,
                    growth_ratio: (growth * 100.0).round() / 100.0,
                    monotonic_increase: pts.windows(2).all(|w| w[1].1 >= w[0].1) && n >= 3,
                    points: pts,
                }
            })
            .collect();
        Ok(Output { series: out })
    }
}
