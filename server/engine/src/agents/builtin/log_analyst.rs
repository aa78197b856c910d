//! Log analyst: reads warning-level logs across services and the dependency graph, mines
//! error signatures, finds where the failure originates and which family it belongs to.

use crate::agents::conclusions::{Conclusion, LogFindings, SignatureBrief};
use crate::agents::policy::*;
use crate::engine::blame::{self, Upstream};
use crate::engine::{decide, signals, templates, text};
use crate::telemetry::LogEntry;
use crate::tools::fetch_logs::FetchLogs;
use crate::tools::get_dependencies::GetDependencies;

pub struct LogAnalyst;

#[async_trait::async_trait]
impl Policy for LogAnalyst {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        let service = b.alert.service.as_str();
        if !called::<FetchLogs>(h) {
            return Ok(Step::Call(calls(service)));
        }
        Ok(Step::Conclude(Conclusion::Logs(findings_from(service, h))))
    }
}

/// What the log analysis reads: warning-level logs of every service, and the dependency graph
/// from the alerting service.
pub fn calls(service: &str) -> Vec<PlannedCall> {
    vec![
        call_tool::<FetchLogs>(
            serde_json::json!({ "min_level": "WARNING", "hours_back": 6, "limit": 500 }),
            1,
        ),
        call_tool::<GetDependencies>(
            serde_json::json!({ "service": service, "transitive": true }),
            2,
        ),
    ]
}

/// The findings from the answers to [`calls`] in `h`.
pub fn findings_from(service: &str, h: &[Exchange]) -> LogFindings {
    let lines: &[LogEntry] = output_of::<FetchLogs>(h)
        .map(|r| r.lines.as_slice())
        .unwrap_or_default();
    let logs_available = succeeded::<FetchLogs>(h);
    let deps = output_of::<GetDependencies>(h);
    let upstream = upstream_of(deps);
    let mut f = analyse(service, lines, upstream, logs_available);
    f.callers = deps.map(|d| d.dependents.clone()).unwrap_or_default();
    f
}

/// The dependencies a `get_dependencies` answer lists, as the blame needs them.
pub fn upstream_of(deps: Option<&crate::tools::get_dependencies::Output>) -> Vec<Upstream> {
    deps.map(|r| {
        r.depends_on
            .iter()
            .map(|d| Upstream {
                service: d.service.clone(),
                hops: d.hops.max(1),
                external: d.external,
                in_catalogue: d.in_catalogue,
            })
            .collect()
    })
    .unwrap_or_default()
}

