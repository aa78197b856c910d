//! Reaching people, against local receivers: an HTTP server that records what Slack's Web
//! API, PagerDuty's Events API and an outbound-webhook receiver would get (answering as they
//! document), and a real SMTP server (aiosmtpd from PyPI, installed by
//! `scripts/setup-smtp.sh` into `.tools/smtp`). Named operators decide from Slack through
//! signed callbacks; forged, stale, replayed and unmapped ones are refused.

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use sentinel::config::FileConfig;
use serde_json::{Value, json};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789ab";
const SLACK_SECRET: &str = "slack-signing-secret-for-tests";
const HOOK_SECRET: &str = "outbound-webhook-secret";

/// What the receiver got: path, headers, body.
#[derive(Clone, Debug)]
struct Got {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    fn all(&self, path: &str) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.path == path)
            .cloned()
            .collect()
    }
}

/// Answers like the real services: Slack's Web API (`ok`, a message `ts`), PagerDuty's Events
/// API (202), a webhook receiver (200), a dead one (503), Slack's response_url (200).
async fn receive(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let path = uri.path().to_string();
    r.got.lock().unwrap().push(Got {
        path: path.clone(),
        headers,
        body: body.to_vec(),
    });
    match path.as_str() {
        "/slack/api/chat.postMessage" => {
            axum::Json(json!({ "ok": true, "channel": "C0INCIDENTS", "ts": "1733150000.000100" }))
                .into_response()
        }
        "/slack/api/chat.update" => {
            axum::Json(json!({ "ok": true, "channel": "C0INCIDENTS", "ts": "1733150000.000100" }))
                .into_response()
        }
        "/pagerduty/v2/enqueue" => (
            StatusCode::ACCEPTED,
            axum::Json(
                json!({ "status": "success", "message": "Event processed", "dedup_key": "x" }),
            ),
        )
            .into_response(),
        "/dead" => (StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
        _ => (StatusCode::OK, "ok").into_response(),
    }
}

async fn start_receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = axum::Router::new().fallback(receive).with_state(r.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (r, base)
}

/// aiosmtpd on a free port, delivering into a Maildir.
struct Smtp {
    child: std::process::Child,
    port: u16,
    maildir: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> PathBuf {
    let py = common::repo_root().join(".tools/smtp/venv/bin/python");
    assert!(
        py.exists(),
        "aiosmtpd is not installed: run scripts/setup-smtp.sh (scripts/setup.sh --test does)"
    );
    py
}

async fn start_smtp(dir: &Path) -> Smtp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maildir = dir.join("maildir");
    let child = std::process::Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let smtp = Smtp {
        child,
        port,
        maildir,
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return smtp;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("aiosmtpd did not start on port {port}");
}

fn mails(smtp: &Smtp) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(smtp.maildir.join("new")) else {
        return Vec::new();
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .map(|m| quoted_printable(&m))
        .collect()
}

/// Undoes quoted-printable (soft line breaks and `=XX`), enough to read a body.
fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct App {
    _dir: tempfile::TempDir,
    base: String,
    http: reqwest::Client,
}

async fn start(toml: &str, approval_timeout: Duration) -> App {
    let (app, _) = start_in(tempfile::tempdir().unwrap(), toml, approval_timeout).await;
    app
}

/// Starts a server on the database in `dir`; the handle stops it (its notification readers
/// with it) when aborted.
async fn start_in(
    dir: tempfile::TempDir,
    toml: &str,
    approval_timeout: Duration,
) -> (App, tokio::task::JoinHandle<Result<(), String>>) {
    let mut cfg = common::test_config(dir.path());
    cfg.file = FileConfig::parse(Path::new("sentinel.toml"), toml).unwrap();
    cfg.approval_timeout = approval_timeout;
    cfg.ingest.webhook_token = Some("webhook-token".into());
    let app = sentinel::http::Application::build(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr);
    let handle = tokio::spawn(app.run());
    (
        App {
            _dir: dir,
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        },
        handle,
    )
}

fn operators() -> String {
    format!(
        r#"
[[operators]]
name = "alice"
token = "{ALICE}"
role = "responder"
slack_user = "U0ALICE"

[[operators]]
name = "bob"
token = "{BOB}"
role = "viewer"
slack_user = "U0BOB"
"#
    )
}

impl App {
    async fn fire(&self, token: &str, scenario: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/scenarios/{scenario}/fire", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        r.json::<Value>().await.unwrap()["incident_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn incident(&self, id: &str) -> Value {
        self.http
            .get(format!("{}/api/incidents/{id}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn wait_status(&self, id: &str, status: &str) -> Value {
        for _ in 0..600 {
            let v = self.incident(id).await;
            if v["status"] == status {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{id} never reached {status}: {}", self.incident(id).await);
    }

    async fn events(&self, id: &str) -> Vec<Value> {
        let mut req = self
            .http
            .get(format!("{}/api/incidents/{id}/events", self.base))
            .header("Last-Event-ID", "0")
            .send()
            .await
            .unwrap();
        // The stream stays open: read what is there now.
        let mut text = String::new();
        while let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_millis(500), req.chunk()).await
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    }

    async fn click(
        &self,
        user: &str,
        incident: &str,
        approve: bool,
        response_url: &str,
    ) -> (u16, Value) {
        let (body, ts) = click_body(user, incident, approve, response_url);
        self.slack(&body, ts, &slack_sign(SLACK_SECRET, ts, &body))
            .await
    }

    async fn slack(&self, body: &str, ts: i64, sig: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/webhooks/slack/interactions", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", sig)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let st = r.status().as_u16();
        (st, r.json().await.unwrap_or(Value::Null))
    }
}

fn click_body(user: &str, incident: &str, approve: bool, response_url: &str) -> (String, i64) {
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user, "username": user.to_lowercase() },
        "response_url": response_url,
        "actions": [{
            "action_id": if approve { "sentinel_approve" } else { "sentinel_reject" },
            "block_id": "sentinel_approval",
            "value": incident,
            "type": "button",
        }],
    });
    let body: String = url_form(&[("payload", &payload.to_string())]);
    (body, chrono::Utc::now().timestamp())
}

fn url_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Slack's signature, computed here independently of Sentinel's code.
fn slack_sign(secret: &str, ts: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn hook_signature_ok(g: &Got) -> bool {
    let Some(sig) = g
        .headers
        .get("x-sentinel-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).unwrap();
    mac.update(&g.body);
    sig == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn events_named<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[tokio::test]
async fn an_incident_reaches_slack_webhooks_and_email_and_alice_approves_from_slack() {
    let (rx, rbase) = start_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let smtp = start_smtp(dir.path()).await;
    let toml = format!(
        r##"{ops}
[notify]
retries = 1
backoff_ms = 20

[notify.slack]
bot_token = "xoxb-test-token"
channel = "#incidents"
api_url = "{rbase}/slack/api"
signing_secret = "{SLACK_SECRET}"

[notify.webhook]
url = "{rbase}/hook"
secret = "{HOOK_SECRET}"

[notify.email]
smtp_host = "127.0.0.1"
smtp_port = {port}
tls = "none"
from = "Sentinel <sentinel@example.test>"
to = ["oncall@example.test"]
"##,
        ops = operators(),
        port = smtp.port
    );
    let app = start(&toml, Duration::from_secs(900)).await;
    let id = app.fire(ALICE, "bad_deploy_01").await;
    app.wait_status(&id, "awaiting_approval").await;

    // Slack: one message posted for the incident, then rewritten in place with the buttons,
    // every change also a thread reply; the bot token is sent as a bearer token.
    let update = until("a chat.update with the approval buttons", || {
        rx.all("/slack/api/chat.update").into_iter().find(|g| {
            g.json()["blocks"]
                .as_array()
                .is_some_and(|b| b.iter().any(|b| b["type"] == "actions"))
        })
    })
    .await;
    // Each update is followed by its thread reply.
    let posts = until("the thread reply of the approval update", || {
        let p = rx.all("/slack/api/chat.postMessage");
        p.iter()
            .any(|g| {
                g.json()["thread_ts"] == "1733150000.000100"
                    && g.json()["text"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("Approval needed"))
            })
            .then_some(p)
    })
    .await;
    let first: Vec<_> = posts
        .iter()
        .filter(|g| g.json()["thread_ts"].is_null())
        .collect();
    assert_eq!(first.len(), 1, "one top-level message per incident");
    assert_eq!(first[0].json()["channel"], "#incidents");
    assert_eq!(
        first[0].headers["authorization"].to_str().unwrap(),
        "Bearer xoxb-test-token"
    );
    assert!(
        posts
            .iter()
            .any(|g| g.json()["thread_ts"] == "1733150000.000100")
    );
    let u = update.json();
    assert_eq!(u["ts"], "1733150000.000100");
    assert_eq!(u["channel"], "C0INCIDENTS");
    let blocks = u["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let text = u.to_string();
    assert!(text.contains("api-gateway"), "{text}");
    assert!(
        text.contains("Diagnosis"),
        "the diagnosis is in the message: {text}"
    );
    let buttons = &blocks.iter().find(|b| b["type"] == "actions").unwrap()["elements"];
    assert_eq!(buttons[0]["action_id"], "sentinel_approve");
    assert_eq!(buttons[0]["value"], id.as_str());
    assert_eq!(buttons[1]["action_id"], "sentinel_reject");

    // The outbound webhook: signed, one delivery per event, header and body agree.
    let hooks = until("opened and awaiting_approval webhooks", || {
        let h = rx.all("/hook");
        (h.len() >= 2).then_some(h)
    })
    .await;
    for h in &hooks {
        assert!(hook_signature_ok(h), "bad signature on {:?}", h.json());
        assert_eq!(
            h.headers["x-sentinel-event"].to_str().unwrap(),
            h.json()["event"].as_str().unwrap()
        );
        assert_eq!(h.json()["incident"]["incident_id"], id.as_str());
    }
    let names: Vec<String> = hooks
        .iter()
        .map(|h| h.json()["event"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"incident.opened".to_string()), "{names:?}");
    assert!(
        names.contains(&"incident.awaiting_approval".to_string()),
        "{names:?}"
    );

    // Email through the real SMTP server: the approval request, with the link.
    let mail = until("the approval email", || {
        mails(&smtp)
            .into_iter()
            .find(|m| m.contains("Approval needed"))
    })
    .await;
    assert!(mail.contains("oncall@example.test"), "{mail}");
    assert!(mail.contains(&format!("/incidents/{id}")), "{mail}");

    // Alice approves from Slack: the decision records her name, the run finishes.
    let (st, v) = app
        .click("U0ALICE", &id, true, &format!("{rbase}/respond"))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["decided"], true, "{v}");
    let done = app.wait_status(&id, "resolved").await;
    assert_eq!(done["remediation"]["decided_by"], "alice", "{done}");
    let told = until("the ephemeral answer to alice", || {
        rx.all("/respond").into_iter().next()
    })
    .await;
    assert_eq!(told.json()["response_type"], "ephemeral");
    assert!(told.json()["text"].as_str().unwrap().contains("alice"));

    // Decided and resolved reach every channel; the timeline records each delivery.
    until("decided and resolved webhooks", || {
        let names: Vec<String> = rx
            .all("/hook")
            .iter()
            .map(|h| h.json()["event"].as_str().unwrap_or("").to_string())
            .collect();
        (names.contains(&"incident.decided".into()) && names.contains(&"incident.resolved".into()))
            .then_some(())
    })
    .await;
    let decided = rx
        .all("/hook")
        .into_iter()
        .find(|h| h.json()["event"] == "incident.decided")
        .unwrap()
        .json();
    assert_eq!(decided["decision"]["by"], "alice");
    assert_eq!(decided["decision"]["outcome"], "approved");
    // Once decided, the message loses its buttons.
    until("a final update without buttons", || {
        rx.all("/slack/api/chat.update")
            .last()
            .filter(|g| {
                g.json()["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Resolved on"))
                    && !g.json()["blocks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|b| b["type"] == "actions")
            })
            .map(|_| ())
    })
    .await;
    let tops = rx
        .all("/slack/api/chat.postMessage")
        .iter()
        .filter(|g| g.json()["thread_ts"].is_null())
        .count();
    assert_eq!(tops, 1, "still one top-level message after every update");
    until("the resolution email", || {
        mails(&smtp).into_iter().find(|m| m.contains("Resolved on"))
    })
    .await;
    let mut sent = Vec::new();
    for _ in 0..100 {
        let evs = app.events(&id).await;
        sent = events_named(&evs, "notified")
            .into_iter()
            .filter(|e| e["outcome"] == "sent")
            .map(|e| {
                (
                    e["channel"].as_str().unwrap().to_string(),
                    e["event"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        if sent.contains(&("email".into(), "incident.resolved".into()))
            && sent.contains(&("slack".into(), "incident.resolved".into()))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for want in [
        ("slack", "incident.opened"),
        ("webhook", "incident.awaiting_approval"),
        ("email", "incident.awaiting_approval"),
        ("slack", "incident.decided"),
        ("email", "incident.resolved"),
    ] {
        assert!(
            sent.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not on the timeline: {sent:?}"
        );
    }
    // Nothing leaked a secret onto the timeline.
    let all = serde_json::to_string(&app.events(&id).await).unwrap();
    for secret in ["xoxb-test-token", HOOK_SECRET, SLACK_SECRET, ALICE] {
        assert!(!all.contains(secret), "{secret} on the timeline");
    }

    // The postmortem draft: served as Markdown, naming who decided, kept with the memory.
    let r = app
        .http
        .get(format!("{}/api/incidents/{id}/postmortem", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let md = r.text().await.unwrap();
    assert!(md.contains("**approved by alice**"), "{md}");
    assert!(
        md.contains("## Root cause") && md.contains("## Action items"),
        "{md}"
    );
    assert!(md.contains("notified slack (#incidents): sent"), "{md}");
    let db = app._dir.path().join("test.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let mut kept = None;
    for _ in 0..100 {
        kept = sqlx::query_scalar::<_, Option<String>>(
            "SELECT postmortem FROM memories WHERE incident_id = ?",
        )
        .bind(&id)
        .fetch_optional(&pool)
        .await
        .unwrap()
        .flatten();
        if kept.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kept = kept.expect("the memory entry keeps the postmortem");
    assert!(kept.starts_with("# Postmortem (draft)"), "{kept}");
    let r = app
        .http
        .get(format!("{}/api/incidents/inc-nope/postmortem", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The incident page shows who decided and where each notification went.
    let page = app
        .http
        .get(format!("{}/incidents/{id}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-testid=\"notifications\""),
        "no notifications table"
    );
    assert!(page.contains("data-testid=\"decided-by\""), "no decision");
    assert!(page.contains(">alice<"), "alice is not named on the page");
    assert!(
        page.contains("#incidents"),
        "the Slack channel is not named"
    );
    assert!(
        page.contains("data-testid=\"postmortem-download\""),
        "no postmortem download"
    );
    // The series the agents read are charted, with the suspect deploy and the alert marked.
    assert!(page.contains("data-testid=\"metric-chart\""), "no chart");
    assert!(
        page.contains("class=\"marker change culprit\""),
        "the suspect deploy is not marked"
    );
    assert!(
        page.contains("data-kind=\"alert\""),
        "the alert is not marked"
    );
    assert!(
        page.contains("data-testid=\"log-signature\""),
        "no log signatures"
    );
}

#[tokio::test]
async fn slack_callbacks_are_verified_mapped_and_race_the_dashboard_fairly() {
    let (rx, rbase) = start_receiver().await;
    let toml = format!(
        r#"{ops}
[notify.slack]
signing_secret = "{SLACK_SECRET}"
# Slack's own response_url host is allowed over https; this receiver stands in for it.
api_url = "{rbase}/slack/api"
"#,
        ops = operators()
    );
    let app = start(&toml, Duration::from_secs(900)).await;
    let id = app.fire(ALICE, "bad_deploy_01").await;
    app.wait_status(&id, "awaiting_approval").await;
    let respond = format!("{rbase}/respond");

    // Forged: signed with another secret.
    let (body, ts) = click_body("U0ALICE", &id, true, &respond);
    let (st, v) = app
        .slack(&body, ts, &slack_sign("not-the-secret", ts, &body))
        .await;
    assert_eq!(st, 401, "{v}");
    // Stale: a genuine signature over a timestamp six minutes old.
    let old = ts - 6 * 60;
    let (st, v) = app
        .slack(&body, old, &slack_sign(SLACK_SECRET, old, &body))
        .await;
    assert_eq!(st, 401, "{v}");
    assert!(v["error"].as_str().unwrap().contains("five minutes"), "{v}");
    // Unmapped Slack user: refused, and told why.
    let (st, v) = app.click("U0EVE", &id, true, &respond).await;
    assert_eq!(st, 403, "{v}");
    let told = until("the unmapped user's answer", || {
        rx.all("/respond").into_iter().next()
    })
    .await;
    assert!(
        told.json()["text"].as_str().unwrap().contains("not mapped"),
        "{:?}",
        told.json()
    );
    // A response_url anywhere but Slack (here: another port) is never called.
    let (other, other_base) = start_receiver().await;
    let (st, _) = app
        .click("U0EVE", &id, true, &format!("{other_base}/respond"))
        .await;
    assert_eq!(st, 403);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        other.all("/respond").is_empty(),
        "a foreign response_url was called"
    );
    // A viewer may not decide.
    let (st, v) = app.click("U0BOB", &id, true, &respond).await;
    assert_eq!(st, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("viewer"), "{v}");
    // Bob's token cannot decide on the API either (a viewer), but can read who he is.
    let r = app
        .http
        .post(format!("{}/api/incidents/{id}/approval", app.base))
        .bearer_auth(BOB)
        .json(&json!({ "decision": "approve" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let me: Value = app
        .http
        .get(format!("{}/api/me", app.base))
        .bearer_auth(BOB)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me, json!({ "name": "bob", "role": "viewer" }));
    // Nothing was decided by any of those.
    assert_eq!(app.incident(&id).await["status"], "awaiting_approval");

    // Alice rejects on Slack while the shared operator token approves on the dashboard:
    // exactly one wins, the other is told it was already decided.
    let (body, ts) = click_body("U0ALICE", &id, false, &respond);
    let sig = slack_sign(SLACK_SECRET, ts, &body);
    let dash = app
        .http
        .post(format!("{}/api/incidents/{id}/approval", app.base))
        .bearer_auth("test-operator-token")
        .json(&json!({ "decision": "approve" }))
        .send();
    let ((st, v), dash) = tokio::join!(app.slack(&body, ts, &sig), dash);
    let dash = dash.unwrap();
    assert_eq!(st, 200, "{v}");
    let slack_won = v["decided"] == true;
    let dash_won = dash.status() == 200;
    assert!(
        slack_won ^ dash_won,
        "exactly one decision wins: slack {v}, dashboard {}",
        dash.status()
    );
    if !dash_won {
        assert_eq!(dash.status(), 409);
    }
    let end = if slack_won { "escalated" } else { "resolved" };
    let done = app.wait_status(&id, end).await;
    let by = done["remediation"]["decided_by"].as_str().unwrap();
    assert_eq!(
        by,
        if slack_won {
            "alice"
        } else {
            "operator (api token)"
        }
    );
    if slack_won {
        assert_eq!(done["remediation"]["approval"], "rejected", "{done}");
        assert_eq!(
            done["remediation"]["decision_comment"],
            "rejected from Slack"
        );
    }
    // The same signed request again is a replay.
    let (st, v) = app.slack(&body, ts, &sig).await;
    assert_eq!(st, 409, "{v}");

    // Rejecting from Slack, uncontested.
    let id2 = app.fire(ALICE, "bad_deploy_01").await;
    app.wait_status(&id2, "awaiting_approval").await;
    let (st, v) = app.click("U0ALICE", &id2, false, &respond).await;
    assert_eq!((st, v["decided"].clone()), (200, json!(true)), "{v}");
    let done = app.wait_status(&id2, "escalated").await;
    assert_eq!(done["remediation"]["approval"], "rejected", "{done}");
    assert_eq!(done["remediation"]["decided_by"], "alice");
    // A click on an incident with nothing pending any more is answered, not applied.
    let (st, v) = app.click("U0ALICE", &id2, true, &respond).await;
    assert_eq!((st, v["decided"].clone()), (200, json!(false)), "{v}");
}

#[tokio::test]
async fn a_dead_receiver_is_retried_dead_lettered_and_leaves_the_incident_intact() {
    let (rx, rbase) = start_receiver().await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let toml = format!(
        r#"{ops}
[notify]
retries = 2
backoff_ms = 10
timeout_secs = 2

[notify.webhook]
url = "{rbase}/dead"
events = ["incident.opened"]

[notify.slack]
webhook_url = "http://127.0.0.1:{closed}/services/T0/B0/secret-path"
"#,
        ops = operators()
    );
    let app = start(&toml, Duration::from_secs(900)).await;
    let id = app.fire(ALICE, "bad_deploy_01").await;
    app.wait_status(&id, "awaiting_approval").await;
    let r = app
        .http
        .post(format!("{}/api/incidents/{id}/approval", app.base))
        .bearer_auth(ALICE)
        .json(&json!({ "decision": "approve" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done = app.wait_status(&id, "resolved").await;
    assert_eq!(done["remediation"]["decided_by"], "alice");

    // The dead webhook: three attempts (two retries), then failed.
    let mut outcomes = Vec::new();
    for _ in 0..100 {
        let evs = app.events(&id).await;
        outcomes = events_named(&evs, "notified")
            .into_iter()
            .filter(|e| e["channel"] == "webhook")
            .map(|e| {
                (
                    e["outcome"].as_str().unwrap().to_string(),
                    e["attempt"].as_u64().unwrap(),
                )
            })
            .collect();
        if outcomes.iter().any(|(o, _)| o == "failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        outcomes,
        [
            ("retrying".to_string(), 1),
            ("retrying".to_string(), 2),
            ("failed".to_string(), 3)
        ]
    );
    assert_eq!(rx.all("/dead").len(), 3, "one request per attempt");
    // The Slack webhook's connection refused: failed too, its secret path never shown.
    let evs = app.events(&id).await;
    let slack: Vec<_> = events_named(&evs, "notified")
        .into_iter()
        .filter(|e| e["channel"] == "slack")
        .collect();
    assert!(slack.iter().any(|e| e["outcome"] == "failed"), "{slack:?}");
    assert!(
        slack
            .iter()
            .all(|e| e["target"] == format!("127.0.0.1:{closed}"))
    );
    assert!(!serde_json::to_string(&evs).unwrap().contains("secret-path"));
    // Dead letters keep what could not be delivered.
    let db = app._dir.path().join("test.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT channel, event FROM notify_dead_letters WHERE incident_id = ? ORDER BY id",
    )
    .bind(&id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        rows.contains(&("webhook".into(), "incident.opened".into())),
        "{rows:?}"
    );
    assert!(rows.iter().any(|(c, _)| c == "slack"), "{rows:?}");
}

#[tokio::test]
async fn pagerduty_pages_the_owning_team_on_a_timed_out_approval() {
    let (rx, rbase) = start_receiver().await;
    let toml = format!(
        r#"{ops}
[notify.pagerduty]
routing_key = "default-routing-key-000000000000"
events_url = "{rbase}/pagerduty/v2/enqueue"

[notify.pagerduty.teams]
edge = "edge-routing-key-00000000000000"
"#,
        ops = operators()
    );
    // Nobody decides: the approval times out after two seconds and the incident escalates.
    let app = start(&toml, Duration::from_secs(2)).await;
    let id = app.fire(ALICE, "bad_deploy_01").await;
    app.wait_status(&id, "escalated").await;
    let page = until("the PagerDuty trigger", || {
        rx.all("/pagerduty/v2/enqueue").into_iter().next()
    })
    .await
    .json();
    assert_eq!(page["event_action"], "trigger");
    assert_eq!(
        page["routing_key"], "edge-routing-key-00000000000000",
        "the owning team's key"
    );
    assert_eq!(page["dedup_key"], format!("sentinel/{id}"));
    assert_eq!(page["payload"]["source"], "api-gateway");
    assert!(
        ["critical", "error", "warning", "info"]
            .contains(&page["payload"]["severity"].as_str().unwrap())
    );
    assert!(
        page["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{page}"
    );
    assert_eq!(
        page["links"][0]["href"],
        format!("{}/incidents/{id}", app.base)
    );
    // The escalation that follows folds into the same page (no second trigger): once the
    // PagerDuty reader's cursor is past the escalation, still one request.
    let db = app._dir.path().join("test.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let escalated: i64 = sqlx::query_scalar(
        "SELECT MAX(seq) FROM events WHERE incident_id = ? AND payload_json LIKE '%\"incident_escalated\"%'",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    for _ in 0..200 {
        let at: i64 =
            sqlx::query_scalar("SELECT seq FROM notify_cursor WHERE name = 'notify:pagerduty'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if at >= escalated {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(rx.all("/pagerduty/v2/enqueue").len(), 1);

    // A real alert from Alertmanager (payment-service, team payments: the default key) pages
    // when its investigation ends unapproved, and the page resolves when Alertmanager says the
    // alert is over.
    let fixture =
        |name: &str| std::fs::read(common::fixtures().join("webhooks").join(name)).unwrap();
    let am = |body: Vec<u8>| {
        app.http
            .post(format!("{}/webhooks/alertmanager", app.base))
            .bearer_auth("webhook-token")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = am(fixture("alertmanager_firing.json")).await.unwrap();
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    let am_id = v["incidents"][0]["incident_id"]
        .as_str()
        .unwrap()
        .to_string();
    let trigger = until("the Alertmanager incident's page", || {
        rx.all("/pagerduty/v2/enqueue")
            .into_iter()
            .map(|g| g.json())
            .find(|j| {
                j["dedup_key"] == format!("sentinel/{am_id}") && j["event_action"] == "trigger"
            })
    })
    .await;
    assert_eq!(trigger["routing_key"], "default-routing-key-000000000000");
    assert_eq!(trigger["payload"]["source"], "payment-service");
    let r = am(fixture("alertmanager_resolved.json")).await.unwrap();
    assert_eq!(r.status(), 202);
    let resolve = until("the resolve", || {
        rx.all("/pagerduty/v2/enqueue")
            .into_iter()
            .map(|g| g.json())
            .find(|j| {
                j["dedup_key"] == format!("sentinel/{am_id}") && j["event_action"] == "resolve"
            })
    })
    .await;
    assert_eq!(resolve["routing_key"], "default-routing-key-000000000000");
    // The first incident was never resolved at its source: its page stays open.
    assert!(
        !rx.all("/pagerduty/v2/enqueue")
            .iter()
            .any(|g| g.json()["dedup_key"] == format!("sentinel/{id}")
                && g.json()["event_action"] == "resolve")
    );
}

/// A client that keeps cookies to itself (no redirects followed, so the login's cookie shows).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn login(app: &App, token: &str) -> String {
    let r = browser()
        .get(format!("{}/login?token={token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login redirects");
    let c = r.headers()["set-cookie"].to_str().unwrap();
    c.split(';').next().unwrap().to_string()
}

async fn get_as(app: &App, cookie: &str, path: &str) -> (u16, Value) {
    let r = browser()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn named_operators_have_their_own_sessions_roles_and_records() {
    let app = start(&operators(), Duration::from_secs(900)).await;
    let alice = login(&app, ALICE).await;
    let bob = login(&app, BOB).await;
    assert_eq!(
        get_as(&app, &alice, "/api/me").await.1,
        json!({ "name": "alice", "role": "responder" })
    );
    // Each sees only their own sessions; the shared token (an admin) sees everyone's.
    let (_, mine) = get_as(&app, &bob, "/api/sessions").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["operator"], "bob");
    assert_eq!(mine[0]["current"], true);
    let all: Value = app
        .http
        .get(format!("{}/api/sessions", app.base))
        .bearer_auth("test-operator-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alice_session = all
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["operator"] == "alice")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Bob cannot end Alice's session; an admin can, and her cookie stops working at once.
    let r = browser()
        .delete(format!("{}/api/sessions/{alice_session}", app.base))
        .header("cookie", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .http
        .delete(format!("{}/api/sessions/{alice_session}", app.base))
        .bearer_auth("test-operator-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get_as(&app, &alice, "/api/me").await.0, 401);
    // Only an admin ends someone's every session.
    let r = app
        .http
        .delete(format!("{}/api/sessions?operator=bob", app.base))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r: Value = app
        .http
        .delete(format!("{}/api/sessions?operator=bob", app.base))
        .bearer_auth("test-operator-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["revoked"], 1);
    assert_eq!(get_as(&app, &bob, "/api/me").await.0, 401);

    // A viewer may not fire; a responder's fire records the person.
    let r = app
        .http
        .post(format!("{}/api/scenarios/bad_deploy_01/fire", app.base))
        .bearer_auth(BOB)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let id = app.fire(ALICE, "bad_deploy_01").await;
    let v = app.incident(&id).await;
    assert_eq!(v["alert"]["annotations"]["fired_by"], "alice", "{v}");
}

#[tokio::test]
async fn a_restart_neither_repeats_nor_skips_a_notification() {
    let (rx, rbase) = start_receiver().await;
    let toml = format!(
        r#"{ops}
[notify.webhook]
url = "{rbase}/hook"
secret = "{HOOK_SECRET}"
"#,
        ops = operators()
    );
    let (app, server) = start_in(
        tempfile::tempdir().unwrap(),
        &toml,
        Duration::from_secs(900),
    )
    .await;
    let id = app.fire(ALICE, "bad_deploy_01").await;
    app.wait_status(&id, "awaiting_approval").await;
    until("the awaiting-approval webhook", || {
        rx.all("/hook")
            .iter()
            .any(|h| h.json()["event"] == "incident.awaiting_approval")
            .then_some(())
    })
    .await;
    // Stop the server (its readers with it) and start another on the same database.
    server.abort();
    let _ = server.await;
    let App { _dir: dir, .. } = app;
    let (app, _server) = start_in(dir, &toml, Duration::from_secs(900)).await;
    let r = app
        .http
        .post(format!("{}/api/incidents/{id}/approval", app.base))
        .bearer_auth(ALICE)
        .json(&json!({ "decision": "approve" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.wait_status(&id, "resolved").await;
    until("the resolved webhook", || {
        rx.all("/hook")
            .iter()
            .any(|h| h.json()["event"] == "incident.resolved")
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events: Vec<String> = rx
        .all("/hook")
        .iter()
        .filter(|h| h.json()["incident"]["incident_id"] == id.as_str())
        .map(|h| h.json()["event"].as_str().unwrap().to_string())
        .collect();
    for e in [
        "incident.opened",
        "incident.awaiting_approval",
        "incident.decided",
        "incident.resolved",
    ] {
        assert_eq!(
            events.iter().filter(|x| *x == e).count(),
            1,
            "{e} once across the restart: {events:?}"
        );
    }
}
