//! `POST /webhooks/change` (docs/CONTRACTS.md §7): a deploy or config/flag change announced
//! by CI/CD, parsed and checked here (pure; no HTTP). Errors name the field.

use super::{IngestError, parse_json};
use crate::store::ChangeEvent;
use chrono::{DateTime, Utc};
use sentinel_model::ChangeKind;
use serde::Deserialize;

/// The kinds the contract lists.
pub const KINDS: [&str; 5] = ["deploy", "feature_flag", "config", "infra", "dependency"];

/// Longest id, service, author, commit or version accepted.
const MAX_SHORT: usize = 200;
/// Longest description accepted.
const MAX_DESCRIPTION: usize = 4000;
/// Most files listed.
const MAX_FILES: usize = 1000;

#[derive(Deserialize)]
struct Body {
    id: String,
    service: String,
    kind: String,
    ts: String,
    #[serde(default)]
    author: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    files_changed: Option<Vec<String>>,
}

/// Parses and checks a change event.
pub fn parse(body: &[u8]) -> Result<ChangeEvent, IngestError> {
    let b: Body = parse_json(body)?;
    let short = |field: &str, v: &str, required: bool| -> Result<String, IngestError> {
        let v = v.trim();
        if required && v.is_empty() {
            return Err(IngestError::field(field, "must not be empty"));
        }
        if v.chars().count() > MAX_SHORT {
            return Err(IngestError::field(
                field,
                format!("longer than {MAX_SHORT} characters"),
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(IngestError::field(field, "contains control characters"));
        }
        Ok(v.to_string())
    };
    let id = short("id", &b.id, true)?;
    let service = short("service", &b.service, true)?;
    let kind_raw = b.kind.trim().to_ascii_lowercase();
    if !KINDS.contains(&kind_raw.as_str()) {
        return Err(IngestError::field(
            "kind",
            format!("{:?} is not one of {}", b.kind, KINDS.join(", ")),
        ));
    }
    let ts: DateTime<Utc> = DateTime::parse_from_rfc3339(b.ts.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| IngestError::field("ts", format!("not an RFC 3339 time ({e})")))?;
    if ts > Utc::now() + chrono::Duration::hours(1) {
        return Err(IngestError::field("ts", "more than an hour in the future"));
    }
    if b.description.chars().count() > MAX_DESCRIPTION {
        return Err(IngestError::field(
            "description",
            format!("longer than {MAX_DESCRIPTION} characters"),
        ));
    }
    let files = b.files_changed.unwrap_or_default();
    if files.len() > MAX_FILES {
        return Err(IngestError::field(
            "files_changed",
            format!("more than {MAX_FILES} files"),
        ));
    }
    Ok(ChangeEvent {
        id,
        service,
        kind: ChangeKind::parse(&kind_raw),
        ts,
        author: short("author", &b.author, false)?,
        description: b.description.trim().to_string(),
        commit: b
            .commit
            .as_deref()
            .map(|c| short("commit", c, false))
            .transpose()?
            .filter(|c| !c.is_empty()),
        version: b
            .version
            .as_deref()
            .map(|v| short("version", v, false))
            .transpose()?
            .filter(|v| !v.is_empty()),
        files_changed: files
            .into_iter()
            .map(|f| f.chars().take(500).collect())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contract_event_parses() {
        let c = parse(br#"{"id":"d-42","service":"checkout","kind":"deploy","ts":"2026-01-01T10:00:00Z","author":"ci","description":"v2.3.1 retry budget","commit":"abc123","version":"v2.3.1","files_changed":["src/retry.rs"]}"#).unwrap();
        assert_eq!(c.kind, ChangeKind::Deploy);
        assert_eq!(c.version.as_deref(), Some("v2.3.1"));
        assert_eq!(c.files_changed, vec!["src/retry.rs"]);
        let d = c.as_deploy().unwrap();
        assert_eq!(d.commit.as_deref(), Some("abc123"));
        assert!(c.as_change().is_none());
    }

    #[test]
    fn bad_events_name_the_field() {
        for (body, field) in [
            (&br#"{"id":"","service":"s","kind":"deploy","ts":"2026-01-01T10:00:00Z"}"#[..], "id"),
            (br#"{"id":"a","service":"s","kind":"rollout","ts":"2026-01-01T10:00:00Z"}"#, "kind"),
            (br#"{"id":"a","service":"s","kind":"deploy","ts":"yesterday"}"#, "ts"),
            (br#"{"id":"a","kind":"deploy","ts":"2026-01-01T10:00:00Z"}"#, "service"),
            (br#"{"id":"a","service":"s","kind":"deploy","ts":"2026-01-01T10:00:00Z","files_changed":"x"}"#, "files_changed"),
        ] {
            let e = parse(body).unwrap_err().to_string();
            assert!(e.contains(field), "{field}: {e}");
        }
        assert!(matches!(
            parse(b"{").unwrap_err(),
            IngestError::Malformed(_)
        ));
    }
}
