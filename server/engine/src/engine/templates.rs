//! Log template mining: messages that differ only in numbers, ids, durations or quoted values
//! collapse into one template, so "NPE at line 87 for req 123" ×500 becomes one signature with
//! a count, a level, its services and first/last time.

use crate::telemetry::{LogEntry, LogLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub template: String,
    pub example: String,
    pub count: usize,
    pub level: LogLevel,
    pub services: BTreeSet<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// The shape of a message: variable tokens replaced by `<*>`.
pub fn template_of(message: &str) -> String {
    let mut out = Vec::new();
    for tok in message.split_whitespace() {
        let core = tok.trim_matches(|c: char| {
            matches!(c, ',' | ';' | ':' | '(' | ')' | '[' | ']' | '"' | '\'')
        });
        let variable = core.chars().any(|c| c.is_ascii_digit())
            || is_key_value_with_variable(core)
            || (core.len() >= 16
                && core
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        if variable {
            // Keep a `key=` prefix so "user_id=<*>" and "order_id=<*>" stay apart.
            match core.split_once('=') {
                Some((k, _)) if !k.is_empty() && !k.chars().any(|c| c.is_ascii_digit()) => {
                    out.push(format!("{k}=<*>"))
                }
                _ => out.push("<*>".to_string()),
            }
        } else {
            out.push(tok.to_string());
        }
    }
    // Collapse runs of wildcards.
    out.dedup_by(|a, b| a == "<*>" && b == "<*>");
    out.join(" ")
}

fn is_key_value_with_variable(tok: &str) -> bool {
    match tok.split_once('=') {
        Some((_, v)) => v.chars().any(|c| c.is_ascii_digit()) || v.len() > 12,
        None => false,
    }
}

/// Groups lines into signatures: most severe, then most frequent, then earliest first, and
/// the template text last so equal signatures always come out in the same order (they used
/// to follow the hash map's random order, so two runs of one incident could quote different
/// lines).
pub fn mine(lines: &[LogEntry]) -> Vec<Signature> {
    let mut by: HashMap<String, Signature> = HashMap::new();
    for l in lines {
        let t = template_of(&l.message);
        let e = by.entry(t.clone()).or_insert_with(|| Signature {
            template: t,
            example: l.message.clone(),
            count: 0,
            level: l.level,
            services: BTreeSet::new(),
            first_seen: l.ts,
            last_seen: l.ts,
        });
        e.count += 1;
        e.level = e.level.max(l.level);
        e.services.insert(l.service.clone());
        e.first_seen = e.first_seen.min(l.ts);
        e.last_seen = e.last_seen.max(l.ts);
    }
    let mut v: Vec<Signature> = by.into_values().collect();
    v.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.count.cmp(&a.count))
            .then(a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.template.cmp(&b.template))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_parts_collapse_into_one_template() {
        let a = template_of("Query took 4200ms on sessions user_id=8812 trace=ab12cd");
        let b = template_of("Query took 3900ms on sessions user_id=17 trace=ff00aa");
        assert_eq!(a, b);
        assert!(a.contains("user_id=<*>"));
        assert_ne!(template_of("pool exhausted"), template_of("pool resized"));
    }

    #[test]
    fn equal_signatures_come_out_in_one_order() {
        let ts = chrono::DateTime::parse_from_rfc3339("2026-07-22T13:03:02Z")
            .unwrap()
            .with_timezone(&Utc);
        let line = |m: &str| LogEntry {
            ts,
            service: "api-gateway".into(),
            level: LogLevel::WARNING,
            message: m.into(),
            trace_id: None,
        };
        let lines = vec![line("zeta route missing"), line("alpha route missing")];
        let mut reversed = lines.clone();
        reversed.reverse();
        for _ in 0..20 {
            let a: Vec<String> = mine(&lines).into_iter().map(|s| s.template).collect();
            let b: Vec<String> = mine(&reversed).into_iter().map(|s| s.template).collect();
            assert_eq!(a, vec!["alpha route missing", "zeta route missing"]);
            assert_eq!(a, b);
        }
    }
}
