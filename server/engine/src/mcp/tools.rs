//! The tools the MCP server offers. Three are its own (incidents and starting an
//! investigation); the rest are the agents' read tools from the registry, the same typed code
//! and schemas the agents use, run against the configured connectors with "now" as the alert
//! time. The drafting tools and `request_human_approval` are not offered: over MCP nothing is
//! proposed or approved.

use crate::agents::RunOutcome;
use crate::scenario::ScenarioAlert;
use crate::service::Sentinel;
use crate::store::IncidentFilter;
use crate::telemetry::Telemetry;
use crate::tools::{Registry, schema_of};
use schemars::JsonSchema;
use sentinel_model::{Alert, AlertSeverity, IncidentStatus, ServiceName};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The agents' read tools offered as they are.
const READ_TOOLS: &[&str] = &[
    "get_service_metadata",
    "get_dependencies",
    "get_runbook",
    "search_past_incidents",
    "fetch_logs",
    "list_recent_deploys",
    "list_changes",
    "query_metrics",
    "correlate_changes",
    "metric_onsets",
];

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIncidents {
    /// open, investigating, awaiting_approval, resolved, escalated, failed (omit for all).
    #[serde(default)]
    pub status: Option<String>,
    /// Only incidents on this service.
    #[serde(default)]
    pub service: Option<String>,
    /// How many, newest first (1..=200, default 20).
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetIncident {
    /// The incident id (`inc-…`).
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvestigateAlert {
    /// The service the alert is about (a catalogue name such as payment-service).
    pub service: String,
    /// What fired, in a sentence (the alert's summary).
    pub summary: String,
    /// The metric the alert watches (default error_rate).
    #[serde(default)]
    pub metric: Option<String>,
    /// critical, high, warning or info (default high).
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub current_value: Option<f64>,
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Alert labels (alertname, env, team …).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

struct Own {
    name: &'static str,
    description: &'static str,
    schema: fn() -> Value,
}

const OWN: &[Own] = &[
    Own {
        name: "list_incidents",
        description: "List incidents, newest first, optionally by status and service: id, service, title, status, severity, when.",
        schema: schema_of::<ListIncidents>,
    },
    Own {
        name: "get_incident",
        description: "One incident's full report: triage, diagnosis with ranked hypotheses and evidence, the remediation plan and its approval state, the comms summary and the agents' trajectory.",
        schema: schema_of::<GetIncident>,
    },
    Own {
        name: "investigate_alert",
        description: "Open an incident for an alert and run Sentinel's agents on it with the configured telemetry; returns the diagnosis and the proposed remediation. A proposed production change is never carried out or approved here: it waits for a person in Sentinel's dashboard, CLI or API.",
        schema: schema_of::<InvestigateAlert>,
    },
];

/// Every tool, as `tools/list` describes it.
pub fn list() -> Vec<Value> {
    let mut out: Vec<Value> = OWN
        .iter()
        .map(|t| json!({ "name": t.name, "description": t.description, "inputSchema": (t.schema)() }))
        .collect();
    let registry = Registry::standard();
    for s in registry.specs(READ_TOOLS) {
        out.push(json!({
            "name": s.name,
            "description": s.description,
            "inputSchema": s.parameters,
            "annotations": { "readOnlyHint": true },
        }));
    }
    out
}

pub fn exists(name: &str) -> bool {
    OWN.iter().any(|t| t.name == name) || READ_TOOLS.contains(&name)
}

fn parse<T: serde::de::DeserializeOwned>(args: Value) -> Result<T, String> {
    let args = if args.is_null() { json!({}) } else { args };
    serde_json::from_value(args).map_err(|e| format!("invalid arguments: {e}"))
}

/// Runs one tool. `Err` is a message for the client (the tool's failure, not the protocol's).
pub async fn call(s: &Sentinel, name: &str, args: Value) -> Result<Value, String> {
    match name {
        "list_incidents" => list_incidents(s, parse(args)?).await,
        "get_incident" => get_incident(s, parse::<GetIncident>(args)?.id).await,
        "investigate_alert" => investigate(s, parse(args)?).await,
        read if READ_TOOLS.contains(&read) => read_tool(s, read, args).await,
        other => Err(format!("unknown tool: {other}")),
    }
}

async fn list_incidents(s: &Sentinel, a: ListIncidents) -> Result<Value, String> {
    let status = match a.status.as_deref().filter(|x| !x.is_empty()) {
        Some(x) => Some(IncidentStatus::parse(x).map_err(|e| format!("status: {e}"))?),
        None => None,
    };
    let limit = a.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err("limit: must be between 1 and 200".into());
    }
    let rows = s
        .store
        .list_incidents(&IncidentFilter {
            status,
            service: a.service.filter(|x| !x.is_empty()),
            limit: Some(limit),
        })
        .await
        .map_err(internal)?;
    Ok(json!({ "incidents": rows.iter().map(|r| r.summary()).collect::<Vec<_>>() }))
}

async fn get_incident(s: &Sentinel, id: String) -> Result<Value, String> {
    let d = s
        .incident_detail(&id)
        .await
        .map_err(internal)?
        .ok_or_else(|| format!("no incident {id}"))?;
    let mut v = serde_json::to_value(&d.report).map_err(internal)?;
    v["service"] = json!(d.summary.service);
    v["title"] = json!(d.summary.title);
    v["alert"] = serde_json::to_value(&d.alert).unwrap_or_default();
    v["pending_approval"] = serde_json::to_value(&d.pending_approval).unwrap_or_default();
    Ok(v)
}

async fn investigate(s: &Sentinel, a: InvestigateAlert) -> Result<Value, String> {
    if a.summary.trim().is_empty() {
        return Err("summary: must not be empty".into());
    }
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_string(), a.summary.clone());
    let alert = crate::ingest::generic::normalise(ScenarioAlert {
        source: "mcp".into(),
        service: a.service,
        metric: a.metric.unwrap_or_else(|| "error_rate".into()),
        threshold: a.threshold.unwrap_or(0.0),
        current_value: a.current_value.unwrap_or(0.0),
        severity: a.severity.unwrap_or_else(|| "high".into()),
        labels: a.labels,
        annotations,
        fired_at: Some(chrono::Utc::now()),
    })
    .map_err(|e| e.to_string())?;
    let id = s.open_incident(alert, None, None).await.map_err(internal)?;
    let outcome = s.run_incident(&id, None).await.map_err(internal)?;
    let note = match &outcome {
        RunOutcome::Suspended(_) => {
            "a production change is proposed and waits for a person's decision in Sentinel's dashboard, CLI or API (never over MCP)"
        }
        RunOutcome::Finished(_) => "the investigation finished",
        RunOutcome::Running => "another run of this incident is under way",
    };
    let mut v = get_incident(s, id.clone()).await?;
    v["incident_id"] = json!(id);
    v["note"] = json!(note);
    Ok(v)
}

/// An agent read tool on the configured connectors, "now" as the alert time.
async fn read_tool(s: &Sentinel, name: &str, args: Value) -> Result<Value, String> {
    let service = args
        .get("service")
        .and_then(Value::as_str)
        .and_then(|x| ServiceName::parse(x).ok())
        .or_else(|| ServiceName::parse("any-service").ok())
        .ok_or("service: not a service name")?;
    let now = chrono::Utc::now();
    let alert = Alert {
        source: "mcp".into(),
        service,
        metric: String::new(),
        threshold: 0.0,
        current_value: 0.0,
        severity: AlertSeverity::Info,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        fired_at: Some(now),
    };
    let ctx = s.tool_context_for(
        "mcp".into(),
        alert,
        Arc::new(Telemetry::from_connectors(now, &s.connectors)),
    );
    s.runner
        .registry
        .call(&ctx, name, args)
        .await
        .map(|o| o.value)
        .map_err(|e| e.to_string())
}

fn internal(e: impl std::fmt::Display) -> String {
    tracing::warn!(error = %e, "mcp tool failed");
    "internal error (details in the server log)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_offers_reads_and_never_a_decision() {
        let names: Vec<String> = list()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        for want in [
            "list_incidents",
            "get_incident",
            "investigate_alert",
            "fetch_logs",
            "query_metrics",
            "search_past_incidents",
            "get_runbook",
        ] {
            assert!(
                names.contains(&want.to_string()),
                "{want} missing: {names:?}"
            );
        }
        assert!(
            !names
                .iter()
                .any(|n| n.contains("approval") || n.starts_with("draft_"))
        );
        for t in list() {
            assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        }
    }
}
