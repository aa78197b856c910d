//! Scenario files (CONTRACTS.md §1): one self-contained incident with its telemetry and its
//! ground truth. Loading splits a scenario into what the agents may see ([`IncidentInput`]:
//! the alert and a telemetry source) and what only evaluation may see ([`GroundTruth`]).

mod load;

pub use load::*;

use crate::telemetry::{Change, Deploy, LogEntry, MetricSample, ScenarioTelemetry};
use chrono::{DateTime, Utc};
use sentinel_model::{Alert, AlertSeverity, ServiceName};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A scenario as written in its file (unknown fields are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    pub scenario_id: String,
    pub failure_class: String,
    #[serde(default)]
    pub description: String,
    pub alert: ScenarioAlert,
    pub known_root_cause: Option<KnownRootCause>,
    pub ground_truth: GroundTruth,
    pub logs: Vec<LogEntry>,
    pub deploys: Vec<Deploy>,
    #[serde(default)]
    pub metrics: Vec<MetricSample>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioAlert {
    pub source: String,
    pub service: String,
    pub metric: String,
    pub threshold: f64,
    pub current_value: f64,
    pub severity: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub fired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KnownRootCause {
    #[serde(rename = "type")]
    pub kind: String,
    pub deploy_id: Option<String>,
    pub commit: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// Evaluation-only truth. Never handed to agents, tools or policies.
#[derive(Debug, Clone, Deserialize)]
pub struct GroundTruth {
    pub severity: String,
    pub affected_service: String,
    pub root_cause_summary: String,
    pub recommended_action: String,
    pub deploy_id: Option<String>,
    #[serde(default)]
    pub change_id: Option<String>,
    #[serde(default)]
    pub root_cause_keywords: Vec<String>,
    /// Other actions that also count as solving it (evaluation only).
    #[serde(default)]
    pub acceptable_actions: Vec<String>,
    /// Actions that would do harm here, whatever they target (evaluation only).
    #[serde(default)]
    pub harmful_actions: Vec<String>,
}

/// What an investigation starts from: the alert and the telemetry the tools may read.
pub struct IncidentInput {
    pub alert: Alert,
    pub telemetry: ScenarioTelemetry,
}

impl Scenario {
    /// The alert as Sentinel normalises it; the time it fired defaults to the newest telemetry
    /// timestamp (the moment the scenario "happens").
    pub fn alert(&self) -> Result<Alert, sentinel_model::FieldError> {
        let a = &self.alert;
        let fired_at = a.fired_at.or_else(|| self.latest_ts());
        Ok(Alert {
            source: a.source.clone(),
            service: ServiceName::parse(&a.service)
                .map_err(|e| sentinel_model::FieldError::new("alert.service", e.message))?,
            metric: a.metric.clone(),
            threshold: a.threshold,
            current_value: a.current_value,
            severity: AlertSeverity::parse(&a.severity)?,
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            fired_at,
        })
    }

    fn latest_ts(&self) -> Option<DateTime<Utc>> {
        let logs = self.logs.iter().map(|l| l.ts);
        let deploys = self.deploys.iter().map(|d| d.ts);
        let metrics = self.metrics.iter().map(|m| m.ts);
        logs.chain(deploys).chain(metrics).max()
    }

    /// Splits off what the agents may see. Ground truth, known root cause and description stay
    /// behind.
    pub fn incident_input(&self) -> Result<IncidentInput, sentinel_model::FieldError> {
        let alert = self.alert()?;
        let now = alert.fired_at.unwrap_or_else(Utc::now);
        Ok(IncidentInput {
            telemetry: ScenarioTelemetry::new(
                now,
                self.logs.clone(),
                self.deploys.clone(),
                self.changes.clone(),
                self.metrics.clone(),
            ),
            alert,
        })
    }

    pub fn summary(&self) -> sentinel_model::ScenarioSummary {
        sentinel_model::ScenarioSummary {
            id: self.scenario_id.clone(),
            failure_class: self.failure_class.clone(),
            service: self.alert.service.clone(),
            metric: self.alert.metric.clone(),
            alert_severity: self.alert.severity.clone(),
        }
    }
}
