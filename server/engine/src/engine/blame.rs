//! Origin blame: starting from the service that alerted, follow the dependency graph upstream
//! and move the blame to a dependency when it has its own (not merely propagated) failure that
//! started no later than the alerting service's, especially when the alerting service's errors
//! name it.

use super::signals::{self, Family, Signals};
use super::templates;
use crate::telemetry::LogEntry;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceProfile {
    pub service: String,
    pub errors: usize,
    pub warnings: usize,
    pub first_problem: Option<DateTime<Utc>>,
    pub first_error: Option<DateTime<Utc>>,
    pub signals: Signals,
}

impl ServiceProfile {
    /// Weighted amount of trouble.
    pub fn weight(&self) -> f64 {
        self.errors as f64 + 0.4 * self.warnings as f64
    }

    /// Its own failure (not only "my upstream is failing").
    pub fn has_own_failure(&self) -> bool {
        let own: f64 = [
            Family::CodeError,
            Family::Pool,
            Family::Memory,
            Family::SlowQuery,
            Family::CrashLoop,
            Family::Certificate,
            Family::Dns,
            Family::Disk,
            Family::Platform,
        ]
        .iter()
        .map(|f| self.signals.score(*f))
        .sum();
        own >= 1.0
    }

    /// A failure a datastore has of its own (its machine, its process), not one its callers
    /// give it: slow queries, full pools and a disk filled by their writes are theirs.
    pub fn has_own_datastore_failure(&self) -> bool {
        let own: f64 = [
            Family::CodeError,
            Family::Memory,
            Family::CrashLoop,
            Family::Certificate,
            Family::Dns,
            Family::Platform,
        ]
        .iter()
        .map(|f| self.signals.score(*f))
        .sum();
        own >= 1.0
    }

    pub fn significant(&self) -> bool {
        self.errors >= 2 || (self.warnings >= 3 && self.has_own_failure())
    }
}

/// Per-service profiles of warning-or-worse lines.
pub fn profiles(lines: &[LogEntry]) -> BTreeMap<String, ServiceProfile> {
    let mut by: BTreeMap<String, Vec<LogEntry>> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.level >= crate::telemetry::LogLevel::WARNING)
    {
        by.entry(l.service.clone()).or_default().push(l.clone());
    }
    by.into_iter()
        .map(|(service, ls)| {
            let sigs = templates::mine(&ls);
            let p = ServiceProfile {
                errors: ls.iter().filter(|l| l.level.is_error()).count(),
                warnings: ls.iter().filter(|l| !l.level.is_error()).count(),
                first_problem: ls.iter().map(|l| l.ts).min(),
                first_error: ls.iter().filter(|l| l.level.is_error()).map(|l| l.ts).min(),
                signals: signals::analyse(&sigs),
                service: service.clone(),
            };
            (service, p)
        })
        .collect()
}

/// One node upstream of the alerting service, as `get_dependencies` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upstream {
    pub service: String,
    pub hops: usize,
    pub external: bool,
    /// A deployable service from the catalogue (not a datastore or vendor).
    pub in_catalogue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub service: String,
    pub reason: String,
    /// External dependencies the alerting/origin service's errors point at.
    pub external_suspects: Vec<String>,
    /// When the origin is a datastore its callers lost at once: those callers (lowercase).
    #[serde(default)]
    pub lost_by: Vec<String>,
}

