//! Who may approve. Approvals need the operator token: as `Authorization: Bearer <token>`
//! (scripts), or a browser session cookie set by `/login?token=…` (HttpOnly, SameSite=Strict,
//! and cookie-authenticated writes must come from the same origin). Reading stays open.

use super::{AppState, error::ApiError};
use crate::config::Config;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "sentinel_session";

pub struct OperatorAuth {
    token: String,
    generated: bool,
}

impl std::fmt::Debug for OperatorAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorAuth")
            .field("token", &"[redacted]")
            .finish()
    }
}

impl OperatorAuth {
    /// `SENTINEL_OPERATOR_TOKEN`, or a token generated once and kept in the data directory.
    pub fn from_config(cfg: &Config) -> Result<Self, String> {
        if let Some(t) = &cfg.operator_token {
            return Ok(Self {
                token: t.trim().to_string(),
                generated: false,
            });
        }
        let path = cfg.data_dir.join("operator_token");
        if let Ok(t) = std::fs::read_to_string(&path)
            && !t.trim().is_empty()
        {
            return Ok(Self {
                token: t.trim().to_string(),
                generated: true,
            });
        }
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| format!("{}: {e}", cfg.data_dir.display()))?;
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        std::fs::write(&path, &token).map_err(|e| format!("{}: {e}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Self {
            token,
            generated: true,
        })
    }

    pub fn with_token(token: &str) -> Self {
        Self {
            token: token.to_string(),
            generated: false,
        }
    }

    /// Prints the login URL on the terminal (never through the log pipeline), as Jupyter does.
    pub fn announce(&self, base: &str) {
        if self.generated {
            eprintln!(
                "\n  Sentinel is running at {base}\n  To approve remediations, log in once with:\n    {base}/login?token={}\n  (token kept in the data directory; set SENTINEL_OPERATOR_TOKEN to choose your own)\n",
                self.token
            );
        } else {
            eprintln!(
                "\n  Sentinel is running at {base}\n  Log in at {base}/login?token=<SENTINEL_OPERATOR_TOKEN> to approve remediations.\n"
            );
        }
    }

    fn session_value(&self) -> String {
        hex::encode(Sha256::digest(
            format!("sentinel-session:{}", self.token).as_bytes(),
        ))
    }

    fn token_ok(&self, candidate: &str) -> bool {
        let a = Sha256::digest(candidate.as_bytes());
        let b = Sha256::digest(self.token.as_bytes());
        a.ct_eq(&b).into()
    }

    /// Who is acting, if anyone. Bearer token or same-origin session cookie.
    pub fn operator(&self, headers: &HeaderMap) -> Result<String, ApiError> {
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
        if self.has_session(headers) {
            if !same_origin(headers) {
                return Err(ApiError::Forbidden("cross-origin request refused".into()));
            }
            return Ok("operator (browser)".into());
        }
        Err(ApiError::Unauthorized("approving needs the operator token: log in at /login?token=… or send Authorization: Bearer".into()))
    }

    pub fn has_session(&self, headers: &HeaderMap) -> bool {
        let want = self.session_value();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && bool::from(v.as_bytes().ct_eq(want.as_bytes())))
    }
}

/// An `Origin` header, when present, must name this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin.split_once("://").map(|(_, h)| h) == Some(host)
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    token: Option<String>,
    next: Option<String>,
}

pub async fn login(State(s): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    match q.token {
        Some(t) if s.auth.token_ok(&t) => {
            let next = q
                .next
                .filter(|n| n.starts_with('/') && !n.starts_with("//"))
                .unwrap_or_else(|| "/".into());
            let cookie = format!(
                "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000",
                s.auth.session_value()
            );
            let mut r = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": "invalid or missing token" })),
        )
            .into_response(),
    }
}

pub async fn logout() -> Response {
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("sentinel_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}
