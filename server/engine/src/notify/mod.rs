//! Notifications: the people an incident concerns hear about it where they are — a Slack
//! channel, PagerDuty, an outbound webhook, email.
//!
//! Each configured [`Channel`] has its own reader of the append-only event log, with its own
//! cursor in the database (`notify_cursor`, `notify:<channel>`; a new one starts at the log's
//! end). It turns the events that matter to people into [`Notice`]s — `incident.opened`,
//! `incident.updated` (Comms drafted the status update), `incident.awaiting_approval`,
//! `incident.decided`, `incident.resolved`, `incident.escalated` — and delivers each one, with
//! its retries, before its cursor moves past the event: a restart resumes at the first notice
//! not finished (at least once; receivers deduplicate on the delivery id), and a slow or dead
//! receiver holds back only its own channel. None of it runs on the investigation's path, so
//! a failing receiver never blocks or fails an incident.
//!
//! Every attempt is recorded on the incident's timeline as a `notified` event (`sent`,
//! `retrying`, `failed`); a call has a timeout, failures are retried with exponential backoff
//! (a `Retry-After` is honoured; a 4xx other than 408/429 is permanent), and a delivery that
//! failed every attempt is kept as a dead letter (`notify_dead_letters`).

pub mod email;
pub mod pagerduty;
pub mod slack;
pub mod webhook;

use crate::agents::EventSink;
use crate::config::{Config, NotifyConfig};
use crate::memory::semantic::Catalogue;
use crate::store::{IncidentRecord, Store};
use chrono::{DateTime, Utc};
use sentinel_model::{AgentRole, ApprovalOutcome, RunEventKind};
use std::sync::Arc;
use std::time::Duration;

/// The prefix of each channel's cursor name in `notify_cursor`.
const CURSOR_PREFIX: &str = "notify:";

/// Why a delivery failed, and whether trying again could help.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct NotifyError {
    pub message: String,
    /// A retry cannot succeed (a 4xx other than 408/429, a refused configuration).
    pub permanent: bool,
    /// What the receiver asked for (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl NotifyError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
            retry_after: None,
        }
    }

    /// Classifies an HTTP answer that was not a success.
    pub fn from_status(
        status: reqwest::StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &str,
    ) -> Self {
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(300)));
        let body: String = body.chars().take(200).collect();
        Self {
            message: format!("HTTP {}: {}", status.as_u16(), body.trim()),
            permanent: status.is_client_error()
                && status != reqwest::StatusCode::REQUEST_TIMEOUT
                && status != reqwest::StatusCode::TOO_MANY_REQUESTS,
            retry_after,
        }
    }

    /// A transport error (connect, timeout, reset): worth a retry.
    pub fn from_reqwest(e: reqwest::Error) -> Self {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        // Without the URL (a Slack webhook's path is its secret), with the causes.
        let e = e.without_url();
        let mut text = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(c) = cur {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cur = c.source();
        }
        Self::transient(format!("{what}: {text}"))
    }
}

/// Sends one request: a transport error or an answer other than 2xx is a classified
/// [`NotifyError`]; a success gives its status and body.
pub async fn send(
    req: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, String), NotifyError> {
    let res = req.send().await.map_err(NotifyError::from_reqwest)?;
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await;
    if !status.is_success() {
        return Err(NotifyError::from_status(
            status,
            &headers,
            &text.unwrap_or_default(),
        ));
    }
    Ok((status, text.map_err(NotifyError::from_reqwest)?))
}

/// What a channel did with a notice.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Delivered; the text says what (shown on the timeline).
    Sent(String),
    /// Not this channel's business (PagerDuty for an approved decision, say): nothing recorded.
    Skipped,
}

