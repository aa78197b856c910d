//! The postmortem draft: a Markdown document written from what the incident recorded — its
//! alert, report and event log — so the on-call engineer starts from facts instead of a blank
//! page. One pure function, used by the incident page (shown, copied, downloaded), `sentinel
//! postmortem <id>`, `GET /api/incidents/:id/postmortem` and the incident's memory entry.

use crate::*;
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// One row of the timeline.
struct Row {
    ts: DateTime<Utc>,
    what: String,
}

/// The deploys and changes the investigation listed, as timeline rows.
fn changes(events: &[RunEvent]) -> Vec<Row> {
    listed_changes(events)
        .into_iter()
        .map(|c| {
            let desc: String = c.description.chars().take(160).collect();
            Row {
                ts: c.ts,
                what: format!(
                    "{} `{}` on {}{}",
                    c.kind,
                    c.id,
                    c.service,
                    if desc.is_empty() {
                        String::new()
                    } else {
                        format!(": {desc}")
                    }
                ),
            }
        })
        .collect()
}

fn minutes(a: DateTime<Utc>, b: DateTime<Utc>) -> String {
    let m = (b - a).num_seconds().max(0) as f64 / 60.0;
    if m < 1.0 {
        format!("{:.0} s", m * 60.0)
    } else if m < 120.0 {
        format!("{m:.0} min")
    } else {
        format!("{:.1} h", m / 60.0)
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The draft. `detail` is the incident as stored, `events` its whole log in order.
pub fn postmortem(detail: &IncidentDetail, events: &[RunEvent]) -> String {
    let s = &detail.summary;
    let r = &detail.report;
    let a = &detail.alert;
    let d = r.diagnosis.as_ref();
    let rem = r.remediation.as_ref();
    let mut out = String::new();
    let _ = writeln!(out, "# Postmortem (draft): {}", s.title);
    let _ = writeln!(
        out,
        "\n*Incident `{}` · {} · {} · {} — drafted by Sentinel from the incident's record; check and edit before publishing.*",
        s.incident_id,
        s.service,
        s.severity
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unprioritised".into()),
        s.status.as_str()
    );

    // Summary.
    let _ = writeln!(out, "\n## Summary\n");
    match d {
        Some(d) => {
            let _ = writeln!(out, "{}", d.summary);
        }
        None => {
            let _ = writeln!(out, "No diagnosis was reached.");
        }
    }
    if let Some(m) = rem {
        let who = m
            .decided_by
            .as_deref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\nProposed remediation: **{}** {} — {}{who}.",
            m.action.as_str(),
            m.target
                .as_deref()
                .map(|t| format!("`{t}`"))
                .unwrap_or_default(),
            m.approval.as_str()
        );
    }
    let ended = events.iter().rev().find_map(|e| match &e.kind {
        RunEventKind::IncidentResolved { .. } => Some((e.ts, "resolved")),
        RunEventKind::IncidentEscalated { .. } => Some((e.ts, "escalated")),
        RunEventKind::IncidentFailed { .. } => Some((e.ts, "failed")),
        _ => None,
    });

    // Impact.
    let _ = writeln!(out, "\n## Impact\n");
    let _ = writeln!(
        out,
        "- Alert: `{}` on {} at {} against a threshold of {} ({}, from {}).",
        a.metric, a.service, a.current_value, a.threshold, a.severity, a.source
    );
    if let Some(t) = d.and_then(|d| d.first_error_at) {
        let _ = writeln!(out, "- First error: {} UTC.", t.format("%Y-%m-%d %H:%M:%S"));
    }
    if let Some(t) = a.fired_at {
        let _ = writeln!(out, "- Alert fired: {} UTC.", t.format("%Y-%m-%d %H:%M:%S"));
    }
    let opened = events
        .iter()
        .find_map(|e| matches!(e.kind, RunEventKind::IncidentOpened { .. }).then_some(e.ts));
    match (opened, ended) {
        (Some(o), Some((t, how))) => {
            let _ = writeln!(
                out,
                "- Opened by Sentinel {} UTC; {how} {} UTC, {} later.",
                o.format("%Y-%m-%d %H:%M:%S"),
                t.format("%Y-%m-%d %H:%M:%S"),
                minutes(o, t)
            );
        }
        (_, Some((t, how))) => {
            let _ = writeln!(out, "- {how} {} UTC.", t.format("%Y-%m-%d %H:%M:%S"));
        }
        _ => {
            let _ = writeln!(out, "- Not over yet (status {}).", s.status.as_str());
        }
    }
    if let Some(t) = r.triage.as_ref() {
        let tier = t.tier.map(|t| format!(", tier {t}")).unwrap_or_default();
        let _ = writeln!(out, "- Priority {}{tier}: {}", t.severity, t.rationale);
    }
    if s.alert_count > 1 {
        let _ = writeln!(out, "- The alert fired {} times.", s.alert_count);
    }

    // Timeline.
    let mut rows = changes(events);
    if let Some(t) = d.and_then(|d| d.first_error_at) {
        rows.push(Row {
            ts: t,
            what: "first error".into(),
        });
    }
    if let Some(t) = a.fired_at {
        rows.push(Row {
            ts: t,
            what: format!("alert fired: {} on {}", a.metric, a.service),
        });
    }
    let mut notified =
        std::collections::BTreeMap::<(String, String), (DateTime<Utc>, String)>::new();
    for e in events {
        let what = match &e.kind {
            RunEventKind::IncidentOpened { .. } => Some("incident opened by Sentinel".to_string()),
            RunEventKind::AgentCompleted { summary, .. } => {
                Some(format!("{}: {}", e.agent.title(), summary))
            }
            RunEventKind::AgentFellBack { model, reason } => Some(format!(
                "{}: {model} failed ({reason}); the built-in engine took over",
                e.agent.title()
            )),
            RunEventKind::ApprovalRequested { approval } => Some(format!(
                "approval requested: {} {}",
                approval.action,
                approval.target.as_deref().unwrap_or("")
            )),
            RunEventKind::ApprovalDecided {
                outcome,
                by,
                comment,
            } => Some(format!(
                "**{} by {by}**{}",
                outcome.as_str(),
                if comment.is_empty() {
                    String::new()
                } else {
                    format!(": {comment}")
                }
            )),
            RunEventKind::IncidentResolved { summary } => Some(format!("resolved: {summary}")),
            RunEventKind::IncidentEscalated { reason } => Some(format!("escalated: {reason}")),
            RunEventKind::IncidentFailed { error } => Some(format!("failed: {error}")),
            RunEventKind::AlertResolved { note } => {
                Some(format!("alert resolved at its source: {note}"))
            }
            RunEventKind::Notified {
                channel,
                target,
                outcome,
                ..
            } => {
                // One line per channel and target: the last outcome.
                notified.insert((channel.clone(), target.clone()), (e.ts, outcome.clone()));
                None
            }
            _ => None,
        };
        if let Some(what) = what {
            rows.push(Row { ts: e.ts, what });
        }
    }
    for ((channel, target), (ts, outcome)) in notified {
        rows.push(Row {
            ts,
            what: format!("notified {channel} ({target}): {outcome}"),
        });
    }
    rows.sort_by_key(|r| r.ts);
    let _ = writeln!(out, "\n## Timeline (UTC)\n\n| time | what |\n|---|---|");
    for row in &rows {
        let _ = writeln!(
            out,
            "| {} | {} |",
            row.ts.format("%Y-%m-%d %H:%M:%S"),
            cell(&row.what)
        );
    }

    // Root cause.
    let _ = writeln!(out, "\n## Root cause\n");
    match d {
        Some(d) => {
            let suspect = d.suspect_deploy.as_ref().or(d.suspect_change.as_ref());
            let _ = writeln!(
                out,
                "{} ({:.0}% confidence){}{}.",
                d.failure_class,
                d.confidence * 100.0,
                suspect
                    .map(|s| format!(", caused by `{s}`"))
                    .unwrap_or_default(),
                d.origin_service
                    .as_ref()
                    .filter(|o| **o != s.service)
                    .map(|o| format!(", originating in {o}"))
                    .unwrap_or_default()
            );
            if !d.evidence.is_empty() {
                let _ = writeln!(out, "\nEvidence:\n");
                for e in &d.evidence {
                    let _ = writeln!(out, "- {e}");
                }
            }
            let others: Vec<_> = d.hypotheses.iter().skip(1).take(4).collect();
            if !others.is_empty() {
                let _ = writeln!(out, "\nAlso considered:\n");
                for h in others {
                    let why = if h.exonerated {
                        format!("exonerated: {}", h.against.join("; "))
                    } else if !h.against.is_empty() {
                        format!("against: {}", h.against.join("; "))
                    } else {
                        format!("score {:.2}", h.score)
                    };
                    let _ = writeln!(
                        out,
                        "- {} {} — {why}",
                        h.kind.replace('_', " "),
                        h.target
                            .as_deref()
                            .map(|t| format!("`{t}`"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        None => {
            let _ = writeln!(
                out,
                "Unknown: the investigation did not reach a diagnosis. Fill this in."
            );
        }
    }

    // What helped and what hurt.
    let t = &r.trajectory;
    let mut helped = Vec::new();
    let mut hurt = Vec::new();
    if !r.telemetry.consulted.is_empty() {
        helped.push(format!(
            "telemetry read: {}",
            r.telemetry.consulted.join(", ")
        ));
    }
    if let Some(tr) = &r.triage
        && !tr.similar.is_empty()
    {
        helped.push(format!(
            "similar past incidents: {}",
            tr.similar
                .iter()
                .map(|s| s.incident_id.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(h) = d
        .and_then(|d| d.hypotheses.first())
        .filter(|h| !h.evidence_for.is_empty())
    {
        helped.push(format!(
            "the leading hypothesis was backed by: {}",
            h.evidence_for.join("; ")
        ));
    }
    if !r.telemetry.unavailable.is_empty() {
        hurt.push(format!(
            "telemetry unavailable: {}",
            r.telemetry.unavailable.join(", ")
        ));
    }
    if !t.fallbacks.is_empty() {
        hurt.push(format!("model fallbacks: {}", t.fallbacks.join("; ")));
    }
    if !t.truncations.is_empty() {
        hurt.push(format!(
            "context cut to fit a model: {}",
            t.truncations.join("; ")
        ));
    }
    if let Some(stop) = &t.stop_reason {
        hurt.push(format!("the investigation stopped early: {stop}"));
    }
    let asked = events
        .iter()
        .find_map(|e| matches!(e.kind, RunEventKind::ApprovalRequested { .. }).then_some(e.ts));
    let decided = events.iter().find_map(|e| match &e.kind {
        RunEventKind::ApprovalDecided { outcome, .. } => Some((e.ts, *outcome)),
        _ => None,
    });
    match (asked, decided) {
        (Some(a0), Some((t1, ApprovalOutcome::TimedOut))) => {
            hurt.push(format!(
                "nobody decided the approval in {}",
                minutes(a0, t1)
            ));
        }
        (Some(a0), Some((t1, _))) => helped.push(format!(
            "the approval was decided {} after it was asked",
            minutes(a0, t1)
        )),
        _ => {}
    }
    let failed: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            RunEventKind::Notified {
                channel,
                outcome,
                event,
                ..
            } if outcome == "failed" => Some(format!("{channel} ({event})")),
            _ => None,
        })
        .collect();
    if !failed.is_empty() {
        hurt.push(format!(
            "notifications that never arrived: {}",
            failed.join(", ")
        ));
    }
    let _ = writeln!(out, "\n## What helped\n");
    list(&mut out, &helped);
    let _ = writeln!(out, "\n## What hurt\n");
    list(&mut out, &hurt);

    // Action items.
    let mut items = Vec::new();
    let suspect = d.and_then(|d| d.suspect_deploy.clone().or(d.suspect_change.clone()));
    match (rem.map(|m| m.action), &suspect) {
        (Some(RemediationAction::Rollback), Some(sus)) => {
            items.push(format!("Find out why `{sus}` passed review and rollout checks; add the test or canary check that would have caught it."));
            items.push(format!(
                "Fix forward and re-release what `{sus}` was meant to ship."
            ));
        }
        (Some(RemediationAction::DisableFlag), Some(sus)) => {
            items.push(format!(
                "Fix the code behind `{sus}` before the flag is turned back on."
            ));
        }
        (Some(RemediationAction::Scale), _) => {
            items.push(format!(
                "Review {}'s capacity and autoscaling limits against the load that caused this.",
                s.service
            ));
        }
        (Some(RemediationAction::Restart), _) => {
            items.push(format!(
                "Find what degraded {} over time (leak, exhausted pool); a restart only buys time.",
                s.service
            ));
        }
        (Some(RemediationAction::Hotfix), _) => {
            items.push(
                "Ship the hotfix through the normal pipeline and add a regression test.".into(),
            );
        }
        (Some(RemediationAction::Escalate), _) | (None, _) => {
            items.push("Complete the diagnosis by hand and record the root cause here.".into());
        }
        _ => {}
    }
    for kind in &r.telemetry.unavailable {
        items.push(format!(
            "Connect {kind} to Sentinel so the next investigation can read it."
        ));
    }
    if matches!(decided, Some((_, ApprovalOutcome::TimedOut))) {
        items.push("Make sure someone with the responder role is reachable while on call (Slack, PagerDuty).".into());
    }
    items.push(format!(
        "Review {}'s runbook and alert threshold in the light of this incident.",
        s.service
    ));
    let _ = writeln!(out, "\n## Action items\n");
    for i in items {
        let _ = writeln!(out, "- [ ] {i}");
    }
    out
}

fn list(out: &mut String, items: &[String]) {
    if items.is_empty() {
        let _ = writeln!(out, "- (nothing recorded)");
    }
    for i in items {
        let _ = writeln!(out, "- {i}");
    }
}
