//! Deploy correlator: lists recent deploys and changes and reads the origin's metrics, scores
//! each change against the log analyst's findings (timing, service scope, content) and the
//! metric onsets (a leak already under way, a healthy stretch then a traffic surge), and
//! writes the diagnosis.

use super::log_analyst::clip;
use crate::agents::conclusions::{Conclusion, CorrelationFindings, LogFindings};
use crate::agents::policy::*;
use crate::engine::correlate::{self, Candidate};
use crate::engine::decide;
use crate::engine::params::P;
use crate::engine::signals::Family;
use crate::engine::trend::{Picture, Series};
use crate::tools::Tool;
use crate::tools::list_changes::ListChanges;
use crate::tools::list_recent_deploys::ListRecentDeploys;
use crate::tools::query_metrics::{self, QueryMetrics};
use sentinel_model::{ChangeKind, Diagnosis, Hypothesis};
use std::collections::BTreeSet;

pub struct DeployCorrelator;

#[async_trait::async_trait]
impl Policy for DeployCorrelator {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        let deploys_and_changes = || {
            vec![
                call_tool::<ListRecentDeploys>(serde_json::json!({ "hours_back": 72 }), 11),
                call_tool::<ListChanges>(serde_json::json!({ "hours_back": 72 }), 12),
            ]
        };
        let metrics_call = |service: &str, n: usize| {
            call_tool::<QueryMetrics>(
                serde_json::json!({ "service": service, "hours_back": 72 }),
                n,
            )
        };
        // Played alongside the log analyst (no findings yet): read the evidence itself, all
        // in one turn — the logs, the graph, the changes and the alerting service's metrics
        // (the origin's, if the logs place it elsewhere, follow in a second turn).
        let findings = match &b.findings {
            Some(f) => f.clone(),
            None => {
                let service = b.alert.service.as_str();
                if !called::<crate::tools::fetch_logs::FetchLogs>(h) {
                    let mut calls = super::log_analyst::calls(service);
                    calls.extend(deploys_and_changes());
                    calls.push(metrics_call(service, 13));
                    return Ok(Step::Call(calls));
                }
                super::log_analyst::findings_from(service, h)
            }
        };
        let mut calls = Vec::new();
        if !called::<ListRecentDeploys>(h) {
            calls.extend(deploys_and_changes());
        }
        // The origin's metrics, and — when calls to a dependency fail and the errors name it —
        // that dependency's too (it may be saturated without logging a thing).
        let wanted =
            std::iter::once(findings.origin_service.clone()).chain(named_upstream(&findings));
        for (i, service) in wanted.enumerate() {
            if !queried(h, &service) {
                calls.push(metrics_call(&service, 14 + i));
            }
        }
        if !calls.is_empty() {
            return Ok(Step::Call(calls));
        }
        let cands = candidates(
            output_of::<ListRecentDeploys>(h),
            output_of::<ListChanges>(h),
        );
        let telemetry_missing = !findings.logs_available && !succeeded::<ListRecentDeploys>(h);
        let metrics_of = |service: &str| {
            h.iter()
                .filter(|e| e.tool == QueryMetrics::NAME && e.ok)
                .filter(|e| {
                    e.args
                        .get("service")
                        .and_then(|v| v.as_str())
                        .is_some_and(|s| s.eq_ignore_ascii_case(service))
                })
                .find_map(|e| e.output.as_ref().and_then(|o| o.get::<QueryMetrics>()))
                .map(series_of)
        };
        let series = metrics_of(&findings.origin_service)
            .or_else(|| output_of::<QueryMetrics>(h).map(series_of));
        let metrics = series.clone().map(Picture::new);
        let out = correlate_findings(
            &b.alert,
            &findings,
            &cands,
            metrics.as_ref(),
            series.as_deref().unwrap_or_default(),
            telemetry_missing,
        );
        // No change explains it and the named dependency is saturated under a surge of calls:
        // the failure is that dependency's capacity (a retry storm, a campaign), not ours.
        let no_culprit =
            out.diagnosis.suspect_deploy.is_none() && out.diagnosis.suspect_change.is_none();
        if no_culprit
            && let Some(up) = named_upstream(&findings)
            && let Some(up_series) = metrics_of(&up)
        {
            let pic = Picture::new(up_series.clone());
            if let Some(s) = pic.coincident_surge(crate::engine::params::P.surge_factor) {
                let mut f = findings.clone();
                f.evidence.push(format!(
                    "{up} is saturated: {} rose {:.1}x from {} together with its symptoms, while {} calls it",
                    s.metric,
                    s.growth,
                    s.onset.format("%H:%M UTC"),
                    findings.origin_service
                ));
                f.origin_reason = format!(
                    "{}'s calls to {up} fail, and {up} is saturated under a {:.1}x surge of requests",
                    findings.origin_service, s.growth
                );
                f.origin_service = up;
                return Ok(Step::Conclude(Conclusion::Correlation(correlate_findings(
                    &b.alert,
                    &f,
                    &cands,
                    Some(&pic),
                    &up_series,
                    telemetry_missing,
                ))));
            }
            // Calls to it fail, yet it is fine: its symptom metrics never left their baseline
            // and it logs no errors of its own. What fails is the origin's view of it (stale
            // endpoints, dead pooled connections, a cached address).
            let measured = up_series
                .iter()
                .any(|s| s.service.eq_ignore_ascii_case(&up));
            let quiet = !findings.failing_since.contains_key(&up.to_lowercase());
            if measured && quiet && pic.symptom_onset.is_none() && pic.has_symptom_series() {
                let mut out = out;
                out.diagnosis.evidence.push(format!(
                    "{}'s calls to {up} fail, but {up} itself is healthy: its symptom metrics stayed at their baseline and it logs no errors",
                    findings.origin_service
                ));
                out.healthy_dependency = Some(up);
                return Ok(Step::Conclude(Conclusion::Correlation(out)));
            }
        }
        Ok(Step::Conclude(Conclusion::Correlation(out)))
    }
}