/// Something people should hear about.
#[derive(Debug, Clone)]
pub struct Notice {
    /// `incident.opened`, … (see [`crate::config::NOTIFY_EVENTS`]).
    pub event: &'static str,
    /// The event log's sequence number of what caused it (unique per notice).
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The incident as it stood when the notice was taken.
    pub incident: IncidentRecord,
    /// The decision, for `incident.decided`.
    pub decision: Option<(ApprovalOutcome, String, String)>,
    /// The reason, for `incident.escalated` (the source's note for a resolve at source).
    pub reason: Option<String>,
    /// The incident page.
    pub url: String,
    /// The owning team from the catalogue (empty when unknown).
    pub team: String,
}

impl Notice {
    /// A delivery id stable across retries (receivers deduplicate on it).
    pub fn delivery_id(&self, channel: &str) -> String {
        format!("{}-{}-{}", self.incident.id, self.seq, channel)
    }

    /// A one-line headline.
    pub fn headline(&self) -> String {
        let r = &self.incident;
        match self.event {
            "incident.opened" => format!("Incident opened on {}: {}", r.service, r.title),
            "incident.updated" => format!("Status update on {}: {}", r.service, r.title),
            "incident.awaiting_approval" => {
                format!("Approval needed on {}: {}", r.service, r.title)
            }
            "incident.decided" => match &self.decision {
                Some((o, by, _)) => format!("Remediation {} by {by} on {}", o.as_str(), r.service),
                None => format!("Decision on {}", r.service),
            },
            "incident.resolved" if r.status == sentinel_model::IncidentStatus::Resolved => {
                format!("Resolved on {}: {}", r.service, r.title)
            }
            "incident.resolved" => {
                format!("Alert resolved at source on {}: {}", r.service, r.title)
            }
            "incident.escalated" => format!("Escalated on {}: {}", r.service, r.title),
            other => format!("{other} on {}", r.service),
        }
    }

    /// The status update Comms drafted, if any.
    pub fn status_update(&self) -> Option<&str> {
        self.incident
            .report
            .comms
            .as_ref()
            .map(|c| c.summary.as_str())
            .filter(|s| !s.trim().is_empty())
    }

    /// The JSON the outbound webhook sends (and a dead letter keeps).
    pub fn to_json(&self, delivery_id: &str) -> serde_json::Value {
        let r = &self.incident;
        let d = r.report.diagnosis.as_ref();
        let rem = r.report.remediation.as_ref();
        serde_json::json!({
            "event": self.event,
            "delivery_id": delivery_id,
            "ts": self.at,
            "incident": {
                "incident_id": r.id,
                "service": r.service,
                "title": r.title,
                "severity": r.severity,
                "status": r.status,
                "team": self.team,
                "url": self.url,
            },
            "diagnosis": d.map(|d| serde_json::json!({
                "failure_class": d.failure_class,
                "summary": d.summary,
                "suspect": d.suspect_deploy.clone().or(d.suspect_change.clone()),
                "confidence": d.confidence,
                "evidence": d.evidence,
            })),
            "remediation": rem.map(|m| serde_json::json!({
                "action": m.action,
                "target": m.target,
                "approval": m.approval,
                "decided_by": m.decided_by,
            })),
            "decision": self.decision.as_ref().map(|(o, by, c)| serde_json::json!({
                "outcome": o, "by": by, "comment": c,
            })),
            "reason": self.reason,
            "status_update": self.status_update(),
        })
    }
}

/// Timeouts and retries shared by every channel.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
}

impl Policy {
    pub fn from_config(n: &NotifyConfig) -> Self {
        Self {
            timeout: Duration::from_secs(n.timeout_secs.unwrap_or(10)),
            retries: n.retries.unwrap_or(3),
            backoff: Duration::from_millis(n.backoff_ms.unwrap_or(1000)),
        }
    }

    fn delay(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        asked.unwrap_or_else(|| self.backoff.saturating_mul(1 << (attempt - 1).min(10)))
    }
}

