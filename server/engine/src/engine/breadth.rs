//! The breadth of a failure against the reach of a change. Error lines carry fields that
//! partition the traffic (`template`, `endpoint`, `route`, `queue`, `tenant`, `region` …).
//! When a change names one value of such a field ("migrate the order_shipped template") but
//! the errors come just as much from values it never touched (`password_reset`, `welcome`),
//! the failure happens where the change is absent: the change is exonerated, however well
//! its words match the errors. The version split (`versions.rs`) is the same test along the
//! `version` field. A change that names a switch field itself ("send `network_token` when the
//! card has one") reaches only the lines where the switch is on: errors as much from
//! `network_token=false` clear it the same way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The values one field took across the origin's error lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSpread {
    pub key: String,
    /// (value, error lines with it), most frequent first.
    pub values: Vec<(String, usize)>,
    pub lines: usize,
}

/// Keys that never partition traffic: the message itself, levels, times, free text, ids.
const SKIP: &[&str] = &[
    "msg",
    "message",
    "level",
    "lvl",
    "severity",
    "ts",
    "time",
    "timestamp",
    "@timestamp",
    "err",
    "error",
    "response",
    "stack",
    "trace",
    "trace_id",
    "span_id",
    "request_id",
    "req_id",
    "id",
    "user",
    "user_id",
    "duration",
    "latency",
    "elapsed",
    "port",
    "host",
    "logger",
    "caller",
    "version",
    "pod",
    "instance",
    "node",
    "thread",
    "pid",
    "line",
    "file",
];

/// Share of error lines on a switch's off side that clears a change to what the switch turns on.
const P_SWITCH_OFF_SHARE: f64 = 0.3;

/// Most distinct values a categorical field may have, and least lines to judge it.
const MAX_VALUES: usize = 12;
const MIN_LINES: usize = 5;

