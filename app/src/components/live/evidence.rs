//! The evidence behind a diagnosis: the ranked hypotheses with what speaks for and against
//! each, and the deploys and changes the investigation saw on a timeline against the first
//! error and the alert.

use crate::components::common::fmt_time;
use crate::model::*;
use chrono::{DateTime, Utc};
use leptos::prelude::*;

#[component]
pub fn Hypotheses(report: RunReport) -> impl IntoView {
    let hyps = report
        .diagnosis
        .as_ref()
        .map(|d| d.hypotheses.clone())
        .unwrap_or_default();
    (!hyps.is_empty()).then(|| {
        view! {
            <section class="panel" data-testid="hypotheses">
                <h3>"Hypotheses"</h3>
                <table class="table hypotheses">
                    <thead><tr><th>"#"</th><th>"Explanation"</th><th>"Score"</th><th>"For"</th><th>"Against"</th></tr></thead>
                    <tbody>
                        {hyps.into_iter().enumerate().map(|(i, h)| {
                            let class = if h.exonerated { "exonerated" } else if i == 0 && h.explains { "leading" } else { "" };
                            view! {
                                <tr data-testid="hypothesis" class=class>
                                    <td>{i + 1}</td>
                                    <td>
                                        <span class="badge">{h.kind.replace('_', " ")}</span>" "
                                        <span class="mono">{h.target.clone().unwrap_or_default()}</span>
                                        {h.exonerated.then(|| view! { " " <span class="badge exonerated-badge" data-testid="exonerated">"exonerated"</span> })}
                                    </td>
                                    <td>{format!("{:.2}", h.score)}</td>
                                    <td><ul>{h.evidence_for.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul></td>
                                    <td><ul>{h.against.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    })
}

/// One deploy or change the agents listed, or a moment of the incident.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mark {
    pub(crate) ts: DateTime<Utc>,
    pub(crate) label: String,
    pub(crate) detail: String,
    pub(crate) kind: &'static str,
}

/// The deploys and changes from the trajectory's `list_recent_deploys` / `list_changes`
/// results, with the first error and the alert, in time order.
pub(crate) fn marks(
    report: &RunReport,
    events: &[RunEvent],
    fired_at: Option<DateTime<Utc>>,
) -> Vec<Mark> {
    let mut out: Vec<Mark> = listed_changes(events)
        .into_iter()
        .map(|c| Mark {
            ts: c.ts,
            label: format!("{} {} on {}", c.kind, c.id, c.service),
            detail: c.description.chars().take(160).collect(),
            kind: "change",
        })
        .collect();
    if let Some(t) = report.diagnosis.as_ref().and_then(|d| d.first_error_at) {
        out.push(Mark {
            ts: t,
            label: "first error".into(),
            detail: String::new(),
            kind: "first-error",
        });
    }
    if let Some(t) = fired_at {
        out.push(Mark {
            ts: t,
            label: "alert fired".into(),
            detail: String::new(),
            kind: "alert",
        });
    }
    out.sort_by_key(|m| m.ts);
    out
}

#[component]
pub fn IncidentChanges(
    report: RunReport,
    events: Vec<RunEvent>,
    fired_at: Option<DateTime<Utc>>,
) -> impl IntoView {
    let culprit = report
        .diagnosis
        .as_ref()
        .and_then(|d| d.suspect_deploy.clone().or(d.suspect_change.clone()));
    let list = marks(&report, &events, fired_at);
    let any_change = list.iter().any(|m| m.kind == "change");
    any_change.then(|| {
        view! {
            <section class="panel" data-testid="incident-changes">
                <h3>"Changes before the alert"</h3>
                <ol class="change-timeline">
                    {list.into_iter().map(|m| {
                        let is_culprit = culprit.as_ref().is_some_and(|c| m.label.contains(&format!(" {c} ")));
                        view! {
                            <li class=format!("mark {}{}", m.kind, if is_culprit { " culprit" } else { "" })
                                data-testid=if m.kind == "change" { "incident-change" } else { "incident-moment" }>
                                <span class="when">{fmt_time(m.ts)}</span>" "
                                <b>{m.label.clone()}</b>
                                {is_culprit.then(|| view! { " " <span class="badge culprit-badge" data-testid="culprit-mark">"suspect"</span> })}
                                {(!m.detail.is_empty()).then(|| view! { <span class="muted">" — "{m.detail.clone()}</span> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </section>
        }
    })
}

/// One kind of log line the log analyst read, merged over its `fetch_logs` calls.
#[derive(Debug, Clone, PartialEq)]
struct Signature {
    example: String,
    count: u64,
    level: String,
    services: Vec<String>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

fn signatures(events: &[RunEvent]) -> Vec<Signature> {
    let mut out: Vec<Signature> = Vec::new();
    let ts = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_str())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    for result in tool_results(events, "fetch_logs") {
        for s in result
            .get("signatures")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let example = s
                .get("example")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            if example.is_empty() {
                continue;
            }
            let sig = Signature {
                count: s.get("count").and_then(|v| v.as_u64()).unwrap_or(0),
                level: s
                    .get("level")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                services: s
                    .get("services")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                first: ts(s.get("first_seen")),
                last: ts(s.get("last_seen")),
                example,
            };
            // The same kind read twice (two calls over overlapping windows): keep the fuller.
            match out.iter_mut().find(|o| o.example == sig.example) {
                Some(o) if o.count < sig.count => *o = sig,
                Some(_) => {}
                None => out.push(sig),
            }
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.count));
    out.truncate(15);
    out
}

/// The log signatures the log analyst read: count, level, services, first and last seen, one
/// sample line (absent when no logs were read).
#[component]
pub fn LogSignatures(events: Vec<RunEvent>) -> impl IntoView {
    let list = signatures(&events);
    (!list.is_empty()).then(|| {
        view! {
            <section class="panel" data-testid="log-signatures">
                <h3>"Log signatures"</h3>
                <table class="table signatures">
                    <thead><tr><th>"Count"</th><th>"Level"</th><th>"Services"</th><th>"First seen"</th><th>"Last seen"</th><th>"Sample"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|s| view! {
                            <tr data-testid="log-signature">
                                <td>{s.count}</td>
                                <td>{s.level}</td>
                                <td>{s.services.join(", ")}</td>
                                <td>{s.first.map(fmt_time).unwrap_or_default()}</td>
                                <td>{s.last.map(fmt_time).unwrap_or_default()}</td>
                                <td class="mono">{s.example}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    })
}