pub fn analyse(
    alert_service: &str,
    lines: &[LogEntry],
    upstream: Vec<Upstream>,
    logs_available: bool,
) -> LogFindings {
    if !logs_available {
        return LogFindings {
            origin_service: alert_service.to_string(),
            origin_reason: "logs could not be read (no telemetry source for this alert)".into(),
            family: None,
            hypothesis: format!(
                "unknown: no logs were available for {alert_service}; a human must look"
            ),
            first_error_at: None,
            signatures: vec![],
            error_terms: vec![],
            external_suspects: vec![],
            logs_available: false,
            upstream,
            named_services: vec![],
            failing_since: Default::default(),
            evidence: vec!["no logs available from the telemetry source".into()],
            family_strength: 0.0,
            versions: vec![],
            failing_parties: vec![],
            error_ids: vec![],
            failed_over: None,
            callers: vec![],
            error_fields: vec![],
            onsets: vec![],
            lost_by: vec![],
        };
    }
    let profiles = blame::profiles(lines);
    // The platform failing under everyone (nodes not ready, a zone down): the services only
    // suffer it, so blame stays on the alerting service and the family is the platform's.
    let platform_lines: Vec<&LogEntry> = lines
        .iter()
        .filter(|l| {
            l.level >= crate::telemetry::LogLevel::WARNING
                && signals::families_of(&l.message).contains(&signals::Family::Platform)
        })
        .collect();
    let mut origin = blame::find_origin(alert_service, &upstream, &profiles, lines);
    // A dependency whose own machine fails (its disk controller, its node) is the origin, not
    // a platform under everyone.
    let only_the_origins = !origin.service.eq_ignore_ascii_case(alert_service)
        && platform_lines
            .iter()
            .all(|l| l.service.eq_ignore_ascii_case(&origin.service));
    let platform = platform_lines.len() >= 2 && !only_the_origins;
    if platform {
        origin.service = alert_service.to_string();
        origin.lost_by.clear();
        origin.reason = format!(
            "{} platform events (nodes not ready, pods that cannot be rescheduled) under several services: {alert_service} suffers it, it does not cause it",
            platform_lines.len()
        );
    }
    // Evidence: the origin's lines, plus the alerting service's when they differ.
    let origin_lines: Vec<LogEntry> = lines
        .iter()
        .filter(|l| l.service.eq_ignore_ascii_case(&origin.service))
        .cloned()
        .collect();
    let sigs = templates::mine(&origin_lines);
    let sig_signals = signals::analyse(&sigs);
    let family = if platform {
        Some(signals::Family::Platform)
    } else {
        decide::dominant_family(&sig_signals)
    };
    let family_strength = family.map(|f| sig_signals.score(f)).unwrap_or(0.0);
    let first_error_at = origin_lines
        .iter()
        .filter(|l| l.level.is_error())
        .map(|l| l.ts)
        .min()
        .or_else(|| origin_lines.iter().map(|l| l.ts).min());
    let named_services = named_services(alert_service, &origin.service, lines, &upstream);
    let error_terms = failure_terms(&sigs, family, first_error_at, lines, &named_services);
    let failing_since = failing_on_their_own(&profiles, lines, alert_service, &origin.service);
    let mut evidence: Vec<String> = sigs
        .iter()
        .filter(|s| s.level >= crate::telemetry::LogLevel::WARNING)
        .take(4)
        .map(|s| {
            format!(
                "{}× {:?} on {}: {}",
                s.count,
                s.level,
                origin.service,
                clip(&s.example, 180)
            )
        })
        .collect();
    evidence.push(origin.reason.clone());
    for l in platform_lines.iter().take(3) {
        evidence.push(format!(
            "{:?} on {}: {}",
            l.level,
            l.service,
            clip(&l.message, 180)
        ));
    }
    if let Some(t) = first_error_at {
        evidence.push(format!(
            "first error on {} at {}",
            origin.service,
            t.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    let top = signals::telling(&sigs, family, |s| &s.example);
    let hypothesis = match (family.map(signals::Family::as_str), top) {
        (Some(f), Some(top)) => format!(
            "{f} failure on {}: {}",
            origin.service,
            clip(&top.example, 160)
        ),
        (None, Some(top)) => format!(
            "unclassified errors on {}: {}",
            origin.service,
            clip(&top.example, 160)
        ),
        (_, None) => format!("no warning-level logs on {}", origin.service),
    };
    let failed_over = failed_over(lines, &upstream, &origin.service, first_error_at);
    LogFindings {
        lost_by: origin.lost_by,
        failed_over,
        callers: vec![],
        origin_service: origin.service.clone(),
        origin_reason: origin.reason,
        family,
        hypothesis,
        first_error_at,
        signatures: sigs
            .iter()
            .take(8)
            .map(|s| SignatureBrief {
                template: s.template.clone(),
                example: s.example.clone(),
                count: s.count,
                level: s.level,
                services: s.services.iter().cloned().collect(),
                first_seen: s.first_seen,
            })
            .collect(),
        error_terms,
        external_suspects: origin.external_suspects,
        logs_available,
        upstream,
        named_services,
        failing_since,
        evidence,
        family_strength,
        versions: crate::engine::versions::stats(lines),
        onsets: sigs
            .iter()
            .filter(|s| s.level >= crate::telemetry::LogLevel::WARNING)
            .take(40)
            .map(|s| crate::engine::correlate::LineOnset {
                first_seen: s.first_seen,
                example: s.example.clone(),
            })
            .collect(),
        error_fields: crate::engine::breadth::spreads(
            origin_lines
                .iter()
                .filter(|l| l.level.is_error())
                .map(|l| l.message.as_str()),
        ),
        failing_parties: crate::engine::fanout::failing_parties(&origin_lines, family)
            .into_iter()
            .collect(),
        error_ids: lines
            .iter()
            .filter(|l| {
                l.level >= crate::telemetry::LogLevel::WARNING
                    && (l.service.eq_ignore_ascii_case(&origin.service)
                        || l.service.eq_ignore_ascii_case(alert_service))
                    && first_error_at.is_none_or(|t| l.ts >= t - chrono::Duration::minutes(2))
            })
            .flat_map(|l| text::identifiers(&l.message))
            .collect::<std::collections::BTreeSet<String>>()
            .into_iter()
            .collect(),
    }
}

/// The first direct dependency (not a vendor) whose own warning-or-worse lines say it lost or
/// changed its leader before the origin's first error.
fn failed_over(
    lines: &[LogEntry],
    upstream: &[Upstream],
    origin: &str,
    first_error_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<(String, chrono::DateTime<chrono::Utc>)> {
    let first = first_error_at?;
    upstream
        .iter()
        .filter(|u| u.hops == 1 && !u.external && !u.service.eq_ignore_ascii_case(origin))
        .filter_map(|u| {
            lines
                .iter()
                .filter(|l| {
                    l.service.eq_ignore_ascii_case(&u.service)
                        && l.level >= crate::telemetry::LogLevel::WARNING
                        && l.ts <= first
                        && text::contains_any(
                            &l.message.to_lowercase(),
                            crate::engine::lexicon::FAILOVER_MARKS,
                        )
                })
                .map(|l| l.ts)
                .min()
                .map(|t| (u.service.clone(), t))
        })
        .min_by_key(|(_, t)| *t)
}

/// Identifiers of the failure itself, to match against change descriptions: from errors, and
/// from warnings that belong to the failure's family or first appear at its onset. A warning of
/// another kind from before the failure (a pool housekeeper, a slow vendor) or long after it (a
/// flag lookup) is background; its words would make an unrelated change look relevant. The
/// errors of services the failure names (a caller's `flag.x=on`) count too.
fn failure_terms(
    sigs: &[templates::Signature],
    family: Option<signals::Family>,
    first_error_at: Option<chrono::DateTime<chrono::Utc>>,
    lines: &[LogEntry],
    named_services: &[String],
) -> Vec<String> {
    let minutes = chrono::Duration::minutes;
    let at_onset = |t: chrono::DateTime<chrono::Utc>| {
        first_error_at.is_none_or(|e| t >= e - minutes(2) && t <= e + minutes(5))
    };
    let mut terms = std::collections::BTreeSet::new();
    for s in sigs.iter().take(16) {
        if s.level.is_error()
            || at_onset(s.first_seen)
            || family.is_some_and(|f| signals::families_of(&s.example).contains(&f))
        {
            terms.extend(text::keywords(&s.example));
        }
    }
    let began = first_error_at.map(|t| t - minutes(2));
    for l in lines
        .iter()
        .filter(|l| {
            l.level.is_error()
                && named_services
                    .iter()
                    .any(|n| l.service.eq_ignore_ascii_case(n))
                && began.is_none_or(|t| l.ts >= t)
        })
        .take(20)
    {
        terms.extend(text::keywords(&l.message));
    }
    terms.into_iter().collect()
}

/// When each service that fails on its own logged its first error. A service whose warnings
/// name the origin or the alerting service is their victim (`upstream=payment-service
/// status=500`), not a cause, and is left out.
fn failing_on_their_own(
    profiles: &std::collections::BTreeMap<String, blame::ServiceProfile>,
    lines: &[LogEntry],
    alert_service: &str,
    origin: &str,
) -> std::collections::BTreeMap<String, chrono::DateTime<chrono::Utc>> {
    let (alert, origin) = (alert_service.to_lowercase(), origin.to_lowercase());
    // Services with errors of their own in the window: a service whose lines name one of them
    // (`upstream api-gateway returned 503`) suffers that one's failure, as one naming the
    // alerting service or the origin does.
    let erring: Vec<String> = profiles
        .iter()
        .filter(|(_, p)| p.errors > 0)
        .map(|(s, _)| s.to_lowercase())
        .collect();
    let victim = |service: &str| {
        let me = service.to_lowercase();
        lines.iter().any(|l| {
            l.service.eq_ignore_ascii_case(service)
                && l.level >= crate::telemetry::LogLevel::WARNING
                && {
                    let m = l.message.to_lowercase();
                    m.contains(&alert)
                        || m.contains(&origin)
                        || erring.iter().any(|o| *o != me && m.contains(o.as_str()))
                }
        })
    };
    profiles
        .iter()
        .filter(|(s, _)| !victim(s))
        .filter_map(|(s, _)| Some((s.to_lowercase(), burst_onset(lines, s)?)))
        .collect()
}

/// When `service` began failing: its first error line that has at least
/// [`crate::engine::params::Params::burst_errors`] errors within
/// `broke_after_window_minutes` from it. A service whose errors stay sporadic (a client's 422
/// now and then) is background, not a failure: it neither began the incident nor broke after
/// a change.
fn burst_onset(lines: &[LogEntry], service: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let p = crate::engine::params::P;
    let mut errors: Vec<_> = lines
        .iter()
        .filter(|l| l.level.is_error() && l.service.eq_ignore_ascii_case(service))
        .map(|l| l.ts)
        .collect();
    errors.sort_unstable();
    let window = chrono::Duration::seconds((p.broke_after_window_minutes * 60.0) as i64);
    let need = p.burst_errors.max(1);
    errors.iter().enumerate().find_map(|(i, t)| {
        let within = errors[i..]
            .iter()
            .take_while(|u| **u - *t <= window)
            .count();
        (within >= need).then_some(*t)
    })
}

/// Services (seen in the logs or the dependency graph) that the origin's or the alerting
/// service's warning-or-worse lines name, other than those two.
fn named_services(
    alert_service: &str,
    origin: &str,
    lines: &[LogEntry],
    upstream: &[Upstream],
) -> Vec<String> {
    let mut known: std::collections::BTreeSet<String> = lines
        .iter()
        .map(|l| l.service.to_lowercase())
        .chain(upstream.iter().map(|u| u.service.to_lowercase()))
        .collect();
    known.remove(&alert_service.to_lowercase());
    known.remove(&origin.to_lowercase());
    let msgs: Vec<String> = lines
        .iter()
        .filter(|l| {
            l.level >= crate::telemetry::LogLevel::WARNING
                && (l.service.eq_ignore_ascii_case(alert_service)
                    || l.service.eq_ignore_ascii_case(origin))
        })
        .map(|l| l.message.to_lowercase())
        .collect();
    known
        .into_iter()
        .filter(|s| s.len() >= 3 && msgs.iter().any(|m| m.contains(s.as_str())))
        .collect()
}

pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::LogLevel;

    fn at(min: i64, service: &str, level: LogLevel) -> LogEntry {
        LogEntry {
            ts: chrono::DateTime::parse_from_rfc3339("2026-05-12T09:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc)
                + chrono::Duration::minutes(min),
            level,
            service: service.into(),
            message: "something failed".into(),
            trace_id: None,
        }
    }

    #[test]
    fn sporadic_errors_are_background_and_a_burst_is_a_failure_from_its_start() {
        let lines = vec![
            // A client's 422 now and then: never three within the window.
            at(0, "users", LogLevel::ERROR),
            at(20, "users", LogLevel::ERROR),
            at(40, "users", LogLevel::ERROR),
            // One stray error, then a burst.
            at(1, "analytics", LogLevel::ERROR),
            at(30, "analytics", LogLevel::ERROR),
            at(31, "analytics", LogLevel::ERROR),
            at(33, "analytics", LogLevel::ERROR),
            at(34, "analytics", LogLevel::WARNING),
        ];
        assert_eq!(burst_onset(&lines, "users"), None);
        assert_eq!(burst_onset(&lines, "analytics"), Some(lines[4].ts));
        assert_eq!(burst_onset(&lines, "nobody"), None);
        let profiles = blame::profiles(&lines);
        let since = failing_on_their_own(&profiles, &lines, "gateway", "auth");
        assert_eq!(since.keys().collect::<Vec<_>>(), ["analytics"]);
    }
}
