//! Slack: the incident's status as a Block Kit message, and the Approve / Reject buttons'
//! callback verification.
//!
//! Two ways to post, chosen by the configuration:
//! - an **incoming webhook** (`webhook_url`): every change is a new message (incoming
//!   webhooks cannot edit what they posted);
//! - a **bot token** (`bot_token` + `channel`, scope `chat:write`): the first notice posts one
//!   message per incident (`chat.postMessage`; its `ts` is kept in `notify_state`); every later
//!   one rewrites it in place (`chat.update`) and adds a thread reply saying what changed.
//!
//! While an approval is pending, the message carries Approve and Reject buttons whose value is
//! the incident id. Slack posts the click to `POST /webhooks/slack/interactions`; [`verify`]
//! checks the `v0` signature over `v0:<timestamp>:<body>` with the signing secret and the
//! five-minute window. Who clicked is mapped to a named operator by `slack_user`
//! (server/src/http/slack.rs).

use super::{Channel, Notice, NotifyError, Outcome};
use crate::config::SlackConfig;
use crate::store::Store;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// How far a callback's timestamp may be from now (Slack's recommendation).
pub const MAX_SKEW_SECS: i64 = 5 * 60;
/// The buttons' action ids.
pub const APPROVE_ACTION: &str = "sentinel_approve";
pub const REJECT_ACTION: &str = "sentinel_reject";

enum Mode {
    Webhook(String),
    Bot {
        token: String,
        channel: String,
        api: String,
    },
}

pub struct SlackChannel {
    mode: Mode,
    http: reqwest::Client,
}

impl SlackChannel {
    /// None when neither a webhook URL nor a bot token is set (only a signing secret: the
    /// buttons of messages posted by something else).
    pub fn from_config(c: &SlackConfig, http: reqwest::Client) -> Option<Self> {
        let mode = if let Some(u) = &c.webhook_url {
            Mode::Webhook(u.expose().to_string())
        } else {
            Mode::Bot {
                token: c.bot_token.as_ref()?.expose().to_string(),
                channel: c.channel.clone()?,
                api: c
                    .api_url
                    .clone()
                    .unwrap_or_else(|| "https://slack.com/api".into())
                    .trim_end_matches('/')
                    .to_string(),
            }
        };
        Some(Self { mode, http })
    }

    /// Calls a Web API method; Slack answers 200 with `ok: false` on errors.
    async fn call(
        &self,
        api: &str,
        token: &str,
        method: &str,
        body: &Value,
    ) -> Result<Value, NotifyError> {
        let (_, text) = super::send(
            self.http
                .post(format!("{api}/{method}"))
                .bearer_auth(token)
                .json(body),
        )
        .await?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|_| NotifyError::transient(format!("{method}: not JSON")))?;
        if v["ok"].as_bool() != Some(true) {
            let err = v["error"].as_str().unwrap_or("unknown error").to_string();
            // Slack's documented transient errors; everything else (invalid_auth,
            // channel_not_found, not_in_channel, …) is a configuration problem.
            let transient = matches!(
                err.as_str(),
                "ratelimited"
                    | "internal_error"
                    | "fatal_error"
                    | "service_unavailable"
                    | "request_timeout"
            );
            let e = format!("{method}: {err}");
            return Err(if transient {
                NotifyError::transient(e)
            } else {
                NotifyError::permanent(e)
            });
        }
        Ok(v)
    }
}

#[async_trait::async_trait]
impl Channel for SlackChannel {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn target(&self) -> String {
        match &self.mode {
            Mode::Webhook(u) => super::host_of(u),
            Mode::Bot { channel, .. } => channel.clone(),
        }
    }

    fn wants(&self, _event: &str) -> bool {
        true
    }

    async fn deliver(&self, n: &Notice, store: &Store) -> Result<Outcome, NotifyError> {
        let message = message(n);
        match &self.mode {
            Mode::Webhook(url) => {
                super::send(self.http.post(url).json(&message)).await?;
                Ok(Outcome::Sent("posted (incoming webhook)".into()))
            }
            Mode::Bot {
                token,
                channel,
                api,
            } => {
                let state_err = |e: crate::store::StoreError| NotifyError::transient(e.to_string());
                let kept = store
                    .notify_state(&n.incident.id, "slack")
                    .await
                    .map_err(state_err)?
                    .and_then(|s| serde_json::from_str::<Value>(&s).ok());
                let mut body = message.clone();
                body["channel"] = json!(channel);
                match kept
                    .as_ref()
                    .and_then(|k| Some((k["channel"].as_str()?, k["ts"].as_str()?)))
                {
                    None => {
                        let v = self.call(api, token, "chat.postMessage", &body).await?;
                        let ts = v["ts"].as_str().unwrap_or_default().to_string();
                        let ch = v["channel"].as_str().unwrap_or(channel).to_string();
                        store
                            .set_notify_state(
                                &n.incident.id,
                                "slack",
                                &json!({ "channel": ch, "ts": ts }).to_string(),
                            )
                            .await
                            .map_err(state_err)?;
                        Ok(Outcome::Sent(format!("posted, ts {ts}")))
                    }
                    Some((ch, ts)) => {
                        body["channel"] = json!(ch);
                        body["ts"] = json!(ts);
                        if let Err(e) = self.call(api, token, "chat.update", &body).await {
                            if e.message.ends_with("message_not_found") {
                                // Someone deleted it: forget it, the retry posts a new one.
                                store
                                    .set_notify_state(&n.incident.id, "slack", "{}")
                                    .await
                                    .map_err(state_err)?;
                                return Err(NotifyError::transient(
                                    "the incident's message was deleted; posting a new one",
                                ));
                            }
                            return Err(e);
                        }
                        let reply = json!({
                            "channel": ch,
                            "thread_ts": ts,
                            "text": n.headline(),
                        });
                        self.call(api, token, "chat.postMessage", &reply).await?;
                        Ok(Outcome::Sent(format!(
                            "updated ts {ts} and replied in thread"
                        )))
                    }
                }
            }
        }
    }
}

