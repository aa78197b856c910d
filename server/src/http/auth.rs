//! Who may act. Acting (deciding approvals, firing scenarios) needs the operator token: as
//! `Authorization: Bearer <token>` (scripts), or a browser session opened by
//! `/login?token=…`. Reading stays open.
//!
//! Sessions are server-side: the cookie holds a random id (256 bits), the database keeps only
//! its SHA-256 with an expiry and a tag of the token it was opened with. Logout deletes it,
//! so a copied cookie stops working; rotating the operator token ends every session. The
//! cookie is HttpOnly, SameSite=Strict, and Secure when the request came over TLS (a proxy's
//! `X-Forwarded-Proto: https`); cookie-authenticated writes must also come from this origin.

use super::{AppState, error::ApiError};
use crate::config::Config;
use crate::store::Store;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "sentinel_session";
/// How long a browser session lasts.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::days(30);

pub struct OperatorAuth {
    token: String,
    /// Where a generated token is kept (None: it came from SENTINEL_OPERATOR_TOKEN).
    generated_at: Option<std::path::PathBuf>,
    store: Store,
}

impl std::fmt::Debug for OperatorAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorAuth")
            .field("token", &"[redacted]")
            .finish()
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl OperatorAuth {
    /// `SENTINEL_OPERATOR_TOKEN`, or a token generated once and kept in the data directory.
    pub fn from_config(cfg: &Config, store: Store) -> Result<Self, String> {
        if let Some(t) = &cfg.operator_token {
            return Ok(Self {
                token: t.trim().to_string(),
                generated_at: None,
                store,
            });
        }
        let path = cfg.data_dir.join("operator_token");
        if let Ok(t) = std::fs::read_to_string(&path)
            && !t.trim().is_empty()
        {
            return Ok(Self {
                token: t.trim().to_string(),
                generated_at: Some(path),
                store,
            });
        }
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| format!("{}: {e}", cfg.data_dir.display()))?;
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        std::fs::write(&path, &token).map_err(|e| format!("{}: {e}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Self {
            token,
            generated_at: Some(path),
            store,
        })
    }

    /// Says where to log in. A generated token is shown only on an interactive terminal:
    /// stderr that goes to a file or a log collector gets the token file's path instead.
    pub fn announce(&self, base: &str) {
        use std::io::IsTerminal;
        match &self.generated_at {
            Some(path) if std::io::stderr().is_terminal() => eprintln!(
                "\n  Sentinel is running at {base}\n  To approve remediations, log in once with:\n    {base}/login?token={}\n  (token kept in {}; set SENTINEL_OPERATOR_TOKEN to choose your own)\n",
                self.token,
                path.display()
            ),
            Some(path) => eprintln!(
                "\n  Sentinel is running at {base}\n  To approve remediations, log in at {base}/login?token=<token>; the token is in {}\n",
                path.display()
            ),
            None => eprintln!(
                "\n  Sentinel is running at {base}\n  Log in at {base}/login?token=<SENTINEL_OPERATOR_TOKEN> to approve remediations.\n"
            ),
        }
    }

    fn token_ok(&self, candidate: &str) -> bool {
        let a = Sha256::digest(candidate.as_bytes());
        let b = Sha256::digest(self.token.as_bytes());
        a.ct_eq(&b).into()
    }

    /// Ties sessions to the token they were opened with.
    fn token_tag(&self) -> String {
        sha256_hex(&format!("sentinel-session-tag:{}", self.token))[..16].to_string()
    }

    /// Opens a session; returns the cookie value (the only copy of the id).
    async fn open_session(&self) -> Result<String, ApiError> {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let id = hex::encode(raw);
        self.store
            .insert_session(
                &sha256_hex(&id),
                "operator (browser)",
                &self.token_tag(),
                chrono::Utc::now() + SESSION_TTL,
            )
            .await?;
        Ok(id)
    }

    fn session_ids(headers: &HeaderMap) -> impl Iterator<Item = String> + '_ {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .filter(|(k, v)| {
                *k == COOKIE && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
            })
            .map(|(_, v)| v.to_string())
    }

    /// The operator of a live session in the request's cookies, if any.
    pub async fn session(&self, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
        for id in Self::session_ids(headers) {
            if let Some(op) = self
                .store
                .session_operator(&sha256_hex(&id), &self.token_tag())
                .await?
            {
                return Ok(Some(op));
            }
        }
        Ok(None)
    }

    /// Who is acting, if anyone. Bearer token or same-origin session cookie.
    pub async fn operator(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        if let Some(v) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            if let Some(t) = v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                && self.token_ok(t.trim())
            {
                return Ok("operator (api token)".into());
            }
            return Err(ApiError::Unauthorized("invalid operator token".into()));
        }
        if let Some(op) = self.session(headers).await? {
            if !same_origin(headers) {
                return Err(ApiError::Forbidden("cross-origin request refused".into()));
            }
            return Ok(op);
        }
        Err(ApiError::Unauthorized(
            "this needs the operator token: log in at /login?token=… or send Authorization: Bearer"
                .into(),
        ))
    }
}

/// The request's origin (`Origin`, else `Referer`) names this host, or there is none
/// (a non-browser client). `Sec-Fetch-Site: cross-site` is refused outright.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site" || v == "same-site")
    {
        return false;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    origin.split_once("://").map(|(_, h)| h) == Some(host)
}

/// Whether the request came over TLS (directly or through a proxy that says so).
fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
        })
}

/// A local path to go back to after login: `/` followed by printable ASCII without
/// backslashes, never `//…` (another host) — anything else becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/".into(),
    }
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    token: Option<String>,
    next: Option<String>,
}

pub async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, ApiError> {
    match q.token {
        Some(t) if s.auth.token_ok(&t) => {
            let id = s.auth.open_session().await?;
            let secure = if over_tls(&headers) { "; Secure" } else { "" };
            let cookie = format!(
                "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
                SESSION_TTL.num_seconds()
            );
            let mut r = Redirect::to(&safe_next(q.next.as_deref())).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        _ => Ok((
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": "invalid or missing token" })),
        )
            .into_response()),
    }
}

/// Ends the session server-side (a copy of the cookie no longer works) and clears it.
pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    for id in OperatorAuth::session_ids(&headers) {
        s.auth.store.delete_session(&sha256_hex(&id)).await?;
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("sentinel_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_redirects_stay_on_this_site() {
        assert_eq!(
            safe_next(Some("/incidents/inc-1?x=1")),
            "/incidents/inc-1?x=1"
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\tevil",
            "/ok\r\nSet-Cookie: x",
            "https://evil.example",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cross_site_requests_are_not_same_origin() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8000".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "http://127.0.0.1:8000".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
