//! The lab's HTTP side: one `/metrics` listener per service (what Prometheus scrapes), and
//! the control API on its own port:
//!
//! - `GET /faults` — the fault kinds and the services each can hit;
//! - `POST /inject` `{"fault", "service"?, "seed"?, "delay_secs"?}` — plan and start one;
//! - `GET /state` — the fault acting now (with its ground truth), earlier ones, what the
//!   executor did: for `sentinel lab eval`, never for Sentinel's agents;
//! - `POST /reset` — end the current fault;
//! - `POST /executor` — Sentinel's outbound webhook (`[notify.webhook]`): a signed
//!   `incident.decided` notice of an **approved** action is carried out on the fleet.

use crate::catalog::Catalog;
use crate::changes::Announcer;
use crate::faults::{self, Change, Kind};
use crate::fleet::Fleet;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the fleet runs.
#[derive(Debug, Clone)]
pub struct LabConfig {
    pub services_dir: PathBuf,
    /// Logs go to `<dir>/logs`, repositories to `<dir>/git`.
    pub dir: PathBuf,
    pub control: SocketAddr,
    /// Service `i` of the catalogue serves `/metrics` on `metrics_base_port + i` (loopback).
    pub metrics_base_port: u16,
    pub sentinel: Option<String>,
    pub webhook_token: Option<String>,
    /// The secret Sentinel signs its notices with (`[notify.webhook] secret`).
    pub executor_secret: Option<String>,
    pub seed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error("cannot prepare {0}: {1}")]
    Io(String, std::io::Error),
    #[error(transparent)]
    Announce(#[from] crate::changes::AnnounceError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

#[derive(Clone)]
pub struct Lab {
    fleet: Arc<Mutex<Fleet>>,
    announcer: Arc<Announcer>,
    secret: Option<String>,
    deliveries: Arc<Mutex<BTreeSet<String>>>,
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

impl Lab {
    /// Builds the fleet and its repositories; nothing listens yet.
    pub fn new(cfg: &LabConfig) -> Result<Self, LabError> {
        let catalog = Catalog::load(&cfg.services_dir)?;
        let logs = cfg.dir.join("logs");
        let fleet = Fleet::new(catalog, &logs, cfg.seed, chrono::Utc::now())
            .map_err(|e| LabError::Io(logs.display().to_string(), e))?;
        let announcer = Announcer::new(
            cfg.sentinel.clone(),
            cfg.webhook_token.clone(),
            &cfg.dir.join("git"),
        );
        let names: Vec<String> = fleet.services.keys().cloned().collect();
        announcer.init(&names)?;
        Ok(Self {
            fleet: Arc::new(Mutex::new(fleet)),
            announcer: Arc::new(announcer),
            secret: cfg.executor_secret.clone(),
            deliveries: Arc::new(Mutex::new(BTreeSet::new())),
        })
    }

    pub fn services(&self) -> Vec<String> {
        self.fleet
            .lock()
            .expect("fleet lock")
            .services
            .keys()
            .cloned()
            .collect()
    }

    /// Announces changes in order: commit, then post.
    async fn announce(&self, changes: Vec<Change>) {
        for c in changes {
            let a = self.announcer.clone();
            let c2 = c.clone();
            let sha = tokio::task::spawn_blocking(move || a.commit(&c2))
                .await
                .ok()
                .and_then(|r| {
                    r.map_err(|e| tracing::warn!(change = %c.id, error = %e, "commit failed"))
                        .ok()
                        .flatten()
                });
            if let Err(e) = self.announcer.post(&c, sha.as_deref()).await {
                tracing::warn!(change = %c.id, error = %e, "could not announce the change");
            }
        }
    }

    /// Ticks the fleet once a second forever.
    pub async fn tick_forever(self) {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = chrono::Utc::now();
        loop {
            every.tick().await;
            let now = chrono::Utc::now();
            let dt = ((now - last).num_milliseconds() as f64 / 1000.0).clamp(0.1, 5.0);
            last = now;
            let landed = self.fleet.lock().expect("fleet lock").tick(now, dt);
            if !landed.is_empty() {
                let me = self.clone();
                tokio::spawn(async move { me.announce(landed).await });
            }
        }
    }

    pub fn control_router(&self) -> Router {
        Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/faults", get(list_faults))
            .route("/inject", post(inject))
            .route("/state", get(state))
            .route("/reset", post(reset))
            .route("/executor", post(executor))
            .with_state(self.clone())
    }

    pub fn metrics_router(&self, service: String) -> Router {
        let fleet = self.fleet.clone();
        Router::new().route(
            "/metrics",
            get(move || {
                let fleet = fleet.clone();
                let service = service.clone();
                async move {
                    let text = {
                        let f = fleet.lock().expect("fleet lock");
                        f.services
                            .get(&service)
                            .map(crate::exposition::render)
                            .unwrap_or_default()
                    };
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        text,
                    )
                }
            }),
        )
    }
}

/// Runs the fleet: the metrics listeners, the control API and the tick loop, until the process
/// is stopped.
pub async fn serve(cfg: LabConfig) -> Result<(), LabError> {
    let lab = Lab::new(&cfg)?;
    for (i, s) in lab.services().into_iter().enumerate() {
        let addr = SocketAddr::from(([127, 0, 0, 1], cfg.metrics_base_port + i as u16));
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| LabError::Bind(addr, e))?;
        let router = lab.metrics_router(s);
        tokio::spawn(async move { axum::serve(l, router).await });
    }
    let l = tokio::net::TcpListener::bind(cfg.control)
        .await
        .map_err(|e| LabError::Bind(cfg.control, e))?;
    tokio::spawn(lab.clone().tick_forever());
    axum::serve(l, lab.control_router())
        .await
        .map_err(|e| LabError::Io("the control API".into(), e))
}