fn mrkdwn(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

/// Slack's escaping for text it renders: `&`, `<`, `>`.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Block Kit text objects hold at most 3000 characters.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The message for a notice: headline, state, diagnosis with its evidence, the status update,
/// the decision, the link, and while an approval is pending the two buttons.
pub fn message(n: &Notice) -> Value {
    let r = &n.incident;
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": clip(&n.headline(), 150), "emoji": true } }),
        json!({ "type": "section", "fields": [
            mrkdwn(&format!("*Service*\n{}", escape(&r.service))),
            mrkdwn(&format!("*Status*\n{}", r.status.as_str())),
            mrkdwn(&format!("*Severity*\n{}", r.severity.map(|s| s.to_string()).unwrap_or_else(|| "—".into()))),
            mrkdwn(&format!("*Incident*\n<{}|{}>", n.url, escape(&r.id))),
        ]}),
    ];
    if let Some(d) = &r.report.diagnosis {
        let suspect = d
            .suspect_deploy
            .clone()
            .or(d.suspect_change.clone())
            .map(|s| format!("\n*Suspect:* `{}`", escape(&s)))
            .unwrap_or_default();
        blocks.push(json!({ "type": "section", "text": mrkdwn(&clip(&format!(
            "*Diagnosis* ({}, {:.0}% confident)\n{}{suspect}",
            d.failure_class,
            d.confidence * 100.0,
            escape(&d.summary)
        ), 3000)) }));
        if !d.evidence.is_empty() {
            let ev: Vec<String> = d
                .evidence
                .iter()
                .take(5)
                .map(|e| format!("• {}", escape(e)))
                .collect();
            blocks.push(json!({ "type": "section", "text": mrkdwn(&clip(&format!("*Evidence*\n{}", ev.join("\n")), 3000)) }));
        }
    }
    if let Some(u) = n.status_update() {
        blocks.push(json!({ "type": "section", "text": mrkdwn(&clip(&format!("*Status update*\n{}", escape(u)), 3000)) }));
    }
    if let Some(m) = &r.report.remediation {
        let mut text = format!(
            "*Proposed action:* {} {}",
            m.action.as_str(),
            m.target.as_deref().map(escape).unwrap_or_default()
        );
        if !m.risk.is_empty() {
            text.push_str(&format!("\n*Risk:* {}", escape(&m.risk)));
        }
        blocks.push(json!({ "type": "section", "text": mrkdwn(&clip(&text, 3000)) }));
    }
    if let Some((outcome, by, comment)) = &n.decision {
        let c = if comment.is_empty() {
            String::new()
        } else {
            format!(": “{}”", escape(comment))
        };
        blocks.push(json!({ "type": "context", "elements": [mrkdwn(&format!("*{}* by {}{c}", outcome.as_str(), escape(by)))] }));
    }
    if let Some(reason) = &n.reason {
        let label = if n.event == "incident.escalated" {
            "Escalated"
        } else {
            "Source"
        };
        blocks.push(json!({ "type": "context", "elements": [mrkdwn(&clip(&format!("{label}: {}", escape(reason)), 3000))] }));
    }
    // Buttons only while the incident really waits (not on a late notice of an approval
    // already decided, and on every notice while one is pending).
    if r.status == sentinel_model::IncidentStatus::AwaitingApproval {
        blocks.push(json!({
            "type": "actions",
            "block_id": "sentinel_approval",
            "elements": [
                { "type": "button", "action_id": APPROVE_ACTION, "style": "primary",
                  "text": { "type": "plain_text", "text": "Approve" }, "value": r.id },
                { "type": "button", "action_id": REJECT_ACTION, "style": "danger",
                  "text": { "type": "plain_text", "text": "Reject" }, "value": r.id },
            ]
        }));
    }
    blocks.push(json!({ "type": "context", "elements": [mrkdwn(&format!("Sentinel · {} · <{}|open the incident>", n.event, n.url))] }));
    json!({ "text": n.headline(), "blocks": blocks })
}

