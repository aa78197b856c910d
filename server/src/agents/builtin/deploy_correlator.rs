//! Deploy correlator: lists recent deploys and changes, scores each against the log
//! analyst's findings (timing, service scope, content), and writes the diagnosis.

use super::log_analyst::clip;
use crate::agents::conclusions::{CorrelationFindings, LogFindings};
use crate::agents::policy::*;
use crate::engine::correlate::{self, Candidate};
use crate::engine::decide;
use crate::engine::signals::Family;
use app::model::Diagnosis;
use std::collections::BTreeSet;

pub struct DeployCorrelator;

#[async_trait::async_trait]
impl Policy for DeployCorrelator {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        if !called(h, "list_recent_deploys") {
            return Ok(Step::Call(vec![
                call(
                    "list_recent_deploys",
                    serde_json::json!({ "hours_back": 72 }),
                    1,
                ),
                call("list_changes", serde_json::json!({ "hours_back": 72 }), 2),
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
        Ok(Step::Conclude(
            serde_json::to_value(correlate_findings(b, &findings, &cands, telemetry_missing))
                .unwrap_or_default(),
        ))
    }
}

pub fn correlate_findings(
    b: &Brief,
    f: &LogFindings,
    cands: &[Candidate],
    telemetry_missing: bool,
) -> CorrelationFindings {
    let family = f.family();
    let related: BTreeSet<String> = f.upstream.iter().map(|u| u.service.clone()).collect();
    let error_terms: BTreeSet<String> = f.error_terms.iter().cloned().collect();
    let first_error = f
        .first_error_at
        .or(b.alert.fired_at)
        .unwrap_or_else(chrono::Utc::now);
    let ctx = correlate::Context {
        origin: &f.origin_service,
        alert_service: b.alert.service.as_str(),
        related: &related,
        first_error,
        error_terms: &error_terms,
        family,
    };
    let scored = if f.logs_available {
        correlate::score_all(cands, &ctx)
    } else {
        Vec::new()
    };
    let culprit = decide::pick_culprit(&scored);
    let origin_is_alert = f
        .origin_service
        .eq_ignore_ascii_case(b.alert.service.as_str());
    let failure_class =
        decide::failure_class(origin_is_alert, family, culprit, f.shows(Family::Pool));
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
    let headline = f.telling_signature().map(|s| clip(&s.example, 140));
    let summary = match culprit {
        Some(c) => format!(
            "{failure_class} on {}: {} — most likely caused by {} {} on {} (\"{}\"), {:.0} min before the first error",
            f.origin_service,
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
        origin_service: Some(f.origin_service.clone()),
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
    }
}
