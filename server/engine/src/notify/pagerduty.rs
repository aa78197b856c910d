//! PagerDuty Events API v2: an escalation, or an approval nobody decided in time, pages the
//! owning team (the catalogue's `team` → `[notify.pagerduty.teams]`, else `routing_key`), with
//! one dedup key per incident so repeats fold into one PagerDuty alert; it is resolved when
//! the incident resolves. Whether an alert is open is kept in `notify_state`.

use super::{Channel, Notice, NotifyError, Outcome};
use crate::config::PagerDutyConfig;
use crate::store::Store;
use sentinel_model::{ApprovalOutcome, Priority};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

pub struct PagerDutyChannel {
    default_key: Option<String>,
    teams: BTreeMap<String, String>,
    url: String,
    http: reqwest::Client,
}

impl PagerDutyChannel {
    pub fn from_config(c: &PagerDutyConfig, http: reqwest::Client) -> Self {
        Self {
            default_key: c.routing_key.as_ref().map(|k| k.expose().to_string()),
            teams: c
                .teams
                .iter()
                .map(|(t, k)| (t.clone(), k.expose().to_string()))
                .collect(),
            url: c.events_url.clone().unwrap_or_else(|| EVENTS_URL.into()),
            http,
        }
    }

    fn routing_key(&self, team: &str) -> Option<&str> {
        self.teams
            .get(team)
            .or(self.default_key.as_ref())
            .map(String::as_str)
    }
}

/// The dedup key of an incident's PagerDuty alert.
pub fn dedup_key(incident_id: &str) -> String {
    format!("sentinel/{incident_id}")
}

/// PagerDuty's four severities.
pub fn severity(p: Option<Priority>) -> &'static str {
    match p {
        Some(Priority::P1) => "critical",
        Some(Priority::P2) => "error",
        Some(Priority::P3) => "warning",
        _ => "info",
    }
}

/// What to send for a notice, if anything: `(event_action, body)`.
pub fn event(n: &Notice, routing_key: &str) -> Option<(&'static str, Value)> {
    let r = &n.incident;
    let page = match n.event {
        "incident.escalated" => true,
        "incident.decided" => matches!(n.decision, Some((ApprovalOutcome::TimedOut, _, _))),
        "incident.resolved" => {
            return Some((
                "resolve",
                json!({ "routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key(&r.id) }),
            ));
        }
        _ => false,
    };
    if !page {
        return None;
    }
    let why = match (n.event, &n.reason) {
        ("incident.escalated", Some(reason)) => format!("escalated: {reason}"),
        ("incident.decided", _) => "the remediation approval timed out".to_string(),
        _ => "escalated".to_string(),
    };
    let summary: String = format!("[Sentinel] {} — {} ({why})", r.service, r.title)
        .chars()
        .take(1024)
        .collect();
    let d = r.report.diagnosis.as_ref();
    Some((
        "trigger",
        json!({
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": dedup_key(&r.id),
            "client": "Sentinel",
            "client_url": n.url,
            "payload": {
                "summary": summary,
                "source": r.service,
                "severity": severity(r.severity),
                "timestamp": n.at.to_rfc3339(),
                "component": r.service,
                "group": n.team,
                "class": d.map(|d| d.failure_class.to_string()),
                "custom_details": {
                    "incident_id": r.id,
                    "status": r.status.as_str(),
                    "reason": why,
                    "diagnosis": d.map(|d| d.summary.clone()),
                    "suspect": d.and_then(|d| d.suspect_deploy.clone().or(d.suspect_change.clone())),
                    "evidence": d.map(|d| d.evidence.clone()),
                },
            },
            "links": [{ "href": n.url, "text": "Sentinel incident" }],
        }),
    ))
}

#[async_trait::async_trait]
impl Channel for PagerDutyChannel {
    fn name(&self) -> &'static str {
        "pagerduty"
    }

    fn target(&self) -> String {
        super::host_of(&self.url)
    }

    fn wants(&self, event: &str) -> bool {
        matches!(
            event,
            "incident.escalated" | "incident.decided" | "incident.resolved"
        )
    }

    async fn deliver(&self, n: &Notice, store: &Store) -> Result<Outcome, NotifyError> {
        let state_err = |e: crate::store::StoreError| NotifyError::transient(e.to_string());
        // What was paged, and for which team: a resolve goes to the key that triggered, even if
        // the catalogue's team changed since.
        let paged = store
            .notify_state(&n.incident.id, "pagerduty")
            .await
            .map_err(state_err)?
            .and_then(|s| s.strip_prefix("triggered:").map(String::from));
        let open = paged.is_some();
        let team = paged.clone().unwrap_or_else(|| n.team.clone());
        // Nothing to send (or nothing new): no key is needed, and none is complained about.
        let Some((action, _)) = event(n, "") else {
            return Ok(Outcome::Skipped);
        };
        match (action, open) {
            ("resolve", false) => return Ok(Outcome::Skipped), // nothing was paged
            ("trigger", true) => return Ok(Outcome::Skipped),  // already paged for this incident
            _ => {}
        }
        let Some(key) = self.routing_key(&team) else {
            return Err(NotifyError::permanent(format!(
                "no routing key for team {team:?} and no default routing_key"
            )));
        };
        let Some((_, body)) = event(n, key) else {
            return Ok(Outcome::Skipped);
        };
        super::send(self.http.post(&self.url).json(&body)).await?;
        let state = if action == "trigger" {
            format!("triggered:{team}")
        } else {
            "resolved".to_string()
        };
        store
            .set_notify_state(&n.incident.id, "pagerduty", &state)
            .await
            .map_err(state_err)?;
        let team = if team.is_empty() { "default" } else { &team };
        Ok(Outcome::Sent(format!(
            "{action} for team {team}, dedup key {}",
            dedup_key(&n.incident.id)
        )))
    }
}