pub fn find_origin(
    alert_service: &str,
    upstream: &[Upstream],
    profiles: &BTreeMap<String, ServiceProfile>,
    lines: &[LogEntry],
) -> Origin {
    let alert_msgs: Vec<String> = lines
        .iter()
        .filter(|l| {
            l.service.eq_ignore_ascii_case(alert_service)
                && l.level >= crate::telemetry::LogLevel::WARNING
        })
        .map(|l| l.message.to_lowercase())
        .collect();
    let mentions = |name: &str| {
        alert_msgs
            .iter()
            .filter(|m| m.contains(&name.to_lowercase()))
            .count()
    };
    let alert_p = profiles.get(alert_service);
    // The alerting service's failure began with its first error (an isolated earlier warning
    // is background noise); without errors, with its first warning.
    let alert_first = alert_p.and_then(|p| p.first_error.or(p.first_problem));

    let mut best: Option<(f64, &Upstream, String)> = None;
    for up in upstream.iter().filter(|u| !u.external) {
        let Some(p) = profiles.get(&up.service) else {
            continue;
        };
        if !p.significant() || !p.has_own_failure() {
            continue;
        }
        // A datastore's slow queries and full pools are what its callers' load does to it; it is
        // the origin only for a failure of its own (disk, crash, platform …) that began first.
        if !up.in_catalogue
            && (!p.has_own_datastore_failure()
                || !matches!((alert_first, p.first_problem), (Some(a), Some(b)) if b <= a))
        {
            continue;
        }
        // Without errors of its own, the alerting service's failure began with its first
        // warning about this dependency (an unrelated earlier warning is background noise).
        let alert_first = alert_p
            .and_then(|p| p.first_error)
            .or_else(|| {
                lines
                    .iter()
                    .filter(|l| {
                        l.service.eq_ignore_ascii_case(alert_service)
                            && l.level >= crate::telemetry::LogLevel::WARNING
                            && l.message
                                .to_lowercase()
                                .contains(&up.service.to_lowercase())
                    })
                    .map(|l| l.ts)
                    .min()
            })
            .or(alert_first);
        // A failure that began well after the alerting service's is a consequence, not a cause.
        if let (Some(a), Some(b)) = (alert_first, p.first_problem)
            && b > a + chrono::Duration::minutes(5)
        {
            continue;
        }
        let m = mentions(&up.service);
        let score = p.weight() * (1.0 + m as f64) / up.hops as f64;
        let reason = format!(
            "{} has its own failure ({} errors, {} warnings) upstream of {} ({} hop{}){}",
            up.service,
            p.errors,
            p.warnings,
            alert_service,
            up.hops,
            if up.hops == 1 { "" } else { "s" },
            if m > 0 {
                format!("; {alert_service} logs name it {m} time(s)")
            } else {
                String::new()
            }
        );
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, up, reason));
        }
    }

    // A vendor is named by its catalogue name, or by all of that name's parts in one line
    // (`cardproc-api` in `https://api.cardproc.example/v3/…`).
    let names_vendor = |name: &str| {
        let name = name.to_lowercase();
        let parts: Vec<&str> = name
            .split(['-', '_', '.'])
            .filter(|p| p.len() >= 3)
            .collect();
        alert_msgs
            .iter()
            .any(|m| m.contains(&name) || (parts.len() >= 2 && parts.iter().all(|p| m.contains(p))))
    };
    let external_suspects: Vec<String> = upstream
        .iter()
        .filter(|u| u.external && names_vendor(&u.service))
        .map(|u| u.service.clone())
        .collect();

    // A datastore that several of its callers lose at once is down itself, whatever their own
    // errors look like (each one's fallback fails in its own way).
    if let Some((store, reason, lost_by)) = lost_by_callers(upstream, profiles, lines, alert_first)
    {
        return Origin {
            service: store,
            reason,
            external_suspects,
            lost_by,
        };
    }
    // Keep the blame on the alerting service when its own failure outweighs the candidate's.
    if let Some((score, up, reason)) = best {
        let own = alert_p.filter(|p| p.has_own_failure() && !p.signals.scores.is_empty());
        let own_code = own
            .map(|p| {
                p.signals.score(Family::CodeError)
                    + p.signals.score(Family::Memory)
                    + p.signals.score(Family::Pool)
            })
            .unwrap_or(0.0);
        let up_mentioned = mentions(&up.service) > 0;
        if own_code <= 2.0 * score.max(1.0) || up_mentioned {
            return Origin {
                service: up.service.clone(),
                reason,
                external_suspects,
                lost_by: vec![],
            };
        }
    }
    let reason = match alert_p {
        Some(p) => format!(
            "{alert_service} shows {} errors and {} warnings of its own; no upstream service shows an earlier failure",
            p.errors, p.warnings
        ),
        None => format!(
            "no warning-level logs for {alert_service}; no upstream service shows a failure"
        ),
    };
    Origin {
        service: alert_service.to_string(),
        reason,
        external_suspects,
        lost_by: vec![],
    }
}

/// Callers that must say they cannot reach one datastore before it is taken to be down (two
/// are enough when the datastore's own lines show a failure of its machine or process).
const LOST_BY_CALLERS: usize = 3;
/// Their first such lines fall within this many minutes of each other: one event, not a
/// series of unrelated blips.
const LOST_TOGETHER_MINUTES: i64 = 10;

