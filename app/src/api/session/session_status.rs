use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The request headers that carry identity, handed to the backend to check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub authorization: Option<String>,
    pub cookie: Option<String>,
    pub origin: Option<String>,
    pub host: Option<String>,
}

#[cfg(feature = "ssr")]
pub async fn credentials() -> Credentials {
    let headers: http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let get = |k: http::header::HeaderName| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    Credentials {
        authorization: get(http::header::AUTHORIZATION),
        cookie: get(http::header::COOKIE),
        origin: get(http::header::ORIGIN),
        host: get(http::header::HOST),
    }
}

/// Whether this browser is logged in as the operator (may approve).
#[server(endpoint = "session_status")]
pub async fn session_status() -> Result<bool, ServerFnError> {
    let backend = crate::backend::backend()?;
    Ok(backend.is_operator(credentials().await).await)
}
