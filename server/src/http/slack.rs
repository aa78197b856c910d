//! `POST /webhooks/slack/interactions`: the Approve / Reject buttons of Sentinel's Slack
//! messages (notify/slack.rs).
//!
//! In order: the `v0` signature and its five-minute window (401), replay (the same signed
//! request twice: 409), the payload (400), who clicked — the Slack user must map to a named
//! operator (`slack_user`) with the responder role or above (403, and the clicker is told why
//! in an ephemeral message) — then the same gate as the dashboard's: the first decision of a
//! pending approval wins, whichever channel it came from. The run resumes in the background so
//! Slack gets its answer within its three seconds; the answer body says whether this click
//! decided (`decided`), and the clicker gets an ephemeral message either way.

use super::{AppState, error::ApiError};
use crate::notify::slack;
use crate::service::ServiceError;
use app::model::ApprovalDecision;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

pub async fn interactions(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(secret) = s
        .sentinel
        .config
        .file
        .notify
        .slack
        .as_ref()
        .and_then(|c| c.signing_secret.as_ref())
    else {
        return Err(ApiError::NotFound(
            "Slack interactivity is not configured ([notify.slack] signing_secret)".into(),
        ));
    };
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    let signature = header("x-slack-signature");
    slack::verify(
        secret.expose(),
        header("x-slack-request-timestamp"),
        signature,
        &body,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "Slack callback refused");
        ApiError::Unauthorized(format!("Slack signature check failed: {e}"))
    })?;
    // A valid signature covers timestamp and body: the same one twice is a replay.
    if !s
        .sentinel
        .store
        .record_delivery("slack", signature.unwrap_or_default())
        .await?
    {
        return Err(ApiError::Conflict(
            "this Slack request was already received (replay refused)".into(),
        ));
    }
    let click = slack::parse_click(&body).map_err(ApiError::BadRequest)?;
    let allowed = response_hosts(&s);
    let tell = |text: String| tell_clicker(click.response_url.clone(), &allowed, text);
    let who = match s.auth.by_slack_user(&click.user_id) {
        None => {
            let why = format!(
                "Slack user {} ({}) is not mapped to a Sentinel operator; an admin adds slack_user = \"{}\" to an [[operators]] entry",
                click.user_id, click.user_name, click.user_id
            );
            tracing::warn!(slack_user = %click.user_id, incident = %click.incident_id, "unmapped Slack user refused");
            tell(why.clone());
            return Err(ApiError::Forbidden(why));
        }
        Some(p) => match p.require(
            crate::config::OperatorRole::Responder,
            "deciding an approval",
        ) {
            Ok(p) => p,
            Err(e) => {
                if let ApiError::Forbidden(m) = &e {
                    tell(m.clone());
                }
                return Err(e);
            }
        },
    };
    let (verb, comment) = if click.approve {
        ("approve", "approved from Slack")
    } else {
        ("reject", "rejected from Slack")
    };
    let d = ApprovalDecision::parse(verb, comment, &who.name)
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    match s.sentinel.decide_in_background(&click.incident_id, d).await {
        Ok(()) => {
            tracing::info!(operator = %who.name, incident = %click.incident_id, decision = verb, "decided from Slack");
            tell(format!(
                "{} {} by {}.",
                click.incident_id,
                if click.approve {
                    "approved"
                } else {
                    "rejected"
                },
                who.name
            ));
            Ok(axum::Json(json!({
                "decided": true,
                "incident_id": click.incident_id,
                "decision": verb,
                "decided_by": who.name,
            }))
            .into_response())
        }
        Err(ServiceError::Conflict(m)) => {
            tell(format!("Not recorded: {m}."));
            Ok(axum::Json(json!({
                "decided": false,
                "incident_id": click.incident_id,
                "message": m,
            }))
            .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The hosts a `response_url` may name: Slack's (over https), and the host of a configured
/// `api_url` (a Slack-compatible endpoint or a test double). Anything else is not followed: a
/// leaked signing secret must not turn Sentinel into a proxy.
fn response_hosts(s: &AppState) -> Vec<String> {
    let mut v = vec!["hooks.slack.com".to_string()];
    if let Some(api) = s
        .sentinel
        .config
        .file
        .notify
        .slack
        .as_ref()
        .and_then(|c| c.api_url.as_ref())
    {
        v.push(crate::notify::host_of(api));
    }
    v
}

/// Tells the clicker what happened, through the interaction's `response_url` (ephemeral: only
/// they see it), off the request path, with a timeout and no redirects.
fn tell_clicker(response_url: Option<String>, allowed: &[String], text: String) {
    let Some(url) = response_url.filter(|u| {
        let host = crate::notify::host_of(u);
        let https = u.starts_with("https://");
        // Slack's own host only over https; a configured api_url host as configured.
        allowed
            .iter()
            .enumerate()
            .any(|(i, a)| *a == host && (https || i > 0))
    }) else {
        tracing::warn!("Slack response_url is not on an allowed host; the clicker is not answered");
        return;
    };
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(c) => c,
            Err(_) => return,
        };
        let body = json!({ "response_type": "ephemeral", "replace_original": false, "text": text });
        if let Err(e) = client.post(&url).json(&body).send().await {
            tracing::warn!(error = %e.without_url(), "could not answer the Slack user");
        }
    });
}