/// One way of reaching people.
#[async_trait::async_trait]
pub trait Channel: Send + Sync {
    /// `slack`, `pagerduty`, `webhook`, `email`.
    fn name(&self) -> &'static str;
    /// Where it goes, without secrets.
    fn target(&self) -> String;
    /// Whether this channel cares about the event at all.
    fn wants(&self, event: &str) -> bool;
    /// One attempt. `store` keeps what the channel must remember per incident.
    async fn deliver(&self, n: &Notice, store: &Store) -> Result<Outcome, NotifyError>;
}

/// The configured channels.
pub fn channels(cfg: &NotifyConfig, http: reqwest::Client) -> Vec<Arc<dyn Channel>> {
    let mut v: Vec<Arc<dyn Channel>> = Vec::new();
    if let Some(s) = &cfg.slack
        && let Some(ch) = slack::SlackChannel::from_config(s, http.clone())
    {
        v.push(Arc::new(ch));
    }
    if let Some(w) = &cfg.webhook {
        v.push(Arc::new(webhook::WebhookChannel::from_config(
            w,
            http.clone(),
        )));
    }
    if let Some(p) = &cfg.pagerduty {
        v.push(Arc::new(pagerduty::PagerDutyChannel::from_config(
            p,
            http.clone(),
        )));
    }
    if let Some(e) = &cfg.email {
        match email::EmailChannel::from_config(e) {
            Ok(ch) => v.push(Arc::new(ch)),
            Err(e) => tracing::error!(error = %e, "email notifications are off"),
        }
    }
    v
}

/// The running channel readers (stop when dropped).
pub struct Notifier {
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Drop for Notifier {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// What the dispatcher reads from.
#[derive(Clone)]
pub struct Sources {
    pub store: Store,
    pub events: EventSink,
    pub catalogue: Arc<std::sync::RwLock<Arc<Catalogue>>>,
}

/// A channel's cursor in `notify_cursor`.
fn cursor_name(channel: &str) -> String {
    format!("{CURSOR_PREFIX}{channel}")
}

impl Notifier {
    /// Starts one reader per configured channel (None when there is none). `base_url` is the
    /// dashboard's address for links (`[notify] base_url` wins). The cursors of channels no
    /// longer configured are dropped, so turning one back on later starts at the log's end
    /// instead of announcing everything that happened while it was off.
    pub async fn start(config: &Config, sources: Sources, base_url: &str) -> Option<Self> {
        let cfg = &config.file.notify;
        let policy = Policy::from_config(cfg);
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sentinel/", env!("CARGO_PKG_VERSION")))
            .build()
            .ok()?;
        let chans = channels(cfg, http);
        let keep: Vec<String> = chans.iter().map(|c| cursor_name(c.name())).collect();
        if let Err(e) = sources
            .store
            .drop_notify_cursors_except(CURSOR_PREFIX, &keep)
            .await
        {
            tracing::warn!(error = %e, "could not drop the cursors of unconfigured channels");
        }
        if chans.is_empty() {
            return None;
        }
        let base = cfg
            .base_url
            .clone()
            .unwrap_or_else(|| base_url.to_string())
            .trim_end_matches('/')
            .to_string();
        tracing::info!(
            channels = %chans.iter().map(|c| c.name()).collect::<Vec<_>>().join(", "),
            "notifications on"
        );
        let tasks = chans
            .into_iter()
            .map(|ch| {
                tokio::spawn(read_channel(ch, sources.clone(), policy, base.clone())).abort_handle()
            })
            .collect();
        Some(Self { tasks })
    }
}

/// One channel's reader: the log from the channel's own cursor, each notice delivered (with
/// its retries) before the cursor moves past its event. A restart resumes at the first event
/// not yet finished, so a notice is delivered at least once (receivers deduplicate on the
/// delivery id); a slow or dead receiver holds back only its own channel.
async fn read_channel(ch: Arc<dyn Channel>, src: Sources, policy: Policy, base: String) {
    let name = cursor_name(ch.name());
    let mut live = src.events.subscribe();
    let mut cursor = loop {
        match src.store.notify_cursor(&name).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(error = %e, channel = ch.name(), "notification cursor unavailable; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    loop {
        let batch = match src.store.events_after(None, cursor, 200).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "notifications cannot read the event log");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if batch.is_empty() {
            // Woken by the next committed event (or a periodic look, should the broadcast
            // have lagged).
            let _ = tokio::time::timeout(Duration::from_secs(1), live.recv()).await;
            continue;
        }
        let last = batch.last().map(|e| e.seq).unwrap_or(cursor);
        for ev in &batch {
            let Some((event, decision, reason)) = classify(&ev.kind, ev.agent) else {
                continue;
            };
            if !ch.wants(event) {
                continue;
            }
            if let Some(n) = notice(&src, ev, event, decision, reason, &base).await {
                deliver(ch.as_ref(), &n, &src, policy).await;
            }
            // Past this event for good (a crash before here delivers it again).
            cursor = ev.seq;
            if let Err(e) = src.store.set_notify_cursor(&name, cursor).await {
                tracing::warn!(error = %e, "notification cursor not saved");
            }
        }
        cursor = last;
        if let Err(e) = src.store.set_notify_cursor(&name, cursor).await {
            tracing::warn!(error = %e, "notification cursor not saved");
        }
    }
}

/// The notice for an event, with the incident as the event left it.
async fn notice(
    src: &Sources,
    ev: &sentinel_model::RunEvent,
    event: &'static str,
    decision: Option<(ApprovalOutcome, String, String)>,
    reason: Option<String>,
    base: &str,
) -> Option<Notice> {
    // The opening follows the row's insert; a resolve at the source never touches the row.
    let complete = matches!(
        ev.kind,
        RunEventKind::IncidentOpened { .. } | RunEventKind::AlertResolved { .. }
    );
    let incident = match settled(&src.store, &ev.incident_id, ev.ts, complete).await {
        Ok(Some(r)) => r,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, incident = %ev.incident_id, "notification skipped: incident unreadable");
            return None;
        }
    };
    let team = src
        .catalogue
        .read()
        .map(|c| c.service(&incident.service).map(|s| s.team.clone()))
        .ok()
        .flatten()
        .unwrap_or_default();
    Some(Notice {
        event,
        seq: ev.seq,
        at: ev.ts,
        url: format!("{base}/incidents/{}", incident.id),
        incident,
        decision,
        reason,
        team,
    })
}

