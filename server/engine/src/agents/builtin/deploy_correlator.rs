//! Deploy correlator: lists recent deploys and changes and reads the origin's metrics, scores
//! each change against the log analyst's findings (timing, service scope, content) and the
//! metric onsets (a leak already under way, a healthy stretch then a traffic surge), and
//! writes the diagnosis.

use super::log_analyst::clip;
use crate::agents::conclusions::{CorrelationFindings, LogFindings};
use crate::agents::policy::*;
use crate::engine::correlate::{self, Candidate};
use crate::engine::decide;
use crate::engine::signals::Family;
use crate::engine::trend::{Picture, Series};
use sentinel_model::Diagnosis;
use std::collections::BTreeSet;

pub struct DeployCorrelator;

#[async_trait::async_trait]
impl Policy for DeployCorrelator {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        if !called(h, "list_recent_deploys") {
            let origin = b
                .findings
                .as_ref()
                .map(|f| f.origin_service.clone())
                .unwrap_or_else(|| b.alert.service.to_string());
            return Ok(Step::Call(vec![
                call(
                    "list_recent_deploys",
                    serde_json::json!({ "hours_back": 72 }),
                    1,
                ),
                call("list_changes", serde_json::json!({ "hours_back": 72 }), 2),
                call(
                    "query_metrics",
                    serde_json::json!({ "service": origin, "hours_back": 72 }),
                    3,
                ),
            ]));
        }
        let findings = b
            .findings
            .clone()
            .ok_or_else(|| PolicyError::BadAnswer("no log findings to correlate".into()))?;
        let mut cands: Vec<Candidate> = Vec::new();
        if let Some(ds) = result_of(h, "list_recent_deploys").and_then(|r| r["deploys"].as_array())
        {
            for d in ds {
                let Some(ts) = d["ts"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                else {
                    continue;
                };
                cands.push(Candidate {
                    id: d["id"].as_str().unwrap_or_default().to_string(),
                    kind: "deploy".into(),
                    service: d["service"].as_str().unwrap_or_default().to_string(),
                    ts: ts.with_timezone(&chrono::Utc),
                    description: d["description"].as_str().unwrap_or_default().to_string(),
                    files: d["files_changed"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|f| f.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
        }
        if let Some(cs) = result_of(h, "list_changes").and_then(|r| r["changes"].as_array()) {
            for c in cs {
                let Some(ts) = c["ts"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                else {
                    continue;
                };
                cands.push(Candidate {
                    id: c["id"].as_str().unwrap_or_default().to_string(),
                    kind: c["kind"].as_str().unwrap_or("change").to_string(),
                    service: c["service"].as_str().unwrap_or_default().to_string(),
                    ts: ts.with_timezone(&chrono::Utc),
                    description: c["description"].as_str().unwrap_or_default().to_string(),
                    files: vec![],
                });
            }
        }
        let telemetry_missing =
            !findings.logs_available && result_of(h, "list_recent_deploys").is_none();
        let metrics = result_of(h, "query_metrics").map(|r| Picture::new(series_of(r)));
        Ok(Step::Conclude(
            serde_json::to_value(correlate_findings(
                b,
                &findings,
                &cands,
                metrics.as_ref(),
                telemetry_missing,
            ))
            .unwrap_or_default(),
        ))
    }
}

/// The series of a `query_metrics` answer.
fn series_of(r: &serde_json::Value) -> Vec<Series> {
    r["series"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|s| Series {
                    service: s["service"].as_str().unwrap_or_default().to_string(),
                    metric: s["metric"].as_str().unwrap_or_default().to_string(),
                    points: s["points"]
                        .as_array()
                        .map(|pts| {
                            pts.iter()
                                .filter_map(|p| {
                                    let ts = chrono::DateTime::parse_from_rfc3339(p[0].as_str()?)
                                        .ok()?;
                                    Some((ts.with_timezone(&chrono::Utc), p[1].as_f64()?))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn correlate_findings(
    b: &Brief,
    f: &LogFindings,
    cands: &[Candidate],
    metrics: Option<&Picture>,
    telemetry_missing: bool,
) -> CorrelationFindings {
    let family = f.family();
    let related: BTreeSet<String> = f.upstream.iter().map(|u| u.service.clone()).collect();
    let error_terms: BTreeSet<String> = f.error_terms.iter().cloned().collect();
    let first_error = f
        .first_error_at
        .or(b.alert.fired_at)
        .unwrap_or_else(chrono::Utc::now);
    let named: BTreeSet<String> = f.named_services.iter().map(|s| s.to_lowercase()).collect();
    let datastores: BTreeSet<String> = f
        .upstream
        .iter()
        .filter(|u| !u.external && !u.in_catalogue)
        .map(|u| u.service.to_lowercase())
        .collect();
    let ctx = correlate::Context {
        origin: &f.origin_service,
        alert_service: b.alert.service.as_str(),
        related: &related,
        first_error,
        error_terms: &error_terms,
        family,
        metrics,
        named: &named,
        failing_since: &f.failing_since,
        datastores: &datastores,
    };
    let scored = if f.logs_available {
        correlate::score_all(cands, &ctx)
    } else {
        Vec::new()
    };
    let culprit = decide::pick_culprit(&scored);
    // A culprit on a service the errors name, or one that broke right after it, moves the
    // origin there: that is where the failure starts and where the fix goes.
    let origin_service = match culprit {
        Some(c) if c.scope.moves_origin() => c.candidate.service.clone(),
        _ => f.origin_service.clone(),
    };
    let origin_is_alert = origin_service.eq_ignore_ascii_case(b.alert.service.as_str());
    let surge = metrics.and_then(|m| m.coincident_surge(1.8));
    let failure_class = decide::failure_class(decide::ClassInput {
        origin_is_alert,
        family,
        culprit,
        pool_evidence: f.shows(Family::Pool),
        surge: surge.is_some(),
        recovered: metrics.is_some_and(|m| m.recovered),
    });
    let confidence = decide::confidence(
        culprit,
        &scored,
        f.family_strength,
        f.logs_available && !telemetry_missing,
    );
    let mut evidence = f.evidence.clone();
    if let Some(c) = culprit {
        evidence.push(c.why.clone());
    }
    if let Some(s) = surge {
        evidence.push(format!(
            "{} on {} rose {:.1}x from {}, when the symptoms began",
            s.metric,
            f.origin_service,
            s.growth,
            s.onset.format("%H:%M UTC")
        ));
    }
    if metrics.is_some_and(|m| m.recovered) {
        evidence.push(format!(
            "the symptom metrics of {} are back at their baseline",
            f.origin_service
        ));
    }
    // A suspect the metrics cleared is worth saying, so nobody rolls it back on a hunch.
    if culprit.is_none()
        && let Some(top) = scored.first().filter(|s| s.why.contains("; but "))
    {
        evidence.push(format!("not blamed: {}", top.why));
    }
    let headline = f.telling_signature().map(|s| clip(&s.example, 140));
    let summary = match culprit {
        Some(c) => format!(
            "{failure_class} on {}: {} — most likely caused by {} {} on {} (\"{}\"), {:.0} min before the first error",
            origin_service,
            headline.clone().unwrap_or_else(|| f.hypothesis.clone()),
            if c.candidate.kind == "deploy" {
                "deploy"
            } else {
                "change"
            },
            c.candidate.id,
            c.candidate.service,
            clip(&c.candidate.description, 140),
            c.minutes_before_first_error,
        ),
        None if !f.logs_available => format!(
            "could not diagnose {}: no telemetry was available",
            b.alert.service
        ),
        None => format!(
            "{failure_class} on {}: {}; no deploy or change correlates",
            f.origin_service, f.hypothesis
        ),
    };
    let diagnosis = Diagnosis {
        failure_class,
        summary,
        suspect_deploy: culprit
            .filter(|c| c.candidate.kind == "deploy")
            .map(|c| c.candidate.id.clone()),
        suspect_change: culprit
            .filter(|c| c.candidate.kind != "deploy")
            .map(|c| c.candidate.id.clone()),
        confidence,
        evidence,
        origin_service: Some(origin_service.clone()),
        first_error_at: f.first_error_at,
    };
    CorrelationFindings {
        diagnosis,
        culprit_kind: culprit.map(|c| c.candidate.kind.clone()),
        culprit_description: culprit.map(|c| c.candidate.description.clone()),
        rollback_unsafe: culprit.is_some_and(|c| {
            c.candidate.kind == "deploy" && correlate::rollback_unsafe(&c.candidate.description)
        }),
        candidates_considered: cands.len(),
        ranking: scored
            .iter()
            .take(4)
            .map(|s| format!("{:.2} {}", s.score, s.why))
            .collect(),
        culprit_minutes_before: culprit.map(|c| c.minutes_before_first_error),
        metrics_read: metrics.is_some(),
        traffic_growth: metrics.and_then(|m| m.surge.as_ref()).map(|s| s.growth),
    }
}
