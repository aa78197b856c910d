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
