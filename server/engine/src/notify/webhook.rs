//! Outbound webhooks: each notice as JSON ([`Notice::to_json`]) POSTed to the configured URL,
//! signed `X-Sentinel-Signature: sha256=<hex HMAC-SHA256 of the body>` when a secret is set,
//! with `X-Sentinel-Event` and `X-Sentinel-Delivery` (stable across retries, for the
//! receiver's deduplication).

use super::{Channel, Notice, NotifyError, Outcome};
use crate::config::WebhookNotifyConfig;
use crate::store::Store;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub struct WebhookChannel {
    url: String,
    secret: Option<String>,
    events: Option<Vec<String>>,
    http: reqwest::Client,
}

impl WebhookChannel {
    pub fn from_config(c: &WebhookNotifyConfig, http: reqwest::Client) -> Self {
        Self {
            url: c.url.expose().to_string(),
            secret: c.secret.as_ref().map(|s| s.expose().to_string()),
            events: c.events.clone(),
            http,
        }
    }
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait::async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn target(&self) -> String {
        super::host_of(&self.url)
    }

    fn wants(&self, event: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|e| e.iter().any(|x| x == event))
    }

    async fn deliver(&self, n: &Notice, _store: &Store) -> Result<Outcome, NotifyError> {
        let id = n.delivery_id("webhook");
        let body = n.to_json(&id).to_string();
        let mut req = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Sentinel-Event", n.event)
            .header("X-Sentinel-Delivery", &id);
        if let Some(s) = &self.secret {
            req = req.header("X-Sentinel-Signature", signature(s, body.as_bytes()));
        }
        let (status, _) = super::send(req.body(body)).await?;
        Ok(Outcome::Sent(format!(
            "HTTP {}, delivery {id}",
            status.as_u16()
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_the_hex_hmac_of_the_body() {
        // printf '{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            super::signature("secret", br#"{"a":1}"#),
            "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494"
        );
    }
}
