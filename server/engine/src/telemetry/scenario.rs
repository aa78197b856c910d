//! Telemetry backed by a scenario file's recorded logs, deploys, changes and metrics.

use super::*;

pub struct ScenarioTelemetry {
    now: DateTime<Utc>,
    logs: Vec<LogEntry>,
    deploys: Vec<Deploy>,
    changes: Vec<Change>,
    metrics: Vec<MetricSample>,
}

impl ScenarioTelemetry {
    pub fn new(
        now: DateTime<Utc>,
        mut logs: Vec<LogEntry>,
        deploys: Vec<Deploy>,
        changes: Vec<Change>,
        metrics: Vec<MetricSample>,
    ) -> Self {
        logs.sort_by_key(|l| l.ts);
        Self {
            now,
            logs,
            deploys,
            changes,
            metrics,
        }
    }
}

fn same_service(filter: Option<&str>, service: &str) -> bool {
    filter.is_none_or(|f| f.eq_ignore_ascii_case(service))
}

impl ScenarioTelemetry {
    /// When the scenario's alert fired.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
}

#[async_trait::async_trait]
impl LogSource for ScenarioTelemetry {
    async fn logs(&self, q: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError> {
        let keyword = q.keyword.as_ref().map(|k| k.to_lowercase());
        Ok(self
            .logs
            .iter()
            .filter(|l| same_service(q.service.as_deref(), &l.service))
            .filter(|l| q.since.is_none_or(|s| l.ts >= s))
            .filter(|l| q.until.is_none_or(|u| l.ts <= u))
            .filter(|l| q.min_level.is_none_or(|m| l.level >= m))
            .filter(|l| {
                keyword
                    .as_ref()
                    .is_none_or(|k| l.message.to_lowercase().contains(k))
            })
            .cloned()
            .collect())
    }
}

#[async_trait::async_trait]
impl ChangeSource for ScenarioTelemetry {
    async fn deploys(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Deploy>, TelemetryError> {
        let mut v: Vec<Deploy> = self
            .deploys
            .iter()
            .filter(|d| same_service(service, &d.service) && d.ts >= since)
            .cloned()
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.ts));
        Ok(v)
    }

    async fn changes(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Change>, TelemetryError> {
        let mut v: Vec<Change> = self
            .changes
            .iter()
            .filter(|c| same_service(service, &c.service) && c.ts >= since)
            .cloned()
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.ts));
        Ok(v)
    }
}

#[async_trait::async_trait]
impl MetricSource for ScenarioTelemetry {
    async fn metrics(
        &self,
        service: Option<&str>,
        metric: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError> {
        let mut v: Vec<MetricSample> = self
            .metrics
            .iter()
            .filter(|m| same_service(service, &m.service) && m.ts >= since)
            .filter(|m| metric.is_none_or(|x| m.metric.eq_ignore_ascii_case(x)))
            .cloned()
            .collect();
        v.sort_by_key(|m| m.ts);
        Ok(v)
    }
}