/// A datastore (upstream of the alerting service, neither a catalogue service nor a vendor)
/// that several services report unreachable within minutes of each other, the first of them
/// no later than the alerting service's failure began: `(datastore, reason, callers)`. A
/// change on one caller cannot make the others lose it.
fn lost_by_callers(
    upstream: &[Upstream],
    profiles: &BTreeMap<String, ServiceProfile>,
    lines: &[LogEntry],
    alert_first: Option<DateTime<Utc>>,
) -> Option<(String, String, Vec<String>)> {
    upstream
        .iter()
        .filter(|u| !u.external && !u.in_catalogue)
        .filter_map(|u| {
            let store = u.service.to_lowercase();
            let mut callers: BTreeMap<String, (usize, DateTime<Utc>)> = BTreeMap::new();
            for l in lines.iter().filter(|l| {
                l.level >= crate::telemetry::LogLevel::WARNING
                    && !l.service.eq_ignore_ascii_case(&store)
            }) {
                let m = l.message.to_lowercase();
                if m.contains(&store)
                    && super::text::contains_any(&m, super::lexicon::CONNECTION_LOST)
                {
                    let e = callers.entry(l.service.to_lowercase()).or_insert((0, l.ts));
                    e.0 += 1;
                    e.1 = e.1.min(l.ts);
                }
            }
            callers.retain(|_, (n, _)| *n >= 2);
            let own = profiles
                .get(&u.service)
                .is_some_and(ServiceProfile::has_own_datastore_failure);
            let needed = if own { 2 } else { LOST_BY_CALLERS };
            if callers.len() < needed {
                return None;
            }
            let first = callers.values().map(|(_, t)| *t).min()?;
            let last = callers.values().map(|(_, t)| *t).max()?;
            if last - first > chrono::Duration::minutes(LOST_TOGETHER_MINUTES) {
                return None;
            }
            if alert_first.is_some_and(|a| first > a + chrono::Duration::minutes(5)) {
                return None;
            }
            let names: Vec<String> = callers.keys().cloned().collect();
            Some((
                u.service.clone(),
                format!(
                    "{} services lose {} at once ({}), the first at {}: the datastore itself is down",
                    names.len(),
                    u.service,
                    names.join(", "),
                    first.format("%H:%M:%S")
                ),
                names,
            ))
        })
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::LogLevel;

    fn line(m: &str) -> LogEntry {
        LogEntry {
            ts: chrono::Utc::now(),
            level: LogLevel::ERROR,
            service: "payment-service".into(),
            message: m.into(),
            trace_id: None,
        }
    }

    #[test]
    fn a_vendor_is_named_by_its_host_as_well_as_by_its_name() {
        let up = vec![Upstream {
            service: "cardproc-api".into(),
            hops: 1,
            external: true,
            in_catalogue: false,
        }];
        let lines = vec![line(
            "POST https://api.cardproc.example/v3/authorizations -> 503 Service Unavailable",
        )];
        let o = find_origin("payment-service", &up, &profiles(&lines), &lines);
        assert_eq!(o.external_suspects, vec!["cardproc-api".to_string()]);
        // One part of its name alone does not name it.
        let lines = vec![line("rejected webhook from cardproc: timestamp skew 141s")];
        let o = find_origin("payment-service", &up, &profiles(&lines), &lines);
        assert!(o.external_suspects.is_empty(), "{:?}", o.external_suspects);
    }

    fn on(service: &str, min: i64, level: LogLevel, m: &str) -> LogEntry {
        LogEntry {
            ts: chrono::DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc)
                + chrono::Duration::minutes(min),
            level,
            service: service.into(),
            message: m.into(),
            trace_id: None,
        }
    }

    fn datastore(name: &str) -> Vec<Upstream> {
        vec![Upstream {
            service: name.into(),
            hops: 1,
            external: false,
            in_catalogue: false,
        }]
    }

    #[test]
    fn a_datastore_whose_machine_failed_first_is_the_origin() {
        let lines = vec![
            on(
                "orders-db",
                0,
                LogLevel::ERROR,
                "kernel: blk_update_request: I/O error, dev sda",
            ),
            on(
                "orders-db",
                0,
                LogLevel::CRITICAL,
                "PANIC: could not write to file \"pg_wal/0001\": Input/output error",
            ),
            on(
                "orders",
                1,
                LogLevel::ERROR,
                "Traceback: sqlalchemy OperationalError server closed the connection",
            ),
            on(
                "orders",
                2,
                LogLevel::ERROR,
                "Traceback: sqlalchemy OperationalError server closed the connection",
            ),
        ];
        let o = find_origin("orders", &datastore("orders-db"), &profiles(&lines), &lines);
        assert_eq!(o.service, "orders-db", "{o:?}");
    }

    #[test]
    fn a_datastore_with_only_slow_queries_is_not_the_origin() {
        // Slow statements are what its callers' load does to it.
        let lines = vec![
            on(
                "orders-db",
                0,
                LogLevel::ERROR,
                "duration: 9000 ms statement: SELECT * FROM orders slow query",
            ),
            on(
                "orders-db",
                0,
                LogLevel::ERROR,
                "duration: 9100 ms statement: SELECT * FROM orders slow query",
            ),
            on(
                "orders",
                1,
                LogLevel::ERROR,
                "NullPointerException in OrderController",
            ),
            on(
                "orders",
                2,
                LogLevel::ERROR,
                "NullPointerException in OrderController",
            ),
        ];
        let o = find_origin("orders", &datastore("orders-db"), &profiles(&lines), &lines);
        assert_eq!(o.service, "orders", "{o:?}");
    }

    #[test]
    fn an_early_unrelated_warning_on_the_alerting_service_does_not_hide_its_dependencys_failure() {
        let up = vec![Upstream {
            service: "users".into(),
            hops: 1,
            external: false,
            in_catalogue: true,
        }];
        let lines = vec![
            // Background noise, long before.
            on("gateway", 0, LogLevel::WARNING, "JWKS refresh took 655 ms"),
            on(
                "users",
                6,
                LogLevel::ERROR,
                "Traceback: PermissionError: [Errno 13] /var/run/prom",
            ),
            on(
                "users",
                7,
                LogLevel::ERROR,
                "Traceback: PermissionError: [Errno 13] /var/run/prom",
            ),
            on(
                "gateway",
                6,
                LogLevel::WARNING,
                "upstream=users status=500 route=/v1/users/me",
            ),
            on(
                "gateway",
                7,
                LogLevel::WARNING,
                "upstream=users status=500 route=/v1/users/me",
            ),
        ];
        let o = find_origin("gateway", &up, &profiles(&lines), &lines);
        assert_eq!(o.service, "users", "{o:?}");
    }

    #[test]
    fn a_datastore_its_callers_all_lose_at_once_is_the_origin() {
        let mut up = datastore("redis-cache");
        up.push(Upstream {
            service: "auth".into(),
            hops: 1,
            external: false,
            in_catalogue: true,
        });
        let lost = |service: &str, min: i64, level: LogLevel| {
            on(
                service,
                min,
                level,
                "redis-cache unreachable: Connection timed out (redis-cache.prod:6379)",
            )
        };
        let mut lines = vec![
            // The caller with the recent deploy fails loudest, with tracebacks of its own.
            on(
                "auth",
                0,
                LogLevel::ERROR,
                "Traceback: redis.exceptions.ConnectionError: Error 113 connecting to redis-cache.prod:6379. No route to host.",
            ),
            on(
                "auth",
                1,
                LogLevel::ERROR,
                "Traceback: redis.exceptions.ConnectionError: Error 113 connecting to redis-cache.prod:6379. No route to host.",
            ),
            on(
                "gateway",
                1,
                LogLevel::ERROR,
                "upstream auth 503 UT POST /auth.v1.Session/Validate",
            ),
            on(
                "gateway",
                2,
                LogLevel::ERROR,
                "upstream auth 503 UT POST /auth.v1.Session/Validate",
            ),
        ];
        let o = find_origin("gateway", &up, &profiles(&lines), &lines);
        assert_eq!(
            o.service, "auth",
            "one caller losing it says nothing yet: {o:?}"
        );
        lines.extend([
            lost("gateway", 1, LogLevel::WARNING),
            lost("gateway", 2, LogLevel::WARNING),
            lost("users", 1, LogLevel::WARNING),
            lost("users", 3, LogLevel::WARNING),
        ]);
        let o = find_origin("gateway", &up, &profiles(&lines), &lines);
        assert_eq!(o.service, "redis-cache", "{o:?}");
        assert_eq!(o.lost_by, vec!["auth", "gateway", "users"]);
        assert!(
            o.reason.contains("3 services lose redis-cache at once"),
            "{}",
            o.reason
        );
        // Losing it in turns, half an hour apart, is not one outage.
        let apart: Vec<LogEntry> = lines
            .iter()
            .cloned()
            .map(|mut l| {
                if l.service == "users" {
                    l.ts += chrono::Duration::minutes(30);
                }
                l
            })
            .collect();
        let o = find_origin("gateway", &up, &profiles(&apart), &apart);
        assert_eq!(o.service, "auth", "{o:?}");
    }
}