/// The incident as the event left it. The runner logs an event first and saves the incident
/// row (its report) just after, so a notice taken at once would describe the step before:
/// wait (briefly, [`SETTLE`]) for a save at or after the event. The opening event follows the
/// row's insert, so that row is already complete.
async fn settled(
    store: &Store,
    id: &str,
    at: DateTime<Utc>,
    opened: bool,
) -> Result<Option<IncidentRecord>, crate::store::StoreError> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let r = store.get_incident(id).await?;
        match &r {
            Some(rec)
                if !opened && rec.updated_at < at && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            _ => return Ok(r),
        }
    }
}

/// How long a notice waits for the incident row to catch up with its event.
const SETTLE: Duration = Duration::from_secs(2);

type Classified = (
    &'static str,
    Option<(ApprovalOutcome, String, String)>,
    Option<String>,
);

/// Which events people hear about.
fn classify(kind: &RunEventKind, agent: AgentRole) -> Option<Classified> {
    Some(match kind {
        RunEventKind::IncidentOpened { .. } => ("incident.opened", None, None),
        RunEventKind::AgentCompleted { .. } if agent == AgentRole::Comms => {
            ("incident.updated", None, None)
        }
        RunEventKind::ApprovalRequested { .. } => ("incident.awaiting_approval", None, None),
        RunEventKind::ApprovalDecided {
            outcome,
            by,
            comment,
        } => (
            "incident.decided",
            Some((*outcome, by.clone(), comment.clone())),
            None,
        ),
        RunEventKind::IncidentResolved { .. } => ("incident.resolved", None, None),
        // The alert's source says it is over (an escalated incident's page can be resolved).
        RunEventKind::AlertResolved { note } => ("incident.resolved", None, Some(note.clone())),
        RunEventKind::IncidentEscalated { reason } => {
            ("incident.escalated", None, Some(reason.clone()))
        }
        _ => return None,
    })
}

