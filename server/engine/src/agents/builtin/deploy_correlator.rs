//! Deploy correlator: lists recent deploys and changes and reads the origin's metrics, scores
//! each change against the log analyst's findings (timing, service scope, content) and the
//! metric onsets (a leak already under way, a healthy stretch then a traffic surge), and
//! writes the diagnosis.

use super::log_analyst::clip;
use crate::agents::conclusions::{Conclusion, CorrelationFindings, LogFindings};
use crate::agents::policy::*;
use crate::engine::correlate::{self, Candidate};
use crate::engine::decide;
use crate::engine::signals::Family;
use crate::engine::trend::{Picture, Series};
use crate::tools::list_changes::ListChanges;
use crate::tools::list_recent_deploys::ListRecentDeploys;
use crate::tools::query_metrics::{self, QueryMetrics};
use sentinel_model::{ChangeKind, Diagnosis};
use std::collections::BTreeSet;

pub struct DeployCorrelator;

#[async_trait::async_trait]
impl Policy for DeployCorrelator {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        if !called::<ListRecentDeploys>(h) {
            let origin = b
                .findings
                .as_ref()
                .map(|f| f.origin_service.clone())
                .unwrap_or_else(|| b.alert.service.to_string());
            return Ok(Step::Call(vec![
                call_tool::<ListRecentDeploys>(serde_json::json!({ "hours_back": 72 }), 1),
                call_tool::<ListChanges>(serde_json::json!({ "hours_back": 72 }), 2),
                call_tool::<QueryMetrics>(
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
        if let Some(ds) = output_of::<ListRecentDeploys>(h) {
            for row in &ds.deploys {
                let d = &row.item;
                cands.push(Candidate {
                    id: d.id.clone(),
                    kind: ChangeKind::Deploy,
                    service: d.service.clone(),
                    ts: d.ts,
                    description: d.description.clone(),
                    files: d.files_changed.paths().to_vec(),
                });
            }
        }
        if let Some(cs) = output_of::<ListChanges>(h) {
            for row in &cs.changes {
                let c = &row.item;
                cands.push(Candidate {
                    id: c.id.clone(),
                    kind: c.kind.clone(),
                    service: c.service.clone(),
                    ts: c.ts,
                    description: c.description.clone(),
                    files: vec![],
                });
            }
        }
        let telemetry_missing = !findings.logs_available && !succeeded::<ListRecentDeploys>(h);
        let metrics = output_of::<QueryMetrics>(h).map(|r| Picture::new(series_of(r)));
        Ok(Step::Conclude(Conclusion::Correlation(correlate_findings(
            b,
            &findings,
            &cands,
            metrics.as_ref(),
            telemetry_missing,
        ))))
    }
}

/// The series of a `query_metrics` answer (finite points only).
fn series_of(r: &query_metrics::Output) -> Vec<Series> {
    r.series
        .iter()
        .map(|s| Series {
            service: s.service.clone(),
            metric: s.metric.clone(),
            points: s
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect(),
        })
        .collect()
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
    let surge = metrics.and_then(|m| m.coincident_surge(crate::engine::params::P.surge_factor));
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
            if c.candidate.kind == ChangeKind::Deploy {
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
            .filter(|c| c.candidate.kind == ChangeKind::Deploy)
            .map(|c| c.candidate.id.clone()),
        suspect_change: culprit
            .filter(|c| c.candidate.kind != ChangeKind::Deploy)
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
            c.candidate.kind == ChangeKind::Deploy
                && correlate::rollback_unsafe(&c.candidate.description)
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
