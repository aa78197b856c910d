//! The version split: which versions of a service were failing. A deploy is the cause only
//! if its errors come from the instances that run it; when instances still on the old version
//! fail the same way, the deploy happened to be nearby and is cleared (a vendor outage, a
//! database failover, a network partition do not care which build an instance runs). The
//! evidence comes from version fields in log lines (`version=2.4.1`, `"build":"a1b2c3d"`,
//! `image=…:v2.4.1`) and from metric series split by a `version` label
//! (`error_ratio{version="v2.4.1"}`, as the Prometheus connector names them).

use super::params::P;
use super::trend::Series;
use crate::telemetry::LogEntry;
use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// Log lines per (service, version): how many, how many errors, when each was first seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionStat {
    pub service: String,
    pub version: String,
    pub first_seen: DateTime<Utc>,
    /// Timestamps of the error lines (capped).
    pub errors: Vec<DateTime<Utc>>,
    /// Timestamps of all lines (capped).
    pub seen: Vec<DateTime<Utc>>,
    /// The failure families its error lines belong to.
    #[serde(default)]
    pub error_families: BTreeSet<super::signals::Family>,
}

/// What the version split says of one change.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// Errors only on instances running the change's version, while instances on another
    /// version kept running: evidence for it.
    OnlyNew { reason: String },
    /// Instances without the change failed too: it is cleared.
    AlsoOld { reason: String },
}

impl Split {
    pub fn reason(&self) -> &str {
        match self {
            Split::OnlyNew { reason } | Split::AlsoOld { reason } => reason,
        }
    }
}

const KEEP_PER_VERSION: usize = 2000;

static KEYED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:^|[\s{,;(\["'/])(?:app_?version|service_?version|svc_?version|version|ver|build_?id|build|release|revision|git_?sha|image_?tag)["']?\s*[=:]\s*["']?([A-Za-z0-9][A-Za-z0-9._+\-]*)"#,
    )
    .expect("static regex")
});
static IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\bimage["']?\s*[=:]\s*["']?[A-Za-z0-9./_\-]+:([A-Za-z0-9][A-Za-z0-9._+\-]*)"#)
        .expect("static regex")
});
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bv\d+\.\d+(?:\.\d+)?(?:-[A-Za-z0-9.]+)?\b").expect("static regex")
});
static ANY_VERSIONISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bv?\d+\.\d+(?:\.\d+)?(?:-[A-Za-z0-9.]+)?\b|\b[0-9a-f]{7,40}\b")
        .expect("static regex")
});

/// `v2.4.1` and `2.4.1` are the same version; a commit prefix matches its full hash.
pub fn normalise(v: &str) -> String {
    let v = v
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_lowercase();
    match v.strip_prefix('v') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest.to_string(),
        _ => v,
    }
}

fn same(a: &str, b: &str) -> bool {
    a == b || (a.len() >= 7 && b.len() >= 7 && (a.starts_with(b) || b.starts_with(a)))
}

/// The version a log line says its instance runs, if it says one.
pub fn version_in(message: &str) -> Option<String> {
    if let Some(c) = IMAGE.captures(message) {
        return Some(normalise(&c[1]));
    }
    if let Some(c) = KEYED.captures(message) {
        let v = normalise(&c[1]);
        // `version=2` or `build=ok` say nothing about a build.
        if v.chars().any(|c| c.is_ascii_digit()) && v.len() >= 2 {
            return Some(v);
        }
    }
    BARE.find(message).map(|m| normalise(m.as_str()))
}

/// Versions per service from log lines.
pub fn stats(lines: &[LogEntry]) -> Vec<VersionStat> {
    let mut by: BTreeMap<(String, String), VersionStat> = BTreeMap::new();
    for l in lines {
        let Some(v) = version_in(&l.message) else {
            continue;
        };
        let svc = l.service.to_lowercase();
        let s = by
            .entry((svc.clone(), v.clone()))
            .or_insert_with(|| VersionStat {
                service: svc,
                version: v,
                first_seen: l.ts,
                errors: Vec::new(),
                seen: Vec::new(),
                error_families: BTreeSet::new(),
            });
        s.first_seen = s.first_seen.min(l.ts);
        if s.seen.len() < KEEP_PER_VERSION {
            s.seen.push(l.ts);
        }
        if l.level.is_error() && s.errors.len() < KEEP_PER_VERSION {
            s.errors.push(l.ts);
            s.error_families
                .extend(super::signals::families_of(&l.message));
        }
    }
    by.into_values().collect()
}