/// `key=value` pairs of a log message: a JSON object's scalar fields, or logfmt tokens.
pub fn fields(message: &str) -> Vec<(String, String)> {
    let m = message.trim();
    if m.starts_with('{')
        && let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(m)
    {
        return o
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                serde_json::Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            })
            .collect();
    }
    m.split_whitespace()
        .filter_map(|tok| {
            let (k, v) = tok.split_once('=')?;
            let v = v.trim_matches(|c| c == '"' || c == ',' || c == ';');
            (!k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                && !v.is_empty())
            .then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// The categorical fields of a set of error messages.
pub fn spreads<'a>(messages: impl IntoIterator<Item = &'a str>) -> Vec<FieldSpread> {
    let mut by: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut lines: BTreeMap<String, usize> = BTreeMap::new();
    for m in messages {
        for (k, v) in fields(m) {
            let k = k.to_lowercase();
            if SKIP.contains(&k.as_str()) || v.len() > 48 || v.contains(char::is_whitespace) {
                continue;
            }
            *by.entry(k.clone()).or_default().entry(v).or_default() += 1;
            *lines.entry(k).or_default() += 1;
        }
    }
    by.into_iter()
        .filter_map(|(key, vals)| {
            let n = lines.get(&key).copied().unwrap_or(0);
            if n < MIN_LINES || vals.len() < 2 || vals.len() > MAX_VALUES {
                return None;
            }
            let mut values: Vec<(String, usize)> = vals.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Some(FieldSpread {
                key,
                values,
                lines: n,
            })
        })
        .collect()
}

fn norm(s: &str) -> String {
    s.to_lowercase().replace(['-', '.', '/'], "_")
}

/// Whether the change (its id, description, files) names `value`.
fn names(texts: &[&str], value: &str) -> bool {
    let v = norm(value);
    // Short or numeric values ("1", "us") match too much to mean anything.
    if v.len() < 4 || v.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    texts.iter().any(|t| norm(t).contains(&v))
}

/// Values of a switch field that say "off".
const OFF: &[&str] = &["false", "off", "no", "disabled", "0", "none"];
const ON: &[&str] = &["true", "on", "yes", "enabled", "1"];

/// When the change names some values of a field but most error lines have other values, or
/// names a switch field whose errors come as much from its off side: why it is cleared.
pub fn exonerates(spreads: &[FieldSpread], id: &str, texts: &[&str]) -> Option<String> {
    for s in spreads {
        let switch = s.values.iter().all(|(v, _)| {
            OFF.contains(&v.to_lowercase().as_str()) || ON.contains(&v.to_lowercase().as_str())
        });
        if switch && names(texts, &s.key) {
            let off: usize = s
                .values
                .iter()
                .filter(|(v, _)| OFF.contains(&v.to_lowercase().as_str()))
                .map(|(_, n)| n)
                .sum();
            if off >= 3 && off as f64 >= P_SWITCH_OFF_SHARE * s.lines as f64 {
                return Some(format!(
                    "the errors also come from {}=off ({off} of {} lines), which {id} does not reach (it changes what happens when {} is on)",
                    s.key, s.lines, s.key
                ));
            }
        }
        type Counted<'a> = Vec<&'a (String, usize)>;
        let (named, other): (Counted, Counted) =
            s.values.iter().partition(|(v, _)| names(texts, v));
        if named.is_empty() || other.len() < 2 {
            continue;
        }
        let other_lines: usize = other.iter().map(|(_, n)| n).sum();
        if other_lines as f64 >= 0.5 * s.lines as f64 && other_lines >= 3 {
            let others: Vec<&str> = other.iter().take(4).map(|(v, _)| v.as_str()).collect();
            let touched: Vec<&str> = named.iter().map(|(v, _)| v.as_str()).collect();
            return Some(format!(
                "the errors also come from {}={} ({other_lines} of {} lines), which {id} does not touch (it changes {})",
                s.key,
                others.join(", "),
                s.lines,
                touched.join(", ")
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_json_and_logfmt() {
        let f = fields(r#"{"msg":"send failed","template":"welcome","code":421,"x":{"y":1}}"#);
        assert!(f.contains(&("template".into(), "welcome".into())));
        assert!(f.contains(&("code".into(), "421".into())));
        assert_eq!(f.len(), 3);
        let f = fields("level=error route=/v1/cart queue=\"orders\" boom");
        assert!(f.contains(&("route".into(), "/v1/cart".into())));
        assert!(f.contains(&("queue".into(), "orders".into())));
    }

    fn msgs(templates: &[&str]) -> Vec<String> {
        templates
            .iter()
            .map(|t| format!(r#"{{"msg":"smtp send failed","template":"{t}","responseCode":421}}"#))
            .collect()
    }

    #[test]
    fn a_change_to_one_value_is_cleared_when_the_others_fail_too() {
        let m = msgs(&[
            "order_shipped",
            "welcome",
            "password_reset",
            "welcome",
            "payment_failed",
            "order_shipped",
        ]);
        let s = spreads(m.iter().map(String::as_str));
        let why = exonerates(&s, "d-1", &["Migrate order_shipped email template to MJML"]).unwrap();
        assert!(why.contains("template=welcome"), "{why}");
        assert!(why.contains("order_shipped"), "{why}");
    }

    #[test]
    fn a_change_to_the_failing_value_is_not_cleared() {
        let m = msgs(&[
            "order_shipped",
            "order_shipped",
            "order_shipped",
            "order_shipped",
            "welcome",
        ]);
        let s = spreads(m.iter().map(String::as_str));
        assert_eq!(
            exonerates(&s, "d-1", &["Migrate order_shipped template"]),
            None
        );
        // A change that names no value says nothing here.
        let m = msgs(&["a_tmpl", "b_tmpl", "c_tmpl", "d_tmpl", "e_tmpl"]);
        let s = spreads(m.iter().map(String::as_str));
        assert_eq!(exonerates(&s, "d-1", &["refactor the mailer"]), None);
    }

    #[test]
    fn a_change_to_what_a_switch_turns_on_is_cleared_when_the_off_side_fails_too() {
        let line = |on: bool| format!("POST /v2/authorizations -> 503 network_token={on} pop=pdx2");
        let m: Vec<String> = [true, false, true, false, false, true]
            .into_iter()
            .map(line)
            .collect();
        let s = spreads(m.iter().map(String::as_str));
        let why = exonerates(
            &s,
            "d-1",
            &["send network_token in authorization requests when the card has one"],
        )
        .unwrap();
        assert!(why.contains("network_token=off"), "{why}");
        // Only the on side fails: the change is not cleared.
        let m: Vec<String> = [true, true, true, true, true, false]
            .into_iter()
            .map(line)
            .collect();
        let s = spreads(m.iter().map(String::as_str));
        assert_eq!(
            exonerates(&s, "d-1", &["send network_token when the card has one"]),
            None
        );
    }

    #[test]
    fn ids_and_free_text_do_not_partition() {
        let m: Vec<String> = (0..8)
            .map(|i| format!("level=error request_id=r{i} user_id=u{i} msg=boom"))
            .collect();
        assert!(spreads(m.iter().map(String::as_str)).is_empty());
    }
}
