//! Who may act, and as whom. Reading stays open; acting needs an identity with a role:
//!
//! - **Named operators** (`[[operators]]` in the configuration file): each has a token, a role
//!   (`viewer` < `responder` < `admin`) and optionally a Slack user id. Their decisions,
//!   fires and session acts record their `name`.
//! - **The shared operator token** (`SENTINEL_OPERATOR_TOKEN`, or one generated into the data
//!   directory) keeps working as an admin for single-user installs; it is recorded as
//!   `operator (api token)` or `operator (browser)`.
//!
//! A token is sent as `Authorization: Bearer <token>` (scripts), or exchanged once at
//! `/login?token=…` for a browser session. Sessions are server-side and per person: the
//! cookie holds a random id (256 bits), the database keeps only its SHA-256 with the person's
//! name, an expiry and a tag of the token it was opened with. Logout or `DELETE
//! /api/sessions/{id}` deletes it, so a copied cookie stops working; changing a person's token
//! ends that person's sessions, and removing a person from the file ends theirs. A session
//! carries no role: the role is looked up in the operators (read from the file at start) on
//! every request, so a demotion takes effect at the next start, for every session. The
//! cookie is HttpOnly, SameSite=Strict, and Secure when the request came over TLS (a proxy's
//! `X-Forwarded-Proto: https`); cookie-authenticated writes must also come from this origin.

use super::{AppState, error::ApiError};
use crate::config::{Config, OperatorRole};
use crate::store::Store;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "sentinel_session";
/// How long a browser session lasts.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::days(30);
/// The name the shared token acts under, by way of arrival.
const SHARED_API: &str = "operator (api token)";
const SHARED_BROWSER: &str = "operator (browser)";

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// What decisions and acts record.
    pub name: String,
    pub role: OperatorRole,
}

impl Principal {
    /// Refuses (403, saying why) unless this principal has at least `min`.
    pub fn require(self, min: OperatorRole, act: &str) -> Result<Self, ApiError> {
        if self.role >= min {
            Ok(self)
        } else {
            Err(ApiError::Forbidden(format!(
                "{} has the {} role; {act} needs {}",
                self.name,
                role_name(self.role),
                match min {
                    OperatorRole::Viewer => "a login",
                    OperatorRole::Responder => "the responder or admin role",
                    OperatorRole::Admin => "the admin role",
                }
            )))
        }
    }
}

pub fn role_name(r: OperatorRole) -> &'static str {
    match r {
        OperatorRole::Viewer => "viewer",
        OperatorRole::Responder => "responder",
        OperatorRole::Admin => "admin",
    }
}

/// One named operator, as the server keeps it: the token only as its digest.
struct Person {
    name: String,
    role: OperatorRole,
    token_digest: [u8; 32],
    tag: String,
    slack_user: Option<String>,
}

pub struct OperatorAuth {
    token: String,
    /// Where a generated token is kept (None: it came from SENTINEL_OPERATOR_TOKEN).
    generated_at: Option<std::path::PathBuf>,
    people: Vec<Person>,
    store: Store,
}

