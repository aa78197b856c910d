//! Metrics from the Prometheus HTTP API (Prometheus, VictoriaMetrics, Thanos, Mimir): a small
//! JSON client on the workspace's reqwest. For a service it discovers which metric names
//! exist under its selector (`label/__name__/values`), then reads the standard signals over
//! the window with `query_range`: request rate and error ratio from `http_requests_total`
//! (by `version` too when instances of several versions report), p99 latency from
//! `http_request_duration_seconds_bucket`, CPU and memory from the usual process and cAdvisor
//! names, and the service's connection and queue gauges; plus the service's own configured
//! queries. Every call has a timeout; points per series are bounded by the step.

use super::{MetricSample, MetricSource, TelemetryError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Most points one series may have (the step is chosen for the window).
pub const MAX_POINTS: i64 = 240;
/// Longest window read: an investigation looks at the hours before an alert, and a longer
/// window would only coarsen the step.
const MAX_WINDOW_HOURS: i64 = 12;
/// Most discovered gauge names read besides the standard signals.
const MAX_DISCOVERED: usize = 12;

/// What is known of a service: its label matchers and its own queries.
#[derive(Debug, Clone, Default)]
pub struct ServiceMetrics {
    /// Label matchers without braces: `service="checkout",env="prod"`.
    pub matchers: String,
    /// Extra signals: name → PromQL (`{{selector}}` is replaced by the service's matchers).
    pub queries: BTreeMap<String, String>,
}

pub struct PrometheusMetrics {
    client: reqwest::Client,
    base: String,
    bearer: Option<String>,
    services: BTreeMap<String, ServiceMetrics>,
}

#[derive(Deserialize)]
struct ApiResponse<T> {
    status: String,
    data: Option<T>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
}

#[derive(Deserialize)]
struct Matrix {
    #[serde(default)]
    result: Vec<RangeSeries>,
}

#[derive(Deserialize)]
struct RangeSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// The expression of a Prometheus `generatorURL` (`…/graph?g0.expr=<expr>&g0.tab=1`).
pub fn expr_from_generator_url(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == "g0.expr")
        .map(|(_, v)| v.trim().to_string())
        .filter(|e| !e.is_empty() && e.len() <= 4000)
}

/// The label matchers of a selector written `{a="b"}` or `a="b"`.
pub fn matchers_of(selector: &str) -> String {
    selector
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim()
        .to_string()
}

impl PrometheusMetrics {
    pub fn new(
        url: &str,
        bearer: Option<String>,
        client: reqwest::Client,
        services: BTreeMap<String, ServiceMetrics>,
    ) -> Result<Self, TelemetryError> {
        Ok(Self {
            client,
            base: url.trim_end_matches('/').to_string(),
            bearer,
            services: services
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
        })
    }

    fn service(&self, name: &str) -> ServiceMetrics {
        self.services
            .get(&name.to_lowercase())
            .cloned()
            .unwrap_or_else(|| ServiceMetrics {
                matchers: format!("service=\"{}\"", name.replace('"', "")),
                queries: BTreeMap::new(),
            })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, TelemetryError> {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .query(params);
        if let Some(t) = &self.bearer {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| TelemetryError::http("metrics backend", &self.base, e))?;
        let status = resp.status();
        let body: ApiResponse<T> = resp.json().await.map_err(|e| {
            TelemetryError::Backend(format!(
                "metrics backend answered {status} with an unreadable body: {}",
                e.without_url()
            ))
        })?;
        if body.status != "success" {
            return Err(TelemetryError::Backend(format!(
                "metrics query failed ({}): {}",
                body.error_type.unwrap_or_else(|| status.to_string()),
                body.error.unwrap_or_default()
            )));
        }
        body.data
            .ok_or_else(|| TelemetryError::Backend("metrics backend sent no data".into()))
    }

    /// The expression of the alerting rule named `alertname` (`/api/v1/rules?type=alert`), for
    /// an alert that arrived without its `generatorURL`.
    pub async fn rule_query(&self, alertname: &str) -> Result<Option<String>, TelemetryError> {
        #[derive(serde::Deserialize)]
        struct Rules {
            groups: Vec<Group>,
        }
        #[derive(serde::Deserialize)]
        struct Group {
            rules: Vec<Rule>,
        }
        #[derive(serde::Deserialize)]
        struct Rule {
            name: String,
            query: String,
            #[serde(rename = "type")]
            kind: String,
        }
        let rules: Rules = self
            .get("/api/v1/rules", &[("type", "alert".to_string())])
            .await?;
        Ok(rules
            .groups
            .into_iter()
            .flat_map(|g| g.rules)
            .find(|r| r.kind == "alerting" && r.name == alertname)
            .map(|r| r.query))
    }

    /// A `GET` of an endpoint that takes `match[]` and a window (labels, label values, series).
    async fn matched<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        matchers: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        extra: &[(&str, String)],
    ) -> Result<T, TelemetryError> {
        let mut params = vec![
            ("match[]", format!("{{{matchers}}}")),
            ("start", start.timestamp().to_string()),
            ("end", end.timestamp().to_string()),
        ];
        params.extend(extra.iter().cloned());
        self.get(path, &params).await
    }

