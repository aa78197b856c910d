//! Small text helpers shared by the analyzers.

use super::lexicon;
use std::collections::BTreeSet;

/// Lowercase identifier-like tokens (snake/camel/dotted split as well as whole), minus
/// stopwords, numbers and short noise.
pub fn keywords(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))) {
        let raw = raw.trim_matches(|c: char| matches!(c, '.' | '-' | '_'));
        if raw.is_empty() {
            continue;
        }
        let mut push = |t: &str| {
            let t = t.to_lowercase();
            if t.len() >= 3
                && !t.chars().all(|c| c.is_ascii_digit())
                && !lexicon::STOP_WORDS.contains(&t.as_str())
                && !looks_like_id(&t)
            {
                out.insert(t);
            }
        };
        push(raw);
        for dotted in raw.split('.') {
            push(dotted);
            for part in dotted.split(['_', '-']) {
                push(part);
                for camel in split_camel(part) {
                    push(&camel);
                }
            }
        }
    }
    out
}

fn split_camel(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = i > 0
            && c.is_uppercase()
            && (chars[i - 1].is_lowercase() || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary && !cur.is_empty() {
            parts.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    if parts.len() > 1 { parts } else { Vec::new() }
}

/// Random-looking ids (hex hashes, trace ids, numbers with letters) carry no meaning.
pub fn looks_like_id(t: &str) -> bool {
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    (t.len() >= 6 && t.chars().all(|c| c.is_ascii_hexdigit()) && digits > 0) || digits * 2 > t.len()
}

/// Contains any of the needles (all lowercase).
pub fn contains_any(hay: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| hay.contains(n))
}

/// Exact identifiers in a text: tokens of at least five characters with a digit and a
/// separator or letter (`k-2026-01`, `2026.07.19.0409`, `10.20.14.7`, `v3.25.0`), lowercased.
/// Plain numbers, dates, times and long hex strings (trace ids, hashes) are left out: they
/// are in every line, or in no change.
pub fn identifiers(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .map(|t| {
            t.trim_matches(|c| matches!(c, '.' | '-' | '_'))
                .to_ascii_lowercase()
        })
        .filter(|t| {
            let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
            let b = t.as_bytes();
            let date = b.len() >= 10
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[7] == b'-';
            let hex = t.len() >= 12 && t.chars().all(|c| c.is_ascii_hexdigit());
            // A release number (`3.15.3`, `v2.4`) names what runs, and the version split
            // judges it; as a shared word it would tie every deploy to its own errors.
            let release = {
                let r = t.strip_prefix('v').unwrap_or(t);
                let parts: Vec<&str> = r.split('.').collect();
                (2..=3).contains(&parts.len())
                    && parts
                        .iter()
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            };
            t.len() >= 5
                && digits > 0
                && digits < t.len()
                && !date
                && !hex
                && !release
                && !t.contains(':')
        })
        .collect()
}

/// Some word of `text` starts with one of the stems (all lowercase): "revoke", "revoked" and
/// "revocation" all match `revo…` stems, "unpurged" does not match "purg".
pub fn has_word_stem(text: &str, stems: &[&str]) -> bool {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .flat_map(|w| std::iter::once(w).chain(w.split('-')))
        .any(|w| stems.iter().any(|s| w.starts_with(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_exact_ids_not_numbers_dates_or_hashes() {
        let ids = identifiers(
            "rejecting token (kid=k-2026-01, iss=x) bundle 2026.07.19.0409 at 2026-03-15T19:08:15Z trace=e403978267e523c9ee7335a0 count=20000 v3.25.0 at 10.20.14.7",
        );
        for want in ["k-2026-01", "2026.07.19.0409", "10.20.14.7"] {
            assert!(ids.contains(want), "{want} missing from {ids:?}");
        }
        assert!(!ids.iter().any(|i| i.starts_with("2026-03-15")), "{ids:?}");
        assert!(!ids.contains("e403978267e523c9ee7335a0"));
        assert!(!ids.contains("20000"));
        assert!(!ids.contains("v3.25.0"));
    }

    #[test]
    fn keywords_split_identifiers_and_drop_noise() {
        let k = keywords(
            "NullPointerException in AuthMiddleware.validate() at line 87: 'auth.jwt_secret' a1b2c3d4",
        );
        for w in [
            "nullpointerexception",
            "authmiddleware",
            "auth",
            "middleware",
            "validate",
            "jwt_secret",
            "jwt",
            "secret",
        ] {
            assert!(k.contains(w), "missing {w} in {k:?}");
        }
        assert!(!k.contains("a1b2c3d4"));
        assert!(!k.contains("87"));
        assert!(!k.contains("line"));
    }
}