impl std::fmt::Debug for OperatorAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorAuth")
            .field("token", &"[redacted]")
            .field(
                "people",
                &self.people.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Ties sessions to the token they were opened with.
fn token_tag(token: &str) -> String {
    sha256_hex(&format!("sentinel-session-tag:{token}"))[..16].to_string()
}

impl OperatorAuth {
    /// `SENTINEL_OPERATOR_TOKEN`, or a token generated once and kept in the data directory;
    /// and the named operators of the configuration file.
    pub fn from_config(cfg: &Config, store: Store) -> Result<Self, String> {
        let people = cfg
            .file
            .operators
            .iter()
            .map(|o| Person {
                name: o.name.trim().to_string(),
                role: o.role,
                token_digest: Sha256::digest(o.token.expose().trim().as_bytes()).into(),
                tag: token_tag(o.token.expose().trim()),
                slack_user: o.slack_user.clone().filter(|u| !u.trim().is_empty()),
            })
            .collect();
        let (token, generated_at) = Self::shared_token(cfg)?;
        Ok(Self {
            token,
            generated_at,
            people,
            store,
        })
    }

    fn shared_token(cfg: &Config) -> Result<(String, Option<std::path::PathBuf>), String> {
        if let Some(t) = &cfg.operator_token {
            return Ok((t.trim().to_string(), None));
        }
        let path = cfg.data_dir.join("operator_token");
        if let Ok(t) = std::fs::read_to_string(&path)
            && !t.trim().is_empty()
        {
            return Ok((t.trim().to_string(), Some(path)));
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
        Ok((token, Some(path)))
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
        if !self.people.is_empty() {
            eprintln!(
                "  Named operators: {}\n",
                self.people
                    .iter()
                    .map(|p| format!("{} ({})", p.name, role_name(p.role)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }

    /// Whose token this is (every candidate compared in constant time), and its tag.
    fn by_token(&self, candidate: &str) -> Option<(Principal, String)> {
        let digest = Sha256::digest(candidate.as_bytes());
        let mut found = None;
        for p in &self.people {
            if bool::from(digest.as_slice().ct_eq(&p.token_digest)) && found.is_none() {
                found = Some((
                    Principal {
                        name: p.name.clone(),
                        role: p.role,
                    },
                    p.tag.clone(),
                ));
            }
        }
        let shared = Sha256::digest(self.token.as_bytes());
        if bool::from(digest.ct_eq(&shared)) && found.is_none() {
            found = Some((
                Principal {
                    name: SHARED_API.into(),
                    role: OperatorRole::Admin,
                },
                token_tag(&self.token),
            ));
        }
        found
    }

    /// The named operator a Slack user id maps to.
    pub fn by_slack_user(&self, user: &str) -> Option<Principal> {
        self.people
            .iter()
            .find(|p| p.slack_user.as_deref() == Some(user))
            .map(|p| Principal {
                name: p.name.clone(),
                role: p.role,
            })
    }

    /// Opens a session for `who`; returns the cookie value (the only copy of the id).
    async fn open_session(&self, who: &Principal, tag: &str) -> Result<String, ApiError> {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let name = if who.name == SHARED_API {
            SHARED_BROWSER
        } else {
            &who.name
        };
        self.store
            .insert_session(
                &sha256_hex(&id),
                name,
                tag,
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

    /// Who a stored session belongs to now: the person must still exist with the token the
    /// session was opened with (else the session is dead).
    fn resolve_session(&self, operator: &str, tag: &str) -> Option<Principal> {
        if operator == SHARED_BROWSER && tag == token_tag(&self.token) {
            return Some(Principal {
                name: SHARED_BROWSER.into(),
                role: OperatorRole::Admin,
            });
        }
        self.people
            .iter()
            .find(|p| p.name == operator && p.tag == tag)
            .map(|p| Principal {
                name: p.name.clone(),
                role: p.role,
            })
    }

    /// The principal and session id hash of a live session in the request's cookies.
    async fn session_of(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<(Principal, String)>, ApiError> {
        for id in Self::session_ids(headers) {
            let hash = sha256_hex(&id);
            if let Some((op, tag)) = self.store.live_session(&hash).await?
                && let Some(p) = self.resolve_session(&op, &tag)
            {
                return Ok(Some((p, hash)));
            }
        }
        Ok(None)
    }

    /// The operator of a live session in the request's cookies, if any.
    pub async fn session(&self, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
        Ok(self.session_of(headers).await?.map(|(p, _)| p))
    }

    /// Who is asking: bearer token or same-origin session cookie; 401 when nobody.
    pub async fn principal(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        if let Some(v) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            if let Some(t) = v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                && let Some((p, _)) = self.by_token(t.trim())
            {
                return Ok(p);
            }
            return Err(ApiError::Unauthorized("invalid operator token".into()));
        }
        if let Some(p) = self.session(headers).await? {
            if !same_origin(headers) {
                return Err(ApiError::Forbidden("cross-origin request refused".into()));
            }
            return Ok(p);
        }
        Err(ApiError::Unauthorized(
            "this needs an operator token: log in at /login?token=… or send Authorization: Bearer"
                .into(),
        ))
    }

    /// Who is acting, if they may `act` (deciding, firing, investigating: the responder
    /// role or above). The name is what the act records.
    pub async fn operator(&self, headers: &HeaderMap, act: &str) -> Result<String, ApiError> {
        Ok(self
            .principal(headers)
            .await?
            .require(OperatorRole::Responder, act)?
            .name)
    }
}

/// The request's `Origin` names this host, or there is none
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
    let Some((who, tag)) = q.token.as_deref().and_then(|t| s.auth.by_token(t.trim())) else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": "invalid or missing token" })),
        )
            .into_response());
    };
    let id = s.auth.open_session(&who, &tag).await?;
    tracing::info!(operator = %who.name, "session opened");
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

/// `GET /api/me`: who this request acts as.
pub async fn me(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let p = s.auth.principal(&headers).await?;
    Ok(
        axum::Json(serde_json::json!({ "name": p.name, "role": role_name(p.role) }))
            .into_response(),
    )
}

/// `GET /api/sessions`: live browser sessions, an admin's view of everyone's, anyone else's
/// of their own. `current` marks the one the request came with.
pub async fn list_sessions(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = s.auth.principal(&headers).await?;
    let current = s.auth.session_of(&headers).await?.map(|(_, h)| h);
    let rows = s
        .auth
        .store
        .list_sessions((p.role < OperatorRole::Admin).then_some(p.name.as_str()))
        .await?;
    let v: Vec<_> = rows
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id_hash,
                "operator": r.operator,
                "created_at": r.created_at,
                "expires_at": r.expires_at,
                "current": current.as_deref() == Some(r.id_hash.as_str()),
            })
        })
        .collect();
    Ok(axum::Json(v).into_response())
}

/// `DELETE /api/sessions/{id}`: revokes a session (an admin any, anyone else their own).
/// `DELETE /api/sessions?operator=NAME` (admin): every session of one person.
pub async fn revoke_session(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let p = s.auth.principal(&headers).await?;
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(
            "a session id is the 64 hex characters /api/sessions lists".into(),
        ));
    }
    if p.role < OperatorRole::Admin {
        let own = s.auth.store.list_sessions(Some(&p.name)).await?;
        if !own.iter().any(|r| r.id_hash == id) {
            return Err(ApiError::NotFound(format!("session {id}")));
        }
    }
    if !s.auth.store.delete_session(&id).await? {
        return Err(ApiError::NotFound(format!("session {id}")));
    }
    tracing::info!(by = %p.name, "session revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(serde::Deserialize)]
pub struct RevokeQuery {
    operator: String,
}

pub async fn revoke_sessions_of(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<RevokeQuery>,
) -> Result<Response, ApiError> {
    let p = s
        .auth
        .principal(&headers)
        .await?
        .require(OperatorRole::Admin, "revoking another operator's sessions")?;
    let n = s.auth.store.delete_sessions_of(&q.operator).await?;
    tracing::info!(by = %p.name, operator = %q.operator, revoked = n, "sessions revoked");
    Ok(axum::Json(serde_json::json!({ "revoked": n })).into_response())
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
