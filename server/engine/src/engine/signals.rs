//! Failure-class recognition: each class has phrase families; a line that matches adds weight
//! by its level (errors count more than warnings, repeats count with diminishing returns).

use super::lexicon;
use super::templates::Signature;
use crate::telemetry::LogLevel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The evidence families the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Connection pool saturation or leaked connections/cursors.
    Pool,
    /// Heap growth, OOM, GC thrash, leaked listeners.
    Memory,
    /// Calls to a dependency failing: 5xx, timeouts, refused connections.
    Upstream,
    /// Crash loops and restarts.
    CrashLoop,
    /// TLS / certificate failures.
    Certificate,
    /// Name resolution failures.
    Dns,
    /// Code defects: exceptions, missing config/env, type errors.
    CodeError,
    /// Slow queries, missing indexes.
    SlowQuery,
    /// Load: traffic spikes, rate limiting, saturation.
    Load,
    /// Storage exhausted: disk or volume full, inodes, quota.
    Disk,
    /// The platform under the services: nodes not ready, a zone down, no capacity to schedule.
    Platform,
}

impl Family {
    pub const ALL: [Family; 11] = [
        Family::Pool,
        Family::Memory,
        Family::Upstream,
        Family::CrashLoop,
        Family::Certificate,
        Family::Dns,
        Family::CodeError,
        Family::SlowQuery,
        Family::Load,
        Family::Disk,
        Family::Platform,
    ];

    /// The wire name (`crash_loop`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Pool => "pool",
            Family::Memory => "memory",
            Family::Upstream => "upstream",
            Family::CrashLoop => "crash_loop",
            Family::Certificate => "certificate",
            Family::Dns => "dns",
            Family::CodeError => "code_error",
            Family::SlowQuery => "slow_query",
            Family::Load => "load",
            Family::Disk => "disk",
            Family::Platform => "platform",
        }
    }

    /// Every family's name, comma separated (for prompts).
    pub fn prompt_list() -> String {
        Self::ALL.map(Family::as_str).join(", ")
    }
}

/// Weighted evidence per family for a set of signatures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    pub scores: BTreeMap<Family, f64>,
    /// Up to three example messages per family.
    pub examples: BTreeMap<Family, Vec<String>>,
}

impl Signals {
    pub fn score(&self, f: Family) -> f64 {
        self.scores.get(&f).copied().unwrap_or(0.0)
    }

