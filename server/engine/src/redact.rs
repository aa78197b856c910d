//! Keeps secrets out of logs, error messages and the UI. URLs are the usual leak: people put
//! credentials in them (`https://user:pass@host`, `?api-key=…`), and a base URL or database
//! URL is exactly what a settings page or a startup error wants to show.

/// Query parameters whose values are treated as secrets (compared case-insensitively, with
/// `-` and `_` ignored, so `api-key`, `api_key` and `apiKey` all match).
const SECRET_PARAMS: &[&str] = &[
    "key",
    "apikey",
    "token",
    "accesstoken",
    "secret",
    "clientsecret",
    "password",
    "passwd",
    "pwd",
    "sig",
    "signature",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "code",
];

fn is_secret_param(name: &str) -> bool {
    let norm: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_PARAMS.contains(&norm.as_str())
        || norm.ends_with("token")
        || norm.ends_with("secret")
        || norm.ends_with("password")
        || norm.ends_with("key")
        || norm.ends_with("signature")
        || norm.ends_with("credential")
}

/// The URL with any userinfo password (and a user name that came with one) replaced by
/// `***`, and the values of secret-looking query parameters replaced by `***`. Works on
/// strings that are not valid URLs too (it never fails, and never returns the secret).
pub fn url(raw: &str) -> String {
    let (before_query, query) = match raw.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (raw, None),
    };
    let (query, fragment) = match query.map(|q| q.split_once('#')) {
        Some(Some((q, f))) => (Some(q), Some(f)),
        Some(None) => (query, None),
        None => (None, None),
    };
    let mut out = String::with_capacity(raw.len());
    match before_query.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((_userinfo, host)) => {
                    out.push_str("***@");
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(before_query),
    }
    if let Some(q) = query {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if is_secret_param(k) && !v.is_empty() => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `text` with every URL in it (`scheme://…` up to whitespace, a quote or a closing
/// bracket) passed through [`url`]: for error messages that quote the URL they failed on.
pub fn urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The scheme: the letters right before "://".
        let start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map(|p| p + 1)
            .unwrap_or(0);
        let end = rest[i..]
            .find(|c: char| c.is_whitespace() || "\"'()<>[]`".contains(c))
            .map(|p| i + p)
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{url, urls_in};

    #[test]
    fn urls_inside_messages_are_redacted() {
        let m = urls_in(
            "error sending request for url (http://bob:s3cret@llm:8080/v1/chat?api-key=k3y): connection refused",
        );
        assert!(!m.contains("s3cret") && !m.contains("k3y"), "{m}");
        assert!(
            m.starts_with(
                "error sending request for url (http://***@llm:8080/v1/chat?api-key=***)"
            ),
            "{m}"
        );
        assert_eq!(urls_in("no url here"), "no url here");
    }

    #[test]
    fn userinfo_and_secret_parameters_are_hidden() {
        assert_eq!(
            url("http://user:pass@llm.internal:8080/v1"),
            "http://***@llm.internal:8080/v1"
        );
        assert_eq!(
            url("postgres://sentinel:hunter2@db:5432/sentinel?sslmode=require"),
            "postgres://***@db:5432/sentinel?sslmode=require"
        );
        assert_eq!(
            url("https://x.openai.azure.com/openai?api-version=2024-06-01&api-key=abc123"),
            "https://x.openai.azure.com/openai?api-version=2024-06-01&api-key=***"
        );
        let r = url("https://h/p?access_token=t0k&X-Amz-Signature=s1g&user=me#frag");
        assert!(!r.contains("t0k") && !r.contains("s1g"), "{r}");
        assert!(r.contains("user=me") && r.ends_with("#frag"), "{r}");
        // A user name alone (no password) is hidden too: it may be a token (`https://TOKEN@host`).
        assert_eq!(
            url("https://ghp_abc@github.example/x"),
            "https://***@github.example/x"
        );
        // Plain URLs and non-URLs pass through.
        assert_eq!(
            url("https://api.openai.com/v1"),
            "https://api.openai.com/v1"
        );
        assert_eq!(url("not a url"), "not a url");
    }
}
