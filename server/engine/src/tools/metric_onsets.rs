//! `metric_onsets`: the engine's reading of a service's metrics as a tool — when its symptoms
//! turned (change points, more sensitive than a threshold), whether the offered load surged
//! with them, whether they are back at baseline, and per series (including series split by a
//! `version` or flag label, the version split) when it changed.

use super::*;
use crate::agents::builtin::deploy_correlator;
use crate::engine::trend::Picture;
use crate::tools::query_metrics;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    pub service: String,
    /// How far back, in hours (default 6).
    #[serde(default)]
    pub hours_back: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    /// When the first health symptom left its baseline (threshold-free change point).
    #[schemars(with = "Option<String>")]
    pub symptoms_changed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A surge of offered load that began with the symptoms: metric, growth, onset.
    pub surge: Option<SurgeOut>,
    /// Every symptom that went bad is back at its baseline.
    pub recovered: bool,
    pub series: Vec<SeriesOnset>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SurgeOut {
    pub metric: String,
    pub growth: f64,
    #[schemars(with = "String")]
    pub onset: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeriesOnset {
    /// The series name with its labels (`error_rate{version="2.4.1"}`).
    pub metric: String,
    pub baseline: f64,
    pub last: f64,
    /// When it left its baseline, if it did.
    #[schemars(with = "Option<String>")]
    pub changed_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub struct MetricOnsets;

#[async_trait::async_trait]
impl Tool for MetricOnsets {
    const NAME: &'static str = "metric_onsets";
    const DESCRIPTION: &'static str = "When a service's metrics changed: the change point of its symptoms, a coincident surge of load, whether it recovered, and per series (also per version or flag label) its baseline, last value and change point. Compare these times with deploy and change times.";
    type Args = Args;
    type Output = Output;

    async fn call(&self, ctx: &ToolContext, a: Args) -> Result<Output, ToolError> {
        let hours = a.hours_back.unwrap_or(6.0);
        let m = query_metrics::QueryMetrics
            .call(
                ctx,
                parse_args(serde_json::json!({ "service": a.service, "hours_back": hours }))?,
            )
            .await?;
        let picture = Picture::new(deploy_correlator::series_of(&m));
        Ok(Output {
            symptoms_changed_at: picture.change_point,
            surge: picture
                .coincident_surge(crate::engine::params::P.surge_factor)
                .map(|s| SurgeOut {
                    metric: s.metric.clone(),
                    growth: (s.growth * 100.0).round() / 100.0,
                    onset: s.onset,
                }),
            recovered: picture.recovered,
            series: m
                .series
                .iter()
                .map(|s| SeriesOnset {
                    metric: s.metric.clone(),
                    baseline: s.baseline,
                    last: s.last,
                    changed_at: picture.change_point_of(&s.metric),
                })
                .collect(),
        })
    }
}
