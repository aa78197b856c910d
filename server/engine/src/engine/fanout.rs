//! The common-factor test. When the origin's calls to several *unrelated* remote parties fail
//! the same way at once, the parties did not all break together: the common factor is the
//! caller — its network or platform for timeouts, its trust store for certificate
//! verification. One party failing says nothing of the kind (that party may be down).
//!
//! A party is the registrable part of a host name (`login.northwind-idp.example` →
//! `northwind-idp.example`), the first label of a cluster-internal name
//! (`redis-cache.accounts.svc` → `redis-cache`), or an IP address.

use super::signals::{self, Family};
use crate::telemetry::LogEntry;
use std::collections::BTreeSet;

/// Suffixes of names that resolve inside the cluster or the company: the service is the
/// first label, not the domain.
const INTERNAL_SUFFIXES: &[&str] = &[
    ".svc",
    ".svc.cluster.local",
    ".cluster.local",
    ".internal",
    ".local",
    ".consul",
    ".lan",
];

/// Top-level labels a host name may end in (enough to tell `a.b.example` from `pkg.mod.Func`).
const TLDS: &[&str] = &[
    "com", "net", "org", "io", "dev", "app", "cloud", "example", "internal", "local", "svc",
    "consul", "lan", "co", "us", "eu", "uk", "de", "ai", "me",
];

/// The parties the origin's error lines of `family` name, deduplicated (see the module note).
pub fn failing_parties(origin_lines: &[LogEntry], family: Option<Family>) -> BTreeSet<String> {
    let Some(family) = family else {
        return BTreeSet::new();
    };
    origin_lines
        .iter()
        .filter(|l| l.level.is_error() && signals::families_of(&l.message).contains(&family))
        .flat_map(|l| parties_in(&l.message))
        .collect()
}

/// The parties one message names: host names and IP addresses.
pub fn parties_in(message: &str) -> BTreeSet<String> {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
        .map(|t| {
            t.trim_matches(|c| c == '.' || c == '-')
                .to_ascii_lowercase()
        })
        .filter_map(|t| party_of(&t))
        .collect()
}

fn party_of(token: &str) -> Option<String> {
    let labels: Vec<&str> = token.split('.').collect();
    if labels.len() == 4 && labels.iter().all(|l| l.parse::<u8>().is_ok()) {
        return Some(token.to_string());
    }
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    let last = *labels.last()?;
    if !TLDS.contains(&last) || labels[0].chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let dotted = format!(".{token}");
    if INTERNAL_SUFFIXES.iter().any(|s| dotted.ends_with(s)) {
        return Some(labels[0].to_string());
    }
    Some(labels[labels.len() - 2..].join("."))
}

/// Enough unrelated parties fail at once for the caller to be the common factor.
pub fn common_factor(parties: &[String]) -> bool {
    parties.len() >= super::params::P.common_factor_min_parties
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::LogLevel;

    fn line(msg: &str) -> LogEntry {
        LogEntry {
            ts: chrono::Utc::now(),
            level: LogLevel::ERROR,
            service: "auth-service".into(),
            message: msg.into(),
            trace_id: None,
        }
    }

    #[test]
    fn parties_are_registrable_domains_internal_services_and_ips() {
        let p = parties_in(
            "HTTPSConnectionPool(host='login.northwind-idp.example', port=443) via sso.northwind-idp.example",
        );
        assert_eq!(p, BTreeSet::from(["northwind-idp.example".to_string()]));
        let p = parties_in(
            "connection to server at \"10.20.14.7\", port 5432 failed; Timeout connecting to redis-cache.accounts.svc:6379",
        );
        assert_eq!(
            p,
            BTreeSet::from(["10.20.14.7".to_string(), "redis-cache".to_string()])
        );
        // Dotted code paths and versions are not hosts.
        assert!(parties_in("at com.acme.Foo.bar(Foo.java:12) version=2.20.0 ratio=0.5").is_empty());
    }

    #[test]
    fn several_parties_failing_the_same_way_make_the_caller_the_common_factor() {
        let cert = |host: &str| {
            line(&format!(
                "SSLError: HTTPSConnectionPool(host='{host}', port=443): certificate verify failed"
            ))
        };
        let lines = vec![
            cert("login.northwind.example"),
            cert("sso.fabrikam.example"),
            cert("id.tailspin.example"),
        ];
        let parties: Vec<String> = failing_parties(&lines, Some(Family::Certificate))
            .into_iter()
            .collect();
        assert_eq!(parties.len(), 3);
        assert!(common_factor(&parties));
        // One vendor, however many of its hosts: that vendor may simply be broken.
        let one = vec![cert("smtp.mailvendor.com"), cert("api.mailvendor.com")];
        let one: Vec<String> = failing_parties(&one, Some(Family::Certificate))
            .into_iter()
            .collect();
        assert_eq!(one, vec!["mailvendor.com".to_string()]);
        assert!(!common_factor(&one));
        // Lines of another family do not count.
        assert!(failing_parties(&lines, Some(Family::Memory)).is_empty());
    }
}
