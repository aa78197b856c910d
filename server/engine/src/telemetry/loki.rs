//! Logs from Loki (`[logs] kind = "loki"`): LogQL `query_range` with a stream selector per
//! service (`[services.<name>] log_selector`, default `{service="<name>"}`), a case-insensitive
//! line filter for a keyword, a limit and direction `backward` (the newest lines, closest to
//! the alert). Each line is read like a file's line (JSON, logfmt, text) for its level and
//! message; the service is the stream's `service`/`app`/`job` label. Every call has a timeout.

use super::files::parse_line;
use super::{LogEntry, LogLevel, LogQuery, LogSource, TelemetryError};
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most lines asked of Loki per query.
pub const LIMIT: usize = 5000;

pub struct LokiLogs {
    client: reqwest::Client,
    base: String,
    bearer: Option<String>,
    /// Service (lowercase) → stream selector.
    selectors: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Resp {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    result: Vec<Stream>,
}

#[derive(Deserialize)]
struct Stream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(String, String)>,
}

/// A LogQL string literal.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl LokiLogs {
    pub fn new(
        url: &str,
        bearer: Option<String>,
        client: reqwest::Client,
        selectors: BTreeMap<String, String>,
    ) -> Result<Self, TelemetryError> {
        Ok(Self {
            client,
            base: url.trim_end_matches('/').to_string(),
            bearer,
            selectors: selectors
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
        })
    }

    /// The LogQL query for a log query.
    pub fn logql(&self, q: &LogQuery) -> String {
        let selector = match &q.service {
            Some(s) => self
                .selectors
                .get(&s.to_lowercase())
                .cloned()
                .unwrap_or_else(|| format!("{{service={}}}", quote(s))),
            None => "{service=~\".+\"}".to_string(),
        };
        match &q.keyword {
            Some(k) if !k.trim().is_empty() => {
                format!(
                    "{selector} |~ {}",
                    quote(&format!("(?i){}", regex_escape(k)))
                )
            }
            _ => selector,
        }
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

/// The entries of a `query_range` answer (streams), filtered by level, oldest first.
pub fn entries(body: &str, q: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError> {
    let r: Resp = serde_json::from_str(body).map_err(|e| {
        TelemetryError::Backend(format!("logs backend sent an unreadable body: {e}"))
    })?;
    if r.status != "success" {
        return Err(TelemetryError::Backend(format!(
            "logs query failed: {}",
            r.error.unwrap_or_default()
        )));
    }
    let mut out = Vec::new();
    for s in r.data.map(|d| d.result).unwrap_or_default() {
        let service = ["service", "app", "service_name", "job"]
            .iter()
            .find_map(|k| s.stream.get(*k).cloned())
            .or_else(|| q.service.clone())
            .unwrap_or_default();
        let stream_level = ["level", "detected_level", "severity"]
            .iter()
            .find_map(|k| s.stream.get(*k).and_then(|l| LogLevel::parse(l)));
        for (ns, line) in s.values {
            let ts = ns
                .parse::<i64>()
                .ok()
                .map(DateTime::<Utc>::from_timestamp_nanos);
            // Loki's own timestamp gives a klog line its missing year.
            let year = ts.unwrap_or_else(Utc::now).year();
            let parsed = parse_line(&line, super::files::Clock::utc(year));
            let Some(ts) = ts.or_else(|| parsed.as_ref().map(|p| p.ts)) else {
                continue;
            };
            let (level, message, trace_id) = match parsed {
                Some(p) => (stream_level.unwrap_or(p.level), p.message, p.trace_id),
                None => (
                    stream_level.unwrap_or(LogLevel::INFO),
                    line.trim().to_string(),
                    None,
                ),
            };
            if q.min_level.is_some_and(|m| level < m) {
                continue;
            }
            out.push(LogEntry {
                ts,
                level,
                service: service.clone(),
                message: message.chars().take(2000).collect(),
                trace_id,
            });
        }
    }
    out.sort_by_key(|e| e.ts);
    Ok(out)
}

#[async_trait::async_trait]
impl LogSource for LokiLogs {
    async fn logs(&self, q: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError> {
        let end = q.until.unwrap_or_else(Utc::now);
        let start = q.since.unwrap_or(end - chrono::Duration::hours(6));
        let nanos = |t: DateTime<Utc>| t.timestamp_nanos_opt().unwrap_or_default().to_string();
        let mut req = self
            .client
            .get(format!("{}/loki/api/v1/query_range", self.base))
            .query(&[
                ("query", self.logql(q)),
                ("start", nanos(start)),
                ("end", nanos(end)),
                ("limit", LIMIT.to_string()),
                ("direction", "backward".to_string()),
            ]);
        if let Some(t) = &self.bearer {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| TelemetryError::http("logs backend", &self.base, e))?;
        let body = resp
            .text()
            .await
            .map_err(|e| TelemetryError::Backend(format!("logs backend: {}", e.without_url())))?;
        entries(&body, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_use_the_service_selector_and_an_escaped_keyword() {
        let l = LokiLogs::new(
            "http://loki:3100/",
            None,
            crate::telemetry::http_client(std::time::Duration::from_secs(1), vec![]).unwrap(),
            BTreeMap::from([(
                "Checkout".to_string(),
                "{app=\"checkout\",env=\"prod\"}".to_string(),
            )]),
        )
        .unwrap();
        let q = LogQuery {
            service: Some("checkout".into()),
            keyword: Some("pool (exhausted)".into()),
            ..Default::default()
        };
        assert_eq!(
            l.logql(&q),
            r#"{app="checkout",env="prod"} |~ "(?i)pool \\(exhausted\\)""#
        );
        let other = LogQuery {
            service: Some("sea\"rch".into()),
            ..Default::default()
        };
        assert_eq!(l.logql(&other), r#"{service="sea\"rch"}"#);
    }
}