    /// The strongest family among `among`, with its score.
    pub fn strongest(&self, among: &[Family]) -> Option<(Family, f64)> {
        among
            .iter()
            .map(|f| (*f, self.score(*f)))
            .filter(|(_, s)| *s > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

fn level_weight(l: LogLevel) -> f64 {
    match l {
        LogLevel::CRITICAL => 1.5,
        LogLevel::ERROR => 1.0,
        LogLevel::WARNING => 0.4,
        LogLevel::INFO => 0.05,
        LogLevel::DEBUG => 0.0,
    }
}

/// The first item whose message belongs to `family` — the line that says what failed, more
/// telling than a generic rate or timeout line — else the first item (the most frequent).
pub fn telling<T>(items: &[T], family: Option<Family>, message: impl Fn(&T) -> &str) -> Option<&T> {
    items
        .iter()
        .find(|s| family.is_some_and(|f| families_of(message(s)).contains(&f)))
        .or(items.first())
}

/// Which families a message matches.
pub fn families_of(message: &str) -> Vec<Family> {
    let m = format!(" {}", message.to_lowercase());
    let mut out: Vec<Family> = lexicon::FAMILY_PHRASES
        .iter()
        .filter(|(_, needles)| needles.iter().any(|n| m.contains(n)))
        .map(|(f, _)| *f)
        .collect();
    // Generic exception words next to a timeout describe a failed call, not a code defect
    // (`SocketTimeoutException: Read timed out`).
    if out.contains(&Family::Upstream) && out.contains(&Family::CodeError) {
        let code = lexicon::FAMILY_PHRASES
            .iter()
            .find(|(f, _)| *f == Family::CodeError)
            .map(|(_, n)| *n)
            .unwrap_or(&[]);
        let strong = code
            .iter()
            .filter(|n| !lexicon::WEAK_CODE.contains(n))
            .any(|n| m.contains(n));
        if !strong || m.contains("timeoutexception") || m.contains("connectexception") {
            out.retain(|f| *f != Family::CodeError);
        }
    }
    // A bare "timeout" next to a database family is the database's (`statement timeout`,
    // `PoolTimeout`), not a failing call to another service.
    if out.contains(&Family::Upstream)
        && (out.contains(&Family::SlowQuery) || out.contains(&Family::Pool))
    {
        let upstream = lexicon::FAMILY_PHRASES
            .iter()
            .find(|(f, _)| *f == Family::Upstream)
            .map(|(_, n)| *n)
            .unwrap_or(&[]);
        let specific = upstream
            .iter()
            .filter(|n| !matches!(**n, "timeout" | "timed out"))
            .any(|n| m.contains(n));
        if !specific {
            out.retain(|f| *f != Family::Upstream);
        }
    }
    out
}

pub fn analyse(sigs: &[Signature]) -> Signals {
    let mut s = Signals::default();
    for sig in sigs {
        let w = level_weight(sig.level) * (1.0 + (sig.count as f64).ln());
        if w <= 0.0 {
            continue;
        }
        for f in families_of(&sig.example) {
            *s.scores.entry(f).or_default() += w;
            let ex = s.examples.entry(f).or_default();
            if ex.len() < 3 {
                ex.push(sig.example.clone());
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_names_are_the_wire_names() {
        for f in Family::ALL {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
    }

    #[test]
    fn the_telling_line_is_the_one_that_names_the_family() {
        let lines = [
            "5xx ratio above threshold on checkout",
            "HikariPool-1 - Connection is not available, request timed out after 30000ms",
        ];
        let pick = |f| telling(&lines, f, |l| l).copied();
        assert_eq!(pick(Some(Family::Pool)), Some(lines[1]));
        // No family, or none of the lines in it: the first (most frequent) line.
        assert_eq!(pick(None), Some(lines[0]));
        assert_eq!(pick(Some(Family::Dns)), Some(lines[0]));
        assert_eq!(telling(&[] as &[&str], Some(Family::Pool), |l| l), None);
    }

    #[test]
    fn phrases_map_to_families() {
        assert!(
            families_of(
                "HikariPool-1 - Connection is not available, request timed out after 30000ms"
            )
            .contains(&Family::Pool)
        );
        assert!(
            families_of("java.lang.OutOfMemoryError: Java heap space").contains(&Family::Memory)
        );
        assert!(
            families_of("POST https://api.vendor.example/charge -> 503 Service Unavailable")
                .contains(&Family::Upstream)
        );
        assert!(
            families_of("x509: certificate has expired or is not yet valid")
                .contains(&Family::Certificate)
        );
        assert!(families_of("dial tcp: lookup db.internal: no such host").contains(&Family::Dns));
        assert!(
            families_of("Back-off restarting failed container (CrashLoopBackOff)")
                .contains(&Family::CrashLoop)
        );
        assert!(
            families_of("AttributeError: 'Connection' object has no attribute 'execute'")
                .contains(&Family::CodeError)
        );
        assert!(families_of("routine token refresh completed").is_empty());
        let timeout =
            families_of("Upstream call failed: java.net.SocketTimeoutException: Read timed out");
        assert!(timeout.contains(&Family::Upstream) && !timeout.contains(&Family::CodeError));
        assert!(
            families_of("NullPointerException in AuthMiddleware after upstream call")
                .contains(&Family::CodeError)
        );
        let db = families_of(
            "psycopg.errors.QueryCanceled: canceling statement due to statement timeout",
        );
        assert_eq!(db, vec![Family::SlowQuery]);
        let pool =
            families_of("psycopg_pool.PoolTimeout: couldn't get a connection after 5.00 sec");
        assert_eq!(pool, vec![Family::Pool]);
        assert!(
            families_of("Node ip-10-42-17-88 status is now: NodeNotReady (zone eu-west-1b)")
                .contains(&Family::Platform)
        );
        // A call that timed out on a gateway is still a failed call.
        assert!(
            families_of("upstream user-service timed out after 2000ms").contains(&Family::Upstream)
        );
    }

    #[test]
    fn storage_faults_are_the_platforms_and_an_expired_password_is_an_expiry() {
        assert!(
            families_of("blk_update_request: I/O error, dev sda, sector 1881621504")
                .contains(&Family::Platform)
        );
        assert!(
            families_of("PANIC: could not write to file: Input/output error")
                .contains(&Family::Platform)
        );
        assert!(
            families_of("kernel: nvme nvme1: I/O 877 QID 3 timeout, aborting")
                .contains(&Family::Platform)
        );
        assert!(!families_of("dial tcp 10.0.0.1:443: i/o timeout").contains(&Family::Platform));
        assert!(
            families_of("FATAL: password authentication failed for user \"app\" DETAIL: User \"app\" has an expired password.")
                .contains(&Family::Certificate)
        );
    }
}