    /// The metric names present under the service's matchers in the window.
    pub async fn names(
        &self,
        matchers: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, TelemetryError> {
        self.label_values("__name__", matchers, start, end)
            .await
            .map(|v| v.into_iter().collect())
    }

    /// The label names present under the matchers in the window (`/api/v1/labels`).
    pub async fn labels(
        &self,
        matchers: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, TelemetryError> {
        let names: Vec<String> = self
            .matched("/api/v1/labels", matchers, start, end, &[])
            .await?;
        Ok(names.into_iter().collect())
    }

    /// The metric names of the series under the matchers (`/api/v1/series`), for backends
    /// whose label-values endpoint ignores `match[]`; at most [`MAX_DISCOVERED_SERIES`] series
    /// are read.
    pub async fn series_names(
        &self,
        matchers: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, TelemetryError> {
        let limit = [("limit", MAX_DISCOVERED_SERIES.to_string())];
        let series: Vec<BTreeMap<String, String>> = self
            .matched("/api/v1/series", matchers, start, end, &limit)
            .await?;
        Ok(series
            .into_iter()
            .take(MAX_DISCOVERED_SERIES)
            .filter_map(|mut l| l.remove("__name__"))
            .collect())
    }

    /// The values of `label` under the matchers in the window.
    pub async fn label_values(
        &self,
        label: &str,
        matchers: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<String>, TelemetryError> {
        self.matched(
            &format!("/api/v1/label/{label}/values"),
            matchers,
            start,
            end,
            &[],
        )
        .await
    }

    /// `query_range` over the window at `step` seconds.
    pub async fn range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: i64,
    ) -> Result<Vec<(BTreeMap<String, String>, Vec<(DateTime<Utc>, f64)>)>, TelemetryError> {
        let m: Matrix = self
            .get(
                "/api/v1/query_range",
                &[
                    ("query", query.to_string()),
                    ("start", start.timestamp().to_string()),
                    ("end", end.timestamp().to_string()),
                    ("step", step.to_string()),
                ],
            )
            .await?;
        Ok(m.result
            .into_iter()
            .map(|s| {
                let pts = s
                    .values
                    .into_iter()
                    .filter_map(|(t, v)| {
                        let v: f64 = v.parse().ok()?;
                        let ts = DateTime::from_timestamp_millis((t * 1000.0) as i64)?;
                        v.is_finite().then_some((ts, v))
                    })
                    .collect();
                (s.metric, pts)
            })
            .collect())
    }
}

impl PrometheusMetrics {
    /// The configured services' names.
    pub fn service_names(&self) -> Vec<String> {
        self.services.keys().cloned().collect()
    }

    /// When each `version` of the service's instances first reported in the window, for the
    /// versions that appeared after another one was already reporting (the first version seen
    /// is where the history begins, not a change).
    pub async fn version_onsets(
        &self,
        service: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, TelemetryError> {
        let end = Utc::now();
        let start = since.max(end - chrono::Duration::hours(MAX_WINDOW_HOURS));
        let step = step_for((end - start).num_seconds().max(60));
        let m = self.service(service).matchers;
        let q = format!("count by (version) ({{{m},version!=\"\"}})");
        let firsts: Vec<(String, DateTime<Utc>)> = self
            .range(&q, start, end, step)
            .await?
            .into_iter()
            .filter_map(|(labels, pts)| Some((labels.get("version")?.clone(), pts.first()?.0)))
            .collect();
        // A version is new when another one reported before it: the first one seen is only
        // where the history begins.
        let Some(earliest) = firsts.iter().map(|f| f.1).min() else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for (v, t) in firsts {
            if t <= earliest + chrono::Duration::seconds(step * 2) {
                continue;
            }
            // The coarse step only says "by then": find the first 15 s at which it reported.
            let fine = format!(
                "count({{{m},version=\"{}\"}})",
                v.replace('\\', "\\\\").replace('"', "\\\"")
            );
            let from = t - chrono::Duration::seconds(step + 60);
            let at = self
                .range(&fine, from, t, 15)
                .await
                .ok()
                .and_then(|r| {
                    r.into_iter()
                        .filter_map(|(_, p)| p.first().map(|x| x.0))
                        .min()
                })
                .unwrap_or(t);
            out.push((v, at));
        }
        out.sort_by_key(|x| x.1);
        Ok(out)
    }
}

/// Most series the discovery fallback reads.
pub const MAX_DISCOVERED_SERIES: usize = 2000;

/// The standard signals for the names present: (signal name, PromQL, split label).
pub fn signals(
    m: &str,
    names: &BTreeSet<String>,
    versions: usize,
    rate: &str,
) -> Vec<(String, String, Option<&'static str>)> {
    let mut out: Vec<(String, String, Option<&'static str>)> = Vec::new();
    let has = |n: &str| names.contains(n);
    if has("http_requests_total") {
        let all = format!("sum(rate(http_requests_total{{{m}}}[{rate}]))");
        let errors = format!("sum(rate(http_requests_total{{{m},code=~\"5..\"}}[{rate}]))");
        out.push(("request_rate".into(), all.clone(), None));
        out.push((
            "error_ratio".into(),
            format!("({errors} or {all} * 0) / {all}"),
            None,
        ));
        if versions >= 2 {
            let all_v = format!("sum by (version) (rate(http_requests_total{{{m}}}[{rate}]))");
            let err_v = format!(
                "sum by (version) (rate(http_requests_total{{{m},code=~\"5..\"}}[{rate}]))"
            );
            out.push((
                "error_ratio".into(),
                format!("({err_v} or {all_v} * 0) / {all_v}"),
                Some("version"),
            ));
        }
    }
    if has("http_request_duration_seconds_bucket") {
        out.push((
            "latency_p99_seconds".into(),
            format!(
                "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{m}}}[{rate}])))"
            ),
            None,
        ));
    }
    if has("container_cpu_usage_seconds_total") {
        out.push((
            "cpu_cores".into(),
            format!("sum(rate(container_cpu_usage_seconds_total{{{m}}}[{rate}]))"),
            None,
        ));
    } else if has("process_cpu_seconds_total") {
        out.push((
            "cpu_cores".into(),
            format!("sum(rate(process_cpu_seconds_total{{{m}}}[{rate}]))"),
            None,
        ));
    }
    if has("container_memory_working_set_bytes") {
        out.push((
            "memory_working_set_bytes".into(),
            format!("sum(container_memory_working_set_bytes{{{m}}})"),
            None,
        ));
    } else if has("process_resident_memory_bytes") {
        out.push((
            "memory_rss_bytes".into(),
            format!("sum(process_resident_memory_bytes{{{m}}})"),
            None,
        ));
    }
    // Saturation gauges and counters the service exports (connections, pools, queues, heap).
    let standard = [
        "http_requests_total",
        "container_cpu_usage_seconds_total",
        "process_cpu_seconds_total",
        "container_memory_working_set_bytes",
        "process_resident_memory_bytes",
    ];
    let interesting = [
        "connection",
        "pool",
        "queue",
        "heap",
        "memory",
        "goroutine",
        "thread",
        "inflight",
        "in_flight",
        "pending",
        "backlog",
        "restart",
        "oom",
        "lag",
    ];
    for n in names
        .iter()
        .filter(|n| !standard.contains(&n.as_str()))
        .filter(|n| !n.ends_with("_bucket") && !n.ends_with("_sum") && !n.ends_with("_count"))
        .filter(|n| interesting.iter().any(|w| n.contains(w)))
        .take(MAX_DISCOVERED)
    {
        let q = if n.ends_with("_total") {
            format!("sum(rate({n}{{{m}}}[{rate}]))")
        } else {
            format!("sum({n}{{{m}}})")
        };
        out.push((n.clone(), q, None));
    }
    out
}

/// The query step (seconds) for a window: at most [`MAX_POINTS`] points, at least 15 s.
pub fn step_for(window_secs: i64) -> i64 {
    (window_secs / MAX_POINTS).max(15)
}

#[async_trait::async_trait]
impl MetricSource for PrometheusMetrics {
    async fn ping(&self) -> Result<(), TelemetryError> {
        let _: serde_json::Value = self
            .get("/api/v1/query", &[("query", "vector(1)".to_string())])
            .await?;
        Ok(())
    }

    async fn rule_expr(&self, alertname: &str) -> Result<Option<String>, TelemetryError> {
        self.rule_query(alertname).await
    }

    async fn expression(
        &self,
        service: &str,
        name: &str,
        expr: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError> {
        let end = Utc::now();
        let start = since.max(end - chrono::Duration::hours(MAX_WINDOW_HOURS));
        let step = step_for((end - start).num_seconds().max(60));
        let mut out = Vec::new();
        for (_, pts) in self
            .range(expr, start, end, step)
            .await?
            .into_iter()
            .take(5)
        {
            out.extend(pts.into_iter().map(|(ts, value)| MetricSample {
                ts,
                service: service.to_string(),
                metric: name.to_string(),
                value,
            }));
        }
        Ok(out)
    }

    async fn metrics(
        &self,
        service: Option<&str>,
        metric: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<MetricSample>, TelemetryError> {
        let end = Utc::now();
        let start = since.max(end - chrono::Duration::hours(MAX_WINDOW_HOURS));
        let services: Vec<String> = match service {
            Some(s) => vec![s.to_string()],
            None if !self.services.is_empty() => self.services.keys().cloned().collect(),
            None => {
                return Err(TelemetryError::Unavailable(
                    "metrics without a service (name one)".into(),
                ));
            }
        };
        let step = step_for((end - start).num_seconds().max(60));
        let rate = format!("{}s", (step * 4).max(60));
        let mut out = Vec::new();
        for svc in services {
            let sm = self.service(&svc);
            let mut names = self.names(&sm.matchers, start, end).await?;
            if names.is_empty() {
                // Some backends answer label values without honouring `match[]`; the series
                // endpoint always does.
                names = self
                    .series_names(&sm.matchers, start, end)
                    .await
                    .unwrap_or_default();
            }
            let has_version = names.contains("http_requests_total")
                && self
                    .labels(&sm.matchers, start, end)
                    .await
                    .map(|l| l.contains("version"))
                    .unwrap_or(true);
            let versions = if has_version {
                self.label_values("version", &sm.matchers, start, end)
                    .await
                    .map(|v| v.len())
                    .unwrap_or(0)
            } else {
                0
            };
            // When each version was last running: a version's rate-smoothed series goes on for
            // a rate window after its last instance stopped, which would read as "the old
            // version stayed healthy" next to a version that replaced it everywhere.
            let running_until: BTreeMap<String, DateTime<Utc>> = if versions >= 2 {
                let q = format!(
                    "count by (version) (http_requests_total{{{}}})",
                    sm.matchers
                );
                self.range(&q, start, end, step)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(labels, pts)| {
                        Some((labels.get("version")?.clone(), pts.last()?.0))
                    })
                    .collect()
            } else {
                BTreeMap::new()
            };
            let mut wanted = signals(&sm.matchers, &names, versions, &rate);
            for (name, q) in &sm.queries {
                wanted.push((name.clone(), q.replace("{{selector}}", &sm.matchers), None));
            }
            for (name, query, split) in wanted {
                if metric.is_some_and(|m| !name.to_lowercase().contains(&m.to_lowercase())) {
                    continue;
                }
                for (labels, pts) in self.range(&query, start, end, step).await? {
                    let metric_name = match split.and_then(|l| labels.get(l)) {
                        Some(v) => format!("{name}{{{}=\"{v}\"}}", split.unwrap_or_default()),
                        None => name.clone(),
                    };
                    let until = split
                        .and_then(|l| labels.get(l))
                        .and_then(|v| running_until.get(v))
                        .copied();
                    let pts = pts
                        .into_iter()
                        .filter(|(ts, _)| until.is_none_or(|u| *ts <= u));
                    out.extend(pts.map(|(ts, value)| MetricSample {
                        ts,
                        service: svc.clone(),
                        metric: metric_name.clone(),
                        value,
                    }));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_urls_give_the_rule_expression() {
        assert_eq!(
            expr_from_generator_url("http://prom:9090/graph?g0.expr=sum%28rate%28x%7Bcode%3D~%225..%22%7D%5B2m%5D%29%29+%3E+0.05&g0.tab=1").as_deref(),
            Some(r#"sum(rate(x{code=~"5.."}[2m])) > 0.05"#)
        );
        assert_eq!(expr_from_generator_url("http://prom.invalid/graph"), None);
        assert_eq!(expr_from_generator_url("not a url"), None);
    }

    #[test]
    fn selectors_lose_their_braces_and_steps_bound_the_points() {
        assert_eq!(
            matchers_of(r#" {service="a", env="p"} "#),
            r#"service="a", env="p""#
        );
        assert_eq!(step_for(3600), 15);
        assert_eq!(step_for(72 * 3600), 72 * 3600 / MAX_POINTS);
        assert!(72 * 3600 / step_for(72 * 3600) <= MAX_POINTS);
    }

    #[test]
    fn standard_signals_follow_the_names_present() {
        let names: BTreeSet<String> = [
            "http_requests_total",
            "http_request_duration_seconds_bucket",
            "process_resident_memory_bytes",
            "db_pool_connections_in_use",
            "unrelated_build_info",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let s = signals(r#"service="c""#, &names, 2, "60s");
        let names: Vec<&str> = s.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "request_rate",
                "error_ratio",
                "error_ratio",
                "latency_p99_seconds",
                "memory_rss_bytes",
                "db_pool_connections_in_use"
            ]
        );
        assert_eq!(s[2].2, Some("version"));
        assert!(s[1].1.contains(r#"code=~"5..""#), "{}", s[1].1);
        assert!(signals("x", &BTreeSet::new(), 0, "60s").is_empty());
    }
}