/// One notice through one channel: up to `1 + retries` attempts.
pub async fn deliver(ch: &dyn Channel, n: &Notice, src: &Sources, policy: Policy) {
    let attempts = policy.retries + 1;
    for attempt in 1..=attempts {
        // A delivery may take a few calls (Slack's update and thread reply), each bounded by
        // the client's own timeout; this bounds the whole.
        let whole = policy.timeout.saturating_mul(3);
        let result = match tokio::time::timeout(whole, ch.deliver(n, &src.store)).await {
            Ok(r) => r,
            Err(_) => Err(NotifyError::transient(format!(
                "no answer within {} s",
                whole.as_secs()
            ))),
        };
        let (outcome, detail, done) = match result {
            Ok(Outcome::Skipped) => return,
            Ok(Outcome::Sent(detail)) => ("sent", detail, true),
            Err(e) if e.permanent || attempt == attempts => {
                tracing::warn!(channel = ch.name(), event = n.event, incident = %n.incident.id, attempt, error = %e, "notification failed");
                let payload = n.to_json(&n.delivery_id(ch.name())).to_string();
                if let Err(de) = src
                    .store
                    .insert_dead_letter(
                        ch.name(),
                        &n.incident.id,
                        n.event,
                        &payload,
                        &e.message,
                        attempt,
                    )
                    .await
                {
                    tracing::error!(error = %de, "dead letter not kept");
                }
                ("failed", e.message.clone(), true)
            }
            Err(e) => {
                tracing::info!(channel = ch.name(), event = n.event, attempt, error = %e, "notification will be retried");
                record(src, ch, n, "retrying", attempt, &e.message).await;
                tokio::time::sleep(policy.delay(attempt, e.retry_after)).await;
                continue;
            }
        };
        record(src, ch, n, outcome, attempt, &detail).await;
        if done {
            return;
        }
    }
}

async fn record(
    src: &Sources,
    ch: &dyn Channel,
    n: &Notice,
    outcome: &str,
    attempt: u32,
    detail: &str,
) {
    let kind = RunEventKind::Notified {
        channel: ch.name().to_string(),
        event: n.event.to_string(),
        target: ch.target(),
        outcome: outcome.to_string(),
        attempt,
        detail: crate::redact::urls_in(detail),
    };
    if let Err(e) = src
        .events
        .emit(&n.incident.id, AgentRole::Comms, kind)
        .await
    {
        tracing::warn!(error = %e, "notification not recorded on the timeline");
    }
}

/// The host of a URL (what the timeline shows of a webhook URL, whose path may be a secret).
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| "(invalid url)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_failures_are_classified() {
        let h = reqwest::header::HeaderMap::new();
        assert!(NotifyError::from_status(reqwest::StatusCode::BAD_REQUEST, &h, "bad").permanent);
        assert!(
            !NotifyError::from_status(reqwest::StatusCode::TOO_MANY_REQUESTS, &h, "").permanent
        );
        assert!(!NotifyError::from_status(reqwest::StatusCode::BAD_GATEWAY, &h, "").permanent);
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        let e = NotifyError::from_status(reqwest::StatusCode::TOO_MANY_REQUESTS, &h, "");
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn backoff_doubles_unless_the_receiver_asks() {
        let p = Policy {
            timeout: Duration::from_secs(1),
            retries: 3,
            backoff: Duration::from_millis(100),
        };
        assert_eq!(p.delay(1, None), Duration::from_millis(100));
        assert_eq!(p.delay(3, None), Duration::from_millis(400));
        assert_eq!(
            p.delay(2, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn urls_show_only_their_host() {
        assert_eq!(
            host_of("https://hooks.slack.com/services/T0/B0/secret"),
            "hooks.slack.com"
        );
        assert_eq!(host_of("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }
}