/// Why a callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing X-Slack-Request-Timestamp or X-Slack-Signature")]
    Missing,
    #[error("the request timestamp is not a number")]
    BadTimestamp,
    #[error("the request is older than five minutes (or from the future)")]
    Stale,
    #[error("the signature does not match")]
    BadSignature,
}

/// Checks a Slack request: `X-Slack-Signature` must be `v0=` + the hex HMAC-SHA256 of
/// `v0:<X-Slack-Request-Timestamp>:<raw body>` under the signing secret, and the timestamp
/// within [`MAX_SKEW_SECS`] of `now` (Unix seconds). Compared in constant time.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(VerifyError::Missing);
    };
    let t: i64 = ts.trim().parse().map_err(|_| VerifyError::BadTimestamp)?;
    if now.abs_diff(t) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    let given = sig
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(VerifyError::BadSignature)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| VerifyError::BadSignature)?;
    mac.update(b"v0:");
    mac.update(ts.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| VerifyError::BadSignature)
}

/// The signature Slack would send (tests, and anyone scripting a callback).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// A button click, as far as Sentinel reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    pub user_id: String,
    pub user_name: String,
    pub approve: bool,
    pub incident_id: String,
    pub response_url: Option<String>,
}

/// Reads an interactivity request body (form field `payload`, a `block_actions` JSON).
/// Errors say what is wrong, for the 400 answer.
pub fn parse_click(body: &[u8]) -> Result<Click, String> {
    let payload = form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned())
        .ok_or("the form field `payload` is missing")?;
    let v: Value =
        serde_json::from_str(&payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    if v["type"].as_str() != Some("block_actions") {
        return Err(format!(
            "payload.type {:?} is not handled (only block_actions)",
            v["type"].as_str().unwrap_or("")
        ));
    }
    let user_id = v["user"]["id"]
        .as_str()
        .ok_or("payload.user.id is missing")?
        .to_string();
    let user_name = v["user"]["username"]
        .as_str()
        .or(v["user"]["name"].as_str())
        .unwrap_or(&user_id)
        .to_string();
    let action = v["actions"]
        .as_array()
        .and_then(|a| {
            a.iter().find(|a| {
                matches!(
                    a["action_id"].as_str(),
                    Some(APPROVE_ACTION | REJECT_ACTION)
                )
            })
        })
        .ok_or("payload.actions has no Sentinel approve/reject action")?;
    let incident_id = action["value"]
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .ok_or("payload.actions[].value (the incident id) is missing")?
        .to_string();
    Ok(Click {
        user_id,
        user_name,
        approve: action["action_id"].as_str() == Some(APPROVE_ACTION),
        incident_id,
        response_url: v["response_url"].as_str().map(String::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const TS: i64 = 1531420618;
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(sign(SECRET, TS, BODY.as_bytes()), SIG);
        assert_eq!(
            verify(
                SECRET,
                Some("1531420618"),
                Some(SIG),
                BODY.as_bytes(),
                TS + 10
            ),
            Ok(())
        );
    }

    #[test]
    fn forged_stale_and_incomplete_requests_are_refused() {
        let b = BODY.as_bytes();
        assert_eq!(
            verify("other", Some("1531420618"), Some(SIG), b, TS),
            Err(VerifyError::BadSignature)
        );
        let mut tampered = BODY.to_string();
        tampered.push('x');
        assert_eq!(
            verify(
                SECRET,
                Some("1531420618"),
                Some(SIG),
                tampered.as_bytes(),
                TS
            ),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, Some("1531420618"), Some(SIG), b, TS + 301),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(SECRET, Some("1531420618"), Some(SIG), b, TS - 301),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(SECRET, None, Some(SIG), b, TS),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some("soon"), Some(SIG), b, TS),
            Err(VerifyError::BadTimestamp)
        );
        let min = i64::MIN.to_string();
        assert_eq!(
            verify(SECRET, Some(&min), Some(SIG), b, TS),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(SECRET, Some("1531420618"), Some("v1=00"), b, TS),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn a_click_is_read_from_the_form_payload() {
        let payload = json!({
            "type": "block_actions",
            "user": { "id": "U0ALICE", "username": "alice" },
            "response_url": "https://hooks.slack.com/actions/T/1/x",
            "actions": [{ "action_id": REJECT_ACTION, "value": "inc-123" }],
        });
        let body = format!(
            "payload={}",
            form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
        );
        let c = parse_click(body.as_bytes()).unwrap();
        assert_eq!(c.user_id, "U0ALICE");
        assert!(!c.approve);
        assert_eq!(c.incident_id, "inc-123");
        assert!(
            parse_click(b"payload=%7B%7D")
                .unwrap_err()
                .contains("block_actions")
        );
        assert!(parse_click(b"x=1").unwrap_err().contains("payload"));
    }
}