/// The versions a change names (in its id, description or commit) among `known`.
fn named_versions(texts: &[&str], known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in texts {
        for m in ANY_VERSIONISH.find_iter(&t.to_lowercase()) {
            let v = normalise(m.as_str());
            for k in known {
                if same(&v, k) {
                    out.insert(k.clone());
                }
            }
        }
    }
    out
}

/// The change's version among a service's versions: the one it names, else the versions
/// first seen only after it landed (and not before any other version).
fn new_versions(
    service_versions: &[&VersionStat],
    change_ts: DateTime<Utc>,
    texts: &[&str],
) -> BTreeSet<String> {
    let known: BTreeSet<String> = service_versions.iter().map(|s| s.version.clone()).collect();
    let named = named_versions(texts, &known);
    if !named.is_empty() {
        return named;
    }
    let tolerance = chrono::Duration::seconds((P.landed_after_tolerance_minutes * 60.0) as i64);
    let before: Vec<&&VersionStat> = service_versions
        .iter()
        .filter(|s| s.first_seen < change_ts - tolerance)
        .collect();
    if !before.is_empty() {
        // Versions already running before the change are old; those that appeared after it
        // are what it shipped.
        return service_versions
            .iter()
            .filter(|s| s.first_seen >= change_ts - tolerance)
            .map(|s| s.version.clone())
            .collect();
    }
    // Every version was first seen after the change (the lines before it were not read, or
    // were quiet): the highest release number is the new one, when they all have one.
    let mut numbered: Vec<(Vec<u64>, &str)> = Vec::new();
    for s in service_versions {
        match release_number(&s.version) {
            Some(n) => numbered.push((n, &s.version)),
            None => return BTreeSet::new(),
        }
    }
    numbered.sort();
    numbered
        .last()
        .map(|(_, v)| BTreeSet::from([v.to_string()]))
        .unwrap_or_default()
}

/// `4.18.0` → `[4, 18, 0]`; a commit hash or a name has none.
fn release_number(v: &str) -> Option<Vec<u64>> {
    let core = v.split(['-', '+']).next()?;
    let parts: Vec<u64> = core
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (parts.len() >= 2).then_some(parts)
}

/// What the log lines' versions say of a change on `service` at `ts`.
pub fn judge_logs(
    stats: &[VersionStat],
    service: &str,
    ts: DateTime<Utc>,
    texts: &[&str],
) -> Option<Split> {
    let svc = service.to_lowercase();
    let mine: Vec<&VersionStat> = stats.iter().filter(|s| s.service == svc).collect();
    if mine.len() < 2 {
        return None;
    }
    let new = new_versions(&mine, ts, texts);
    if new.is_empty() || new.len() == mine.len() {
        return None;
    }
    let after = |v: &[DateTime<Utc>]| v.iter().filter(|t| **t >= ts).count();
    let (mut new_err, mut old_err, mut old_alive) = (0usize, 0usize, 0usize);
    let mut old_failing: Vec<String> = Vec::new();
    let (mut new_first, mut old_first): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
        (None, None);
    let earliest = |v: &[DateTime<Utc>]| v.iter().filter(|t| **t >= ts).min().copied();
    let (mut new_kinds, mut old_kinds) = (BTreeSet::new(), BTreeSet::new());
    for s in &mine {
        if new.contains(&s.version) {
            new_err += after(&s.errors);
            new_first = new_first.into_iter().chain(earliest(&s.errors)).min();
            new_kinds.extend(s.error_families.iter().copied());
        } else {
            let e = after(&s.errors);
            old_err += e;
            old_alive += after(&s.seen);
            old_first = old_first.into_iter().chain(earliest(&s.errors)).min();
            old_kinds.extend(s.error_families.iter().copied());
            if e > 0 {
                old_failing.push(s.version.clone());
            }
        }
    }
    let total = new_err + old_err;
    let new_list = new.iter().cloned().collect::<Vec<_>>().join(", ");
    if old_err >= P.version_min_lines && old_err as f64 >= P.version_old_share_clears * total as f64
    {
        return Some(Split::AlsoOld {
            reason: format!(
                "instances still on {} failed too ({old_err} of {total} error lines), so the failure does not follow version {new_list}",
                old_failing.join(", ")
            ),
        });
    }
    if new_err >= P.version_min_lines && old_err == 0 && old_alive > 0 {
        return Some(Split::OnlyNew {
            reason: format!(
                "errors only on instances running {new_list} ({new_err} error lines); instances on the previous version kept running without errors"
            ),
        });
    }
    // A few errors of another kind on the old version, all after the new one's began: its
    // peers' failed calls to the failing instances, not the same failure.
    if new_err >= P.version_min_lines
        && old_err as f64 <= P.version_old_share_follows * total as f64
        && matches!((new_first, old_first), (Some(n), Some(o)) if o > n)
        && !new_kinds.is_empty()
        && new_kinds.is_disjoint(&old_kinds)
    {
        return Some(Split::OnlyNew {
            reason: format!(
                "errors began on instances running {new_list} ({new_err} error lines); the previous version's {old_err} came after, as its peers of the failing instances"
            ),
        });
    }
    None
}