async fn list_faults() -> Json<serde_json::Value> {
    Json(serde_json::json!(Kind::ALL.map(|k| serde_json::json!({
        "fault": k.as_str(),
        "describe": k.describe(),
        "services": k.candidates(),
    }))))
}

#[derive(Deserialize)]
struct InjectBody {
    fault: String,
    service: Option<String>,
    seed: Option<u64>,
    /// Seconds from now to the onset of the symptoms (its changes land before it).
    delay_secs: Option<i64>,
}

async fn inject(State(lab): State<Lab>, body: Option<Json<InjectBody>>) -> Response {
    let Some(Json(b)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected a JSON body {\"fault\": …}",
        );
    };
    let kind = match Kind::parse(&b.fault) {
        Ok(k) => k,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("fault: {e}")),
    };
    let delay = b.delay_secs.unwrap_or(60).clamp(0, 3600);
    let seed = b.seed.unwrap_or_else(rand::random);
    let onset = chrono::Utc::now() + chrono::Duration::seconds(delay);
    match faults::plan(kind, b.service.as_deref(), seed, onset) {
        Ok(p) => {
            let out = serde_json::json!({ "fault": kind.as_str(), "service": p.service, "seed": seed, "onset": p.onset });
            lab.fleet.lock().expect("fleet lock").inject(p);
            (StatusCode::CREATED, Json(out)).into_response()
        }
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, format!("service: {e}")),
    }
}

async fn state(State(lab): State<Lab>) -> Json<serde_json::Value> {
    let f = lab.fleet.lock().expect("fleet lock");
    Json(serde_json::json!({
        "now": f.now,
        "active": f.active,
        "history": f.history,
        "executed": f.executed,
        "services": f.services.values().map(|s| serde_json::json!({
            "service": s.name, "version": s.version, "failing": s.failing, "latency": s.latency, "rps": s.rps,
        })).collect::<Vec<_>>(),
    }))
}

async fn reset(State(lab): State<Lab>) -> StatusCode {
    lab.fleet.lock().expect("fleet lock").reset();
    StatusCode::NO_CONTENT
}

/// Whether `sig` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`.
pub fn signed(secret: &str, body: &[u8], sig: &str) -> bool {
    let Some(hex_sig) = sig.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(want) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.verify_slice(&want).is_ok()
}

async fn executor(State(lab): State<Lab>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Some(secret) = &lab.secret {
        let sig = headers
            .get("x-sentinel-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !signed(secret, &body, sig) {
            return error(
                StatusCode::UNAUTHORIZED,
                "missing or wrong X-Sentinel-Signature",
            );
        }
    }
    let v: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not JSON: {e}")),
    };
    if v["event"] != "incident.decided" {
        return (
            StatusCode::OK,
            Json(serde_json::json!({ "executed": null, "why": "not a decision" })),
        )
            .into_response();
    }
    if let Some(id) = v["delivery_id"].as_str()
        && !lab
            .deliveries
            .lock()
            .expect("deliveries lock")
            .insert(id.to_string())
    {
        return (
            StatusCode::OK,
            Json(serde_json::json!({ "executed": null, "why": "already carried out" })),
        )
            .into_response();
    }
    if v["decision"]["outcome"] != "approved" {
        return (
            StatusCode::OK,
            Json(serde_json::json!({ "executed": null, "why": "not approved" })),
        )
            .into_response();
    }
    let Some(action) = v["remediation"]["action"].as_str() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "remediation.action: missing",
        );
    };
    let incident = v["incident"]["incident_id"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    let service = v["incident"]["service"].as_str().map(String::from);
    let target = v["remediation"]["target"]
        .as_str()
        .map(String::from)
        .or(service);
    let (fixed, announce) = {
        let mut f = lab.fleet.lock().expect("fleet lock");
        let r = f.execute(&incident, action, target.as_deref());
        if let Some(s) = target.as_deref().filter(|s| f.services.contains_key(*s)) {
            f.note(s, &format!("executor: {action} approved in {incident}"));
        }
        r
    };
    tracing::info!(%incident, action, target = ?target, fixed, "carried out an approved action");
    if let Some(c) = announce {
        let me = lab.clone();
        tokio::spawn(async move { me.announce(vec![c]).await });
    }
    (
        StatusCode::OK,
        Json(serde_json::json!({ "executed": action, "target": target, "fixed": fixed })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_are_checked_against_the_body() {
        // printf '{"a":1}' | openssl dgst -sha256 -hmac secret
        let sig = "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494";
        assert!(super::signed("secret", br#"{"a":1}"#, sig));
        assert!(!super::signed("secret", br#"{"a":2}"#, sig));
        assert!(!super::signed("other", br#"{"a":1}"#, sig));
        assert!(!super::signed("secret", br#"{"a":1}"#, "aa9e"));
    }
}
