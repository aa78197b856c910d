//! Email through SMTP (lettre): a plain-text message per notice to the configured recipients,
//! by default for approvals awaited, escalations and resolutions. STARTTLS is required unless
//! `tls = "tls"` (TLS from the first byte) or `tls = "none"` (a relay on loopback).

use super::{Channel, Notice, NotifyError, Outcome};
use crate::config::{EmailConfig, SmtpTls};
use crate::store::Store;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// The events mailed when `events` is not set.
pub const DEFAULT_EVENTS: &[&str] = &[
    "incident.awaiting_approval",
    "incident.escalated",
    "incident.resolved",
];

pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    events: Vec<String>,
    target: String,
}

impl EmailChannel {
    pub fn from_config(c: &EmailConfig) -> Result<Self, String> {
        let port = c.smtp_port.unwrap_or(match c.tls {
            SmtpTls::Tls => 465,
            SmtpTls::Starttls => 587,
            SmtpTls::None => 25,
        });
        let builder = match c.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.smtp_host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.smtp_host)
                .map_err(|e| format!("notify.email.smtp_host: {e}"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.smtp_host)
                .map_err(|e| format!("notify.email.smtp_host: {e}"))?,
        };
        let mut builder = builder
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(10)));
        if let (Some(u), Some(p)) = (&c.username, &c.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.expose().to_string()));
        }
        let parse = |key: &str, s: &str| {
            s.parse::<Mailbox>()
                .map_err(|e| format!("notify.email.{key}: {e}"))
        };
        Ok(Self {
            transport: builder.build(),
            from: parse("from", &c.from)?,
            to: c
                .to
                .iter()
                .map(|t| parse("to", t))
                .collect::<Result<_, _>>()?,
            events: c
                .events
                .clone()
                .unwrap_or_else(|| DEFAULT_EVENTS.iter().map(|s| s.to_string()).collect()),
            target: format!("{}:{port}", c.smtp_host),
        })
    }
}

/// The message's subject and plain-text body.
pub fn render(n: &Notice) -> (String, String) {
    let r = &n.incident;
    let subject = format!("[Sentinel] {}", n.headline());
    let mut body = format!(
        "{}\n\nIncident: {}\nService:  {}\nStatus:   {}\nSeverity: {}\nLink:     {}\n",
        n.headline(),
        r.id,
        r.service,
        r.status.as_str(),
        r.severity
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into()),
        n.url
    );
    if let Some(d) = &r.report.diagnosis {
        body.push_str(&format!(
            "\nDiagnosis ({}, {:.0}% confident):\n  {}\n",
            d.failure_class,
            d.confidence * 100.0,
            d.summary
        ));
        if let Some(s) = d.suspect_deploy.as_ref().or(d.suspect_change.as_ref()) {
            body.push_str(&format!("  Suspect: {s}\n"));
        }
        for e in d.evidence.iter().take(5) {
            body.push_str(&format!("  - {e}\n"));
        }
    }
    if let Some(m) = &r.report.remediation {
        body.push_str(&format!(
            "\nProposed action: {} {}\n",
            m.action.as_str(),
            m.target.as_deref().unwrap_or("")
        ));
    }
    if let Some((o, by, c)) = &n.decision {
        body.push_str(&format!(
            "\nDecision: {} by {by}{}\n",
            o.as_str(),
            if c.is_empty() {
                String::new()
            } else {
                format!(" ({c})")
            }
        ));
    }
    if let Some(reason) = &n.reason {
        body.push_str(&format!("\nEscalated: {reason}\n"));
    }
    if let Some(u) = n.status_update() {
        body.push_str(&format!("\nStatus update:\n{u}\n"));
    }
    (subject, body)
}

#[async_trait::async_trait]
impl Channel for EmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }

    async fn deliver(&self, n: &Notice, _store: &Store) -> Result<Outcome, NotifyError> {
        let (subject, body) = render(n);
        let mut m = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .message_id(Some(format!("<{}@sentinel>", n.delivery_id("email"))));
        for t in &self.to {
            m = m.to(t.clone());
        }
        // Quoted-printable: ASCII stays readable, anything else (an em dash in a status
        // update) survives any relay.
        let part = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::QuotedPrintable)
            .body(body);
        let m = m
            .singlepart(part)
            .map_err(|e| NotifyError::permanent(format!("message: {e}")))?;
        match self.transport.send(m).await {
            Ok(resp) => Ok(Outcome::Sent(format!(
                "accepted for {} recipient(s): {}",
                self.to.len(),
                resp.code()
            ))),
            // A 5xx answer from the server is permanent; connection trouble and 4xx are not.
            Err(e) if e.is_permanent() => Err(NotifyError::permanent(e.to_string())),
            Err(e) => Err(NotifyError::transient(e.to_string())),
        }
    }
}