/// The version inside a split series name (`error_ratio{version="v2"}` → `2`).
fn split_version(metric: &str) -> Option<(String, String)> {
    let (name, rest) = metric.split_once("{version=\"")?;
    let v = rest.strip_suffix("\"}")?;
    Some((name.to_string(), normalise(v)))
}

/// What metric series split by version say of a change on `service` at `ts`: is the error
/// series of instances without it bad after it landed, like that of instances with it?
pub fn judge_metrics(
    series: &[Series],
    service: &str,
    ts: DateTime<Utc>,
    texts: &[&str],
) -> Option<Split> {
    let mut per: BTreeMap<String, Vec<(String, &Series)>> = BTreeMap::new();
    for s in series
        .iter()
        .filter(|s| s.service.eq_ignore_ascii_case(service))
    {
        if let Some((name, v)) = split_version(&s.metric)
            && name.contains("error")
        {
            per.entry(name).or_default().push((v, s));
        }
    }
    for (name, versions) in per {
        if versions.len() < 2 {
            continue;
        }
        let known: BTreeSet<String> = versions.iter().map(|(v, _)| v.clone()).collect();
        let mut new = named_versions(texts, &known);
        if new.is_empty() {
            // The versions that started reporting only after the change.
            new = versions
                .iter()
                .filter(|(_, s)| s.points.first().is_some_and(|p| p.0 >= ts))
                .map(|(v, _)| v.clone())
                .collect();
        }
        if new.is_empty() || new.len() == versions.len() {
            continue;
        }
        let bad_after = |s: &Series| -> Option<bool> {
            let before: Vec<f64> = s.points.iter().filter(|p| p.0 < ts).map(|p| p.1).collect();
            let after: Vec<f64> = s.points.iter().filter(|p| p.0 >= ts).map(|p| p.1).collect();
            if after.is_empty() {
                return None;
            }
            let base = if before.is_empty() {
                0.0
            } else {
                before.iter().sum::<f64>() / before.len() as f64
            };
            let peak = after.iter().copied().fold(f64::MIN, f64::max);
            Some(peak >= P.version_bad_floor && peak >= base * 3.0)
        };
        let new_bad = versions
            .iter()
            .filter(|(v, _)| new.contains(v))
            .any(|(_, s)| bad_after(s) == Some(true));
        // When the new version first looked bad: an old version says something about the
        // failure only by reporting after that (one that a finished rollout replaced
        // everywhere before it went wrong was not there to stay healthy).
        let turned_bad = versions
            .iter()
            .filter(|(v, _)| new.contains(v))
            .filter_map(|(_, s)| {
                let base = s
                    .points
                    .iter()
                    .filter(|p| p.0 < ts)
                    .map(|p| p.1)
                    .fold(0.0, f64::max);
                s.points
                    .iter()
                    .find(|p| p.0 >= ts && p.1 >= P.version_bad_floor && p.1 >= base * 3.0)
                    .map(|p| p.0)
            })
            .min();
        let old: Vec<_> = versions
            .iter()
            .filter(|(v, _)| !new.contains(v))
            .filter(|(_, s)| turned_bad.is_none_or(|t| s.points.last().is_some_and(|p| p.0 > t)))
            .collect();
        let old_bad: Vec<String> = old
            .iter()
            .filter(|(_, s)| bad_after(s) == Some(true))
            .map(|(v, _)| v.clone())
            .collect();
        let new_list = new.iter().cloned().collect::<Vec<_>>().join(", ");
        if !old_bad.is_empty() {
            return Some(Split::AlsoOld {
                reason: format!(
                    "{name} rose on instances still on {} as well as on {new_list}: the failure does not follow the version",
                    old_bad.join(", ")
                ),
            });
        }
        if new_bad && old.iter().any(|(_, s)| bad_after(s) == Some(false)) {
            return Some(Split::OnlyNew {
                reason: format!(
                    "{name} rose only on instances running {new_list}; the other versions stayed at their baseline"
                ),
            });
        }
    }
    None
}

