//! Reading an incident's trajectory: the successful results of one tool, and the deploys and
//! changes the investigation listed. Shared by the incident page (charts, changes, signatures)
//! and the postmortem draft, so they agree on what the agents saw.

use crate::{RunEvent, RunEventKind};
use chrono::{DateTime, Utc};

/// The results of every successful call of `tool`, in log order.
pub fn tool_results<'a>(
    events: &'a [RunEvent],
    tool: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> + 'a {
    events.iter().filter_map(move |e| match &e.kind {
        RunEventKind::ToolResult {
            tool: t,
            ok: true,
            result,
            ..
        } if t == tool => Some(result),
        _ => None,
    })
}

/// A deploy or change the investigation listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedChange {
    pub id: String,
    /// `deploy`, `config`, `feature_flag`, …
    pub kind: String,
    pub service: String,
    pub ts: DateTime<Utc>,
    pub description: String,
}

/// Every deploy and change in the `list_recent_deploys` / `list_changes` results, once each
/// (by id), in the order first listed.
pub fn listed_changes(events: &[RunEvent]) -> Vec<ListedChange> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (tool, key) in [
        ("list_recent_deploys", "deploys"),
        ("list_changes", "changes"),
    ] {
        for result in tool_results(events, tool) {
            for item in result
                .get(key)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let s = |k: &str| item.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                let Ok(ts) = DateTime::parse_from_rfc3339(s("ts")) else {
                    continue;
                };
                if !seen.insert(s("id").to_string()) {
                    continue;
                }
                out.push(ListedChange {
                    id: s("id").to_string(),
                    kind: if s("kind").is_empty() {
                        "deploy"
                    } else {
                        s("kind")
                    }
                    .to_string(),
                    service: s("service").to_string(),
                    ts: ts.with_timezone(&Utc),
                    description: s("description").to_string(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AgentRole;
    use serde_json::json;

    fn result(tool: &str, ok: bool, result: serde_json::Value) -> RunEvent {
        RunEvent {
            seq: 1,
            incident_id: "inc-1".into(),
            ts: Utc::now(),
            agent: AgentRole::DeployCorrelator,
            kind: RunEventKind::ToolResult {
                call_id: "c".into(),
                tool: tool.into(),
                ok,
                ms: 1.0,
                result,
            },
        }
    }

    #[test]
    fn listed_changes_are_read_once_each_from_successful_results() {
        let d = |id: &str, ts: &str| json!({ "id": id, "service": "api", "ts": ts, "description": "x" });
        let events = vec![
            result(
                "list_recent_deploys",
                true,
                json!({ "deploys": [d("dep-1", "2026-03-03T09:00:00Z"), d("dep-2", "not a time")] }),
            ),
            result(
                "list_recent_deploys",
                true,
                json!({ "deploys": [d("dep-1", "2026-03-03T09:00:00Z")] }),
            ),
            result(
                "list_changes",
                false,
                json!({ "changes": [d("chg-9", "2026-03-03T09:05:00Z")] }),
            ),
            result(
                "list_changes",
                true,
                json!({ "changes": [{ "id": "chg-1", "kind": "config", "service": "api", "ts": "2026-03-03T09:01:00Z" }] }),
            ),
        ];
        let got = listed_changes(&events);
        let ids: Vec<_> = got
            .iter()
            .map(|c| (c.id.as_str(), c.kind.as_str()))
            .collect();
        assert_eq!(ids, [("dep-1", "deploy"), ("chg-1", "config")]);
        assert_eq!(
            tool_results(&events, "list_changes").count(),
            1,
            "failed calls are not results"
        );
    }
}