/// Whether the history holds a metrics query for `service`.
fn queried(h: &[Exchange], service: &str) -> bool {
    h.iter().any(|e| {
        e.tool == QueryMetrics::NAME
            && e.args
                .get("service")
                .and_then(|v| v.as_str())
                .is_some_and(|s| s.eq_ignore_ascii_case(service))
    })
}

/// The changes to weigh: the deploys and the other changes the two listing tools returned.
pub fn candidates(
    deploys: Option<&crate::tools::list_recent_deploys::Output>,
    changes: Option<&crate::tools::list_changes::Output>,
) -> Vec<Candidate> {
    let mut cands: Vec<Candidate> = Vec::new();
    for row in deploys.map(|d| d.deploys.as_slice()).unwrap_or_default() {
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
    for row in changes.map(|c| c.changes.as_slice()).unwrap_or_default() {
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
    cands
}

/// The dependency the origin's failing calls name, when calls to a dependency are the failure.
fn named_upstream(f: &LogFindings) -> Option<String> {
    if f.family() != Some(Family::Upstream) {
        return None;
    }
    f.named_services
        .iter()
        .find(|n| {
            !n.eq_ignore_ascii_case(&f.origin_service)
                && f.upstream
                    .iter()
                    .any(|u| u.service.eq_ignore_ascii_case(n) && !u.external)
        })
        .cloned()
}

/// The series of a `query_metrics` answer (finite points only).
pub fn series_of(r: &query_metrics::Output) -> Vec<Series> {
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
    alert: &sentinel_model::Alert,
    f: &LogFindings,
    cands: &[Candidate],
    metrics: Option<&Picture>,
    series: &[Series],
    telemetry_missing: bool,
) -> CorrelationFindings {
    let family = f.family();
    let related: BTreeSet<String> = f.upstream.iter().map(|u| u.service.clone()).collect();
    let error_terms: BTreeSet<String> = f.error_terms.iter().cloned().collect();
    // The failure began at the first error line, or earlier when the origin's symptom
    // metrics turned before it (a business metric falls long before anything logs ERROR).
    let metric_onset = metrics.and_then(|m| m.change_point);
    let first_error = f
        .first_error_at
        .or(alert.fired_at)
        .unwrap_or_else(chrono::Utc::now);
    let first_error = match metric_onset {
        Some(o) if o < first_error => o,
        _ => first_error,
    };
    // Error lines long before the alert's own metric turned did not move it (noise, another
    // failure): the alerting symptom began at its change point.
    let alert_onset = metrics.and_then(|m| m.change_point_of(&alert.metric));
    let first_error = match alert_onset {
        Some(o) if o - first_error > chrono::Duration::minutes(P.alert_onset_lead_minutes) => o,
        _ => first_error,
    };
    let named: BTreeSet<String> = f.named_services.iter().map(|s| s.to_lowercase()).collect();
    let datastores: BTreeSet<String> = f
        .upstream
        .iter()
        .filter(|u| !u.external && !u.in_catalogue)
        .map(|u| u.service.to_lowercase())
        .collect();
    let callers: BTreeSet<String> = f.callers.iter().map(|s| s.to_lowercase()).collect();
    let ctx = correlate::Context {
        callers: &callers,
        origin: &f.origin_service,
        alert_service: alert.service.as_str(),
        related: &related,
        first_error,
        error_terms: &error_terms,
        family,
        metrics,
        named: &named,
        failing_since: &f.failing_since,
        datastores: &datastores,
        versions: &f.versions,
        series,
        spreads: &f.error_fields,
        onsets: &f.onsets,
        metric_onset,
        failing_parties: &f.failing_parties,
        error_ids: &f.error_ids,
        failed_over: f.failed_over.as_ref(),
        failing_share: correlate::failing_share(&alert.metric, alert.current_value),
        shape_error: f.signatures.iter().any(|s| {
            s.level.is_error()
                && s.services
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(&f.origin_service))
                && crate::engine::text::contains_any(
                    &s.example.to_lowercase(),
                    crate::engine::lexicon::SHAPE_ERRORS,
                )
        }),
    };
    let scored = if f.logs_available {
        let mut scored = correlate::score_all(cands, &ctx);
        correlate::cleared_by_other_callers(&mut scored, &f.lost_by, &f.origin_service);
        scored
    } else {
        Vec::new()
    };
    let culprit = decide::pick_culprit(&scored);
    // A change must also beat the explanations without one: a weak suspect next to errors that
    // are plainly a dependency's, the platform's or an expiry is not rolled back.
    let rival = no_change_score(f);
    // A third party that the errors name, failing more plainly than any change explains it,
    // is the top hypothesis: the change does not act unless it beats it by the margin.
    let vendor_failing = vendor_answers_5xx(f) || vendor_seen_down(f);
    let outscored = culprit.filter(|c| {
        rival.is_some_and(|(kind, r)| {
            r >= c.score + P.hypothesis_margin
                || (kind == "third_party_outage"
                    && vendor_failing
                    && r > c.score - P.hypothesis_margin)
        })
    });
    let culprit = if outscored.is_some() { None } else { culprit };
    // A culprit on a service the errors name, or one that broke right after it, moves the
    // origin there: that is where the failure starts and where the fix goes.
    let origin_service = match culprit {
        // An operation on shared infrastructure (a restart, a failover) triggered it, but the
        // failure is the service that did not recover from it.
        Some(c) if c.scope.moves_origin() && !correlate::operation_event(&c.candidate) => {
            c.candidate.service.clone()
        }
        _ => f.origin_service.clone(),
    };
    let origin_is_alert = origin_service.eq_ignore_ascii_case(alert.service.as_str());
    let surge = metrics.and_then(|m| m.coincident_surge(crate::engine::params::P.surge_factor));
    let failure_class = decide::failure_class(decide::ClassInput {
        origin_is_alert,
        family,
        culprit,
        pool_evidence: f.shows(Family::Pool),
        load_evidence: f.shows(Family::Load),
        surge: surge.is_some(),
        recovered: metrics.is_some_and(|m| m.recovered),
    });
    let confidence = decide::confidence(
        culprit,
        &scored,
        f.family_strength,
        f.logs_available && !telemetry_missing,
    );
    let confidence = if culprit.is_none() && surge.is_some() && f.logs_available {
        confidence.max(P.confidence_surge)
    } else {
        confidence
    };
    let dated_expiry =
        family == Some(Family::Certificate) && f.mentions(crate::engine::lexicon::EXPIRY_DATED);
    let confidence = if culprit.is_none() && dated_expiry {
        confidence.max(P.confidence_expiry)
    } else {
        confidence
    };
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
    if let (Some(c), Some((kind, r))) = (outscored, rival) {
        evidence.push(format!(
            "not blamed: {} (score {:.2}) — the failure is better explained as {} (score {:.2})",
            c.candidate.id,
            c.score,
            kind.replace('_', " "),
            r
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
            alert.service
        ),
        None => format!(
            "{failure_class} on {}: {}; no deploy or change correlates",
            f.origin_service, f.hypothesis
        ),
    };
    let hypotheses = hypotheses(f, &scored, culprit, surge.is_some(), metrics, confidence);
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
        hypotheses,
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
        healthy_dependency: None,
    }
}

/// The strongest explanation without a change the log findings support, as (kind, score):
/// scored like the no-change hypotheses below.
fn no_change_score(f: &LogFindings) -> Option<(&'static str, f64)> {
    let score = no_change_support(strength_of(f));
    if !f.external_suspects.is_empty() {
        return Some(("third_party_outage", score));
    }
    // A failing call is usually a symptom; it rivals a change only when it is a third
    // party's (a cloud API, a SaaS vendor) that fails.
    let third_party = f.signatures.iter().any(|s| {
        s.level.is_error()
            && crate::engine::text::contains_any(
                &s.example.to_lowercase(),
                crate::engine::lexicon::THIRD_PARTY_MARKS,
            )
    });
    match f.family() {
        Some(Family::Upstream) if third_party => Some(("third_party_outage", score)),
        Some(Family::Platform) | Some(Family::Dns) => Some(("platform", score)),
        Some(Family::Certificate) => Some(("expiry", score)),
        _ => None,
    }
}

/// The vendor the errors name answers with server errors of its own (`cardproc responded 503`,
/// `"api.vendor.example" 502`): a change on our side cannot make a third party fail that way.
fn vendor_answers_5xx(f: &LogFindings) -> bool {
    let names: Vec<String> = f
        .external_suspects
        .iter()
        .filter_map(|v| {
            v.to_lowercase()
                .split(['-', '_', '.'])
                .find(|p| p.len() >= 4)
                .map(str::to_string)
        })
        .collect();
    let failing = f
        .signatures
        .iter()
        .filter(|s| s.level.is_error())
        .filter(|s| {
            let m = s.example.to_lowercase();
            names.iter().any(|n| m.contains(n.as_str()))
                && crate::engine::text::contains_any(&m, crate::engine::lexicon::SERVER_ERROR_MARKS)
        })
        .count();
    failing >= 2
}

/// Someone other than us says the vendor is down: its provider's health or status event
/// (`AWS_SES_OPERATIONAL_ISSUE`, a status page incident), or an independent prober that cannot
/// reach it (`probe_success=0` against its host).
fn vendor_seen_down(f: &LogFindings) -> bool {
    if f.external_suspects.is_empty() {
        return false;
    }
    let names: Vec<String> = f
        .external_suspects
        .iter()
        .flat_map(|v| {
            v.to_lowercase()
                .split(['-', '_', '.'])
                .filter(|p| p.len() >= 3)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    f.signatures.iter().any(|s| {
        let m = s.example.to_lowercase();
        crate::engine::text::contains_any(&m, crate::engine::lexicon::VENDOR_STATUS_EVENTS)
            || (crate::engine::text::contains_any(&m, crate::engine::lexicon::PROBE_FAILED)
                && names.iter().any(|n| m.contains(n.as_str())))
    })
}

/// The log family's strength, 0..1 (its score over the confidence cap).
fn strength_of(f: &LogFindings) -> f64 {
    (f.family_strength / P.confidence_strength_cap).min(1.0)
}

/// The score of an explanation without a change, from the strength of its evidence: the one
/// scale both the hypotheses list and the rival rule use.
fn no_change_support(strength: f64) -> f64 {
    0.3 + 0.5 * strength
}

/// How many change hypotheses the diagnosis lists (the rest are in the ranking's tail).
const MAX_CHANGE_HYPOTHESES: usize = 5;

/// The ranked hypotheses: every change scored (best first, the chosen culprit on top), and
/// the explanations without a change the evidence supports, each with its evidence.
fn hypotheses(
    f: &LogFindings,
    scored: &[correlate::Scored],
    culprit: Option<&correlate::Scored>,
    surge: bool,
    metrics: Option<&Picture>,
    confidence: f64,
) -> Vec<Hypothesis> {
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let mut out: Vec<Hypothesis> = scored
        .iter()
        .take(MAX_CHANGE_HYPOTHESES)
        .map(|s| Hypothesis {
            kind: s.candidate.kind.to_string(),
            target: Some(s.candidate.id.clone()),
            score: round(s.score),
            evidence_for: s.evidence_for.clone(),
            against: s.evidence_against.clone(),
            explains: s.explains && !s.cleared,
            exonerated: s.cleared,
        })
        .collect();
    // No-change explanations, scored like the confidence of a diagnosis without a culprit.
    let strength = strength_of(f);
    let mut extra: Vec<Hypothesis> = Vec::new();
    let push = |extra: &mut Vec<Hypothesis>,
                kind: &str,
                target: Option<String>,
                score: f64,
                why: String| {
        let against = match culprit {
            Some(c) => vec![format!("{} correlates with the failure", c.candidate.id)],
            None => vec![],
        };
        extra.push(Hypothesis {
            kind: kind.into(),
            target,
            score: round(score),
            evidence_for: vec![why],
            against,
            explains: false,
            exonerated: false,
        });
    };
    let family = f.family();
    if !f.external_suspects.is_empty() {
        push(
            &mut extra,
            "third_party_outage",
            f.external_suspects.first().cloned(),
            no_change_support(strength),
            format!("the errors point at {}", f.external_suspects.join(", ")),
        );
    }
    let kind = match family {
        Some(Family::Memory) => Some(("resource_leak", "memory grows until the process fails")),
        Some(Family::Pool) => Some(("capacity", "connections or workers are exhausted")),
        Some(Family::Certificate) => Some(("expiry", "a certificate is expired or invalid")),
        Some(Family::Disk) => Some(("data_growth", "storage is full")),
        Some(Family::Platform) => Some(("platform", "the platform under the services is failing")),
        Some(Family::Dns) => Some(("platform", "name resolution is failing")),
        Some(Family::Upstream) => Some(("upstream_failure", "calls to a dependency fail")),
        Some(Family::Load) => Some(("capacity", "the service is saturated")),
        _ => None,
    };
    if let Some((kind, why)) = kind {
        push(
            &mut extra,
            kind,
            Some(f.origin_service.clone()),
            no_change_support(strength),
            format!("{why} ({})", f.hypothesis),
        );
    }
    if surge {
        push(
            &mut extra,
            "traffic_surge",
            Some(f.origin_service.clone()),
            no_change_support(strength.max(0.5)),
            "the offered load rose when the symptoms began".into(),
        );
    }
    if metrics.is_some_and(|m| m.recovered) {
        push(
            &mut extra,
            "transient",
            Some(f.origin_service.clone()),
            0.4,
            "the symptom metrics are back at their baseline".into(),
        );
    }
    if out.is_empty() && extra.is_empty() {
        push(
            &mut extra,
            "unexplained",
            Some(f.origin_service.clone()),
            confidence.min(0.3),
            "no change correlates and no known failure pattern dominates".into(),
        );
    }
    out.extend(extra);
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    if let Some(c) = culprit
        && let Some(i) = out
            .iter()
            .position(|h| h.target.as_deref() == Some(c.candidate.id.as_str()))
    {
        let top = out.remove(i);
        out.insert(0, top);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{LogEntry, LogLevel};

    /// The log analyst's findings from `messages` on `service`, `vendor` among the suspects.
    fn findings(service: &str, level: LogLevel, vendor: &str, messages: &[&str]) -> LogFindings {
        let lines: Vec<LogEntry> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| LogEntry {
                ts: chrono::Utc::now() + chrono::Duration::seconds(i as i64),
                level,
                service: service.into(),
                message: m.to_string(),
                trace_id: None,
            })
            .collect();
        let mut f = super::super::log_analyst::analyse(service, &lines, vec![], true);
        f.external_suspects = vec![vendor.into()];
        f
    }

    #[test]
    fn a_vendor_answering_with_its_own_server_errors_is_told_from_our_timeouts() {
        let f = |messages: &[&str]| findings("payments", LogLevel::ERROR, "cardproc-api", messages);
        assert!(vendor_answers_5xx(&f(&[
            "cardproc responded 503 to POST /v1/charges",
            "POST https://api.cardproc.example/v1/charges returned 502",
        ])));
        // Our own timeouts calling it are not the vendor failing by itself.
        assert!(!vendor_answers_5xx(&f(&[
            "cardproc call timed out after 2000ms",
            "cardproc circuit breaker open",
        ])));
    }

    #[test]
    fn a_vendor_seen_down_by_its_provider_or_a_prober_is_confirmed() {
        let f = |messages: &[&str]| findings("mailer", LogLevel::WARNING, "ses-smtp", messages);
        assert!(vendor_seen_down(&f(&[
            r#"{"source":"aws.health","detail":{"service":"SES","eventTypeCode":"AWS_SES_OPERATIONAL_ISSUE"}}"#
        ])));
        assert!(vendor_seen_down(&f(&[
            "module=smtp_starttls target=email-smtp.example:587 msg=\"Error dialing TCP\" probe_success=0"
        ])));
        // Our own failed sends say nothing about who is at fault.
        assert!(!vendor_seen_down(&f(&[
            "smtp send failed: greeting never received"
        ])));
    }
}