/// Values of a flag-split label where the change is present / absent.
const FLAG_ON: &[&str] = &["on", "true", "enabled", "1", "treatment", "variant", "yes"];
const FLAG_OFF: &[&str] = &["off", "false", "disabled", "0", "control", "no"];

/// What series split by a flag's label say of a flag change: `decline_rate{ff_x="on"}` bad and
/// `decline_rate{ff_x="off"}` at baseline convicts the change that turned `x` on; both bad
/// clears it. The label must name the flag the change is about.
pub fn judge_flag_metrics(
    series: &[Series],
    service: &str,
    ts: DateTime<Utc>,
    texts: &[&str],
) -> Option<Split> {
    let text = texts.join(" ").to_lowercase().replace(['-', '.'], "_");
    /// The series where the flag is on, and where it is off.
    type Sides<'a> = (Vec<&'a Series>, Vec<&'a Series>);
    let mut per: BTreeMap<(String, String), Sides> = BTreeMap::new();
    for s in series
        .iter()
        .filter(|s| s.service.eq_ignore_ascii_case(service))
    {
        let Some((name, rest)) = s.metric.split_once('{') else {
            continue;
        };
        let Some((key, value)) = rest.strip_suffix("\"}").and_then(|r| r.split_once("=\"")) else {
            continue;
        };
        let flag = key
            .trim_start_matches("ff_")
            .trim_start_matches("flag_")
            .trim_start_matches("feature_")
            .to_lowercase();
        if key == "version" || flag.len() < 4 || !text.contains(&flag) {
            continue;
        }
        let e = per.entry((name.to_string(), key.to_string())).or_default();
        let v = value.to_lowercase();
        if FLAG_ON.contains(&v.as_str()) {
            e.0.push(s);
        } else if FLAG_OFF.contains(&v.as_str()) {
            e.1.push(s);
        }
    }
    for ((name, key), (on, off)) in per {
        if on.is_empty() || off.is_empty() {
            continue;
        }
        let base: Vec<f64> = off
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| p.0 < ts).map(|p| p.1))
            .collect();
        let base = if base.is_empty() {
            0.0
        } else {
            base.iter().sum::<f64>() / base.len() as f64
        };
        let bad = |s: &Series| {
            let after: Vec<f64> = s.points.iter().filter(|p| p.0 >= ts).map(|p| p.1).collect();
            let peak = after.iter().copied().fold(f64::MIN, f64::max);
            !after.is_empty() && peak >= P.version_bad_floor && peak >= base.max(1e-9) * 3.0
        };
        let on_bad = on.iter().any(|s| bad(s));
        let off_bad = off.iter().any(|s| bad(s));
        if on_bad && off_bad {
            return Some(Split::AlsoOld {
                reason: format!("{name} rose where {key} is off as well as where it is on"),
            });
        }
        if on_bad {
            return Some(Split::OnlyNew {
                reason: format!(
                    "{name} rose only where {key} is on; where it is off it stayed at its baseline"
                ),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::LogLevel;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(min)
    }

    fn line(min: i64, level: LogLevel, msg: &str) -> LogEntry {
        LogEntry {
            ts: at(min),
            level,
            service: "checkout".into(),
            message: msg.into(),
            trace_id: None,
        }
    }

    #[test]
    fn versions_are_read_from_the_usual_fields() {
        assert_eq!(
            version_in("level=error version=2.4.1 msg=boom").as_deref(),
            Some("2.4.1")
        );
        assert_eq!(
            version_in(r#"{"msg":"x","app_version":"v3.1.0"}"#).as_deref(),
            Some("3.1.0")
        );
        assert_eq!(
            version_in("pod started image=reg.io/checkout:v2.4.1").as_deref(),
            Some("2.4.1")
        );
        assert_eq!(
            version_in("handler failed build=a1b2c3d").as_deref(),
            Some("a1b2c3d")
        );
        assert_eq!(
            version_in("checkout v2.4.0 serving").as_deref(),
            Some("2.4.0")
        );
        assert_eq!(version_in("connection refused to db"), None);
        // A protocol version without digits-and-dots is not a build.
        assert_eq!(version_in("version=2 handshake"), None);
    }

    fn stats_for(lines: &[LogEntry]) -> Vec<VersionStat> {
        stats(lines)
    }

    #[test]
    fn errors_on_the_old_version_too_clear_the_deploy() {
        let mut lines = vec![line(-30, LogLevel::WARNING, "slow response version=2.4.0")];
        for m in 1..6 {
            lines.push(line(
                m,
                LogLevel::ERROR,
                "payment gateway timeout version=2.4.0",
            ));
            lines.push(line(
                m,
                LogLevel::ERROR,
                "payment gateway timeout version=2.4.1",
            ));
        }
        let s = stats_for(&lines);
        let v = judge_logs(&s, "checkout", at(0), &["release 2.4.1"]).unwrap();
        assert!(matches!(v, Split::AlsoOld { .. }), "{v:?}");
        assert!(v.reason().contains("2.4.0"), "{}", v.reason());
    }

    #[test]
    fn errors_only_on_the_new_version_are_evidence_for_it() {
        let mut lines = vec![line(-30, LogLevel::WARNING, "slow response version=2.4.0")];
        for m in 1..6 {
            lines.push(line(
                m,
                LogLevel::ERROR,
                "NullPointerException version=2.4.1",
            ));
            lines.push(line(
                m,
                LogLevel::WARNING,
                "retrying upstream version=2.4.0",
            ));
        }
        let s = stats_for(&lines);
        // The deploy does not name its version: the one first seen after it is the new one.
        let v = judge_logs(&s, "checkout", at(0), &["refactor the cart"]).unwrap();
        assert!(matches!(v, Split::OnlyNew { .. }), "{v:?}");
    }

    #[test]
    fn without_lines_before_the_change_the_higher_release_is_the_new_one() {
        // Only warnings were read: both versions first show after the deploy.
        let mut lines = vec![];
        for m in 1..6 {
            lines.push(line(
                m,
                LogLevel::ERROR,
                "POST /v2/checkout 500 version=v4.18.0",
            ));
        }
        lines.push(line(
            3,
            LogLevel::WARNING,
            "slow POST /v2/checkout version=v4.17.3",
        ));
        let v = judge_logs(
            &stats_for(&lines),
            "checkout",
            at(0),
            &["add promotion check"],
        )
        .unwrap();
        assert!(matches!(v, Split::OnlyNew { .. }), "{v:?}");
        assert!(v.reason().contains("4.18.0"), "{}", v.reason());
        // Commits cannot be ordered: nothing is said.
        let lines = vec![
            line(1, LogLevel::ERROR, "boom build=a1b2c3d4"),
            line(2, LogLevel::ERROR, "boom build=a1b2c3d4"),
            line(3, LogLevel::WARNING, "slow build=ffee0011"),
        ];
        assert_eq!(
            judge_logs(&stats_for(&lines), "checkout", at(0), &["x"]),
            None
        );
    }

    #[test]
    fn one_version_or_no_versions_says_nothing() {
        let lines: Vec<LogEntry> = (1..6)
            .map(|m| line(m, LogLevel::ERROR, "boom version=2.4.1"))
            .collect();
        assert_eq!(
            judge_logs(&stats_for(&lines), "checkout", at(0), &["2.4.1"]),
            None
        );
        let lines: Vec<LogEntry> = (1..6).map(|m| line(m, LogLevel::ERROR, "boom")).collect();
        assert_eq!(judge_logs(&stats_for(&lines), "checkout", at(0), &[]), None);
    }

    fn series(metric: &str, pts: &[(i64, f64)]) -> Series {
        Series {
            service: "checkout".into(),
            metric: metric.into(),
            points: pts.iter().map(|(m, v)| (at(*m), *v)).collect(),
        }
    }

    #[test]
    fn a_flag_split_series_convicts_or_clears_the_flag_change() {
        let off = series(
            "decline_rate{ff_network_tokens=\"off\"}",
            &[(-20, 0.04), (-10, 0.042), (5, 0.041), (10, 0.043)],
        );
        let on = series(
            "decline_rate{ff_network_tokens=\"on\"}",
            &[(2, 0.44), (5, 0.45), (10, 0.46)],
        );
        let v = judge_flag_metrics(
            &[off.clone(), on.clone()],
            "checkout",
            at(0),
            &["network_tokens rollout 0% -> 40%"],
        )
        .unwrap();
        assert!(matches!(v, Split::OnlyNew { .. }), "{v:?}");
        let off_bad = series(
            "decline_rate{ff_network_tokens=\"off\"}",
            &[(-20, 0.04), (-10, 0.042), (5, 0.3), (10, 0.4)],
        );
        let v = judge_flag_metrics(
            &[off_bad, on.clone()],
            "checkout",
            at(0),
            &["network_tokens rollout"],
        )
        .unwrap();
        assert!(matches!(v, Split::AlsoOld { .. }), "{v:?}");
        // A split by some other flag says nothing about this change.
        assert_eq!(
            judge_flag_metrics(
                &[off, on],
                "checkout",
                at(0),
                &["address autocomplete rollout"]
            ),
            None
        );
    }

    #[test]
    fn split_error_series_clear_or_confirm() {
        let old_bad = series(
            "error_ratio{version=\"v2.4.0\"}",
            &[(-20, 0.001), (-10, 0.001), (5, 0.3), (10, 0.4)],
        );
        let old_ok = series(
            "error_ratio{version=\"v2.4.0\"}",
            &[(-20, 0.001), (-10, 0.001), (5, 0.001), (10, 0.002)],
        );
        let new_bad = series(
            "error_ratio{version=\"v2.4.1\"}",
            &[(2, 0.3), (5, 0.35), (10, 0.4)],
        );
        let v = judge_metrics(&[old_bad, new_bad.clone()], "checkout", at(0), &[]).unwrap();
        assert!(matches!(v, Split::AlsoOld { .. }), "{v:?}");
        let v = judge_metrics(&[old_ok, new_bad], "checkout", at(0), &["deploy v2.4.1"]).unwrap();
        assert!(matches!(v, Split::OnlyNew { .. }), "{v:?}");
    }

    #[test]
    fn a_version_replaced_everywhere_before_the_failure_does_not_clear_or_blame() {
        // The rollout finished at 2; the old version's series stops there, and the new one
        // goes bad at 5 (a vendor failing, say): the old one was not there to stay healthy.
        let gone = series(
            "error_ratio{version=\"v2.4.0\"}",
            &[(-20, 0.001), (-10, 0.001), (1, 0.001), (2, 0.001)],
        );
        let new_bad = series(
            "error_ratio{version=\"v2.4.1\"}",
            &[(2, 0.001), (5, 0.35), (10, 0.4)],
        );
        assert_eq!(
            judge_metrics(
                &[gone, new_bad.clone()],
                "checkout",
                at(0),
                &["deploy v2.4.1"]
            ),
            None
        );
        // Still running when the new version went bad, and healthy: that is evidence.
        let running = series(
            "error_ratio{version=\"v2.4.0\"}",
            &[(-20, 0.001), (-10, 0.001), (5, 0.001), (10, 0.002)],
        );
        let v = judge_metrics(&[running, new_bad], "checkout", at(0), &["deploy v2.4.1"]).unwrap();
        assert!(matches!(v, Split::OnlyNew { .. }), "{v:?}");
    }

    #[test]
    fn a_kubernetes_version_label_names_the_version() {
        assert_eq!(
            version_in("[k8s pod=edge/p-1 app.kubernetes.io/version=4.18.0] fatal error: concurrent map writes")
                .as_deref(),
            Some("4.18.0")
        );
    }

    #[test]
    fn peers_later_errors_of_another_kind_do_not_hide_a_bad_version() {
        let mut lines = vec![
            line(-60, LogLevel::INFO, "serving version=2.0.0"),
            line(-50, LogLevel::INFO, "serving version=2.0.0"),
        ];
        for m in 1..6 {
            lines.push(line(
                m,
                LogLevel::CRITICAL,
                "NullPointerException in ShardTable.apply version=2.1.0",
            ));
        }
        // The old version's instances fail their calls to the crashing ones, afterwards.
        lines.push(line(
            8,
            LogLevel::ERROR,
            "peer fetch failed: connection reset by peer version=2.0.0",
        ));
        let st = stats(&lines);
        let split = judge_logs(&st, "checkout", at(-30), &["d-2", "release 2.1.0"]);
        assert!(matches!(split, Some(Split::OnlyNew { .. })), "{split:?}");

        // The same failure on the old version (a certificate, a vendor) clears the release.
        let mut same = lines.clone();
        same.pop();
        same.push(line(
            8,
            LogLevel::CRITICAL,
            "NullPointerException in ShardTable.apply version=2.0.0",
        ));
        let st = stats(&same);
        let split = judge_logs(&st, "checkout", at(-30), &["d-2", "release 2.1.0"]);
        assert!(!matches!(split, Some(Split::OnlyNew { .. })), "{split:?}");
    }
}
