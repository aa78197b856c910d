//! The HTTP application: the Leptos dashboard (SSR + server functions), the REST API, the SSE
//! event streams and the alert webhooks. [`Application::build`] binds a port and returns the
//! ready app, so tests start a real server on a random port with a fresh database.

mod api;
mod auth;
mod backend;
mod error;
pub mod guard;
mod mcp;
mod serve;
mod slack;
mod sse;
pub mod webhooks;

pub use auth::OperatorAuth;
pub use error::{ApiError, parse_json as error_parse};

use crate::config::Config;
use crate::service::Sentinel;
use axum::Router;
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;

/// Shared state of every handler: one pointer, because axum clones the state for every
/// request (cloning the fields themselves cost ~3% of the webhook path).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub sentinel: Sentinel,
    pub auth: Arc<OperatorAuth>,
    pub leptos_options: LeptosOptions,
    /// The alert webhooks' pipeline (writer, investigation queue, webhook secrets).
    pub ingest: Arc<crate::ingest::Ingest>,
    /// Bounds of the event streams.
    pub sse: sse::SseLimits,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    pub addr: SocketAddr,
    pub state: AppState,
}

impl Application {
    pub async fn build(config: Config, addr: SocketAddr) -> Result<Self, String> {
        let ingest = config.ingest.clone();
        Self::build_with(config, addr, ingest).await
    }

    /// As [`Application::build`], with explicit webhook settings (tests, benchmarks).
    pub async fn build_with(
        mut config: Config,
        addr: SocketAddr,
        ingest: crate::ingest::IngestConfig,
    ) -> Result<Self, String> {
        config.ingest = ingest.clone();
        let site_root = config.site_root.display().to_string();
        let sentinel = crate::bootstrap::sentinel(config)
            .await
            .map_err(|e| e.to_string())?;
        let auth = Arc::new(OperatorAuth::from_config(
            &sentinel.config,
            sentinel.store.clone(),
        )?);
        let limits = &sentinel.config.http;
        let sse = sse::SseLimits::new(limits.max_event_streams, limits.event_replays);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let leptos_options = LeptosOptions::builder()
            .output_name("sentinel")
            .site_root(site_root)
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let ingest = crate::ingest::Ingest::start(sentinel.clone(), ingest);
        let state = AppState(Arc::new(Shared {
            sentinel,
            auth,
            ingest,
            sse,
            leptos_options: leptos_options.clone(),
        }));
        let router = router(state.clone());
        Ok(Self {
            listener,
            router,
            addr,
            state,
        })
    }

    /// Serves until the process is stopped. In the background, while this replica holds the
    /// fleet's periodic-jobs role ([`crate::roles`]): notifications, approval expiry, alert
    /// retention and session pruning — once across all replicas on the database.
    pub async fn run(self) -> Result<(), String> {
        let sentinel = self.state.sentinel.clone();
        let leader =
            crate::roles::Leadership::start(sentinel.store.clone(), sentinel.claims.owner.clone())
                .await;
        // Slack, PagerDuty, webhooks, email: off the investigation's path (notify/); started
        // when this replica takes the role and stopped when it loses it.
        {
            let mut leader = leader.clone();
            let sentinel = sentinel.clone();
            let base = format!("http://{}", self.addr);
            let start = async |sentinel: &Sentinel, base: &str| {
                crate::notify::Notifier::start(
                    &sentinel.config,
                    crate::notify::Sources {
                        store: sentinel.store.clone(),
                        events: sentinel.events.clone(),
                        catalogue: sentinel.catalogue.clone(),
                    },
                    base,
                )
                .await
            };
            // Already running before the first request when this replica holds the role.
            let mut notifier = if leader.held() {
                Some(start(&sentinel, &base).await)
            } else {
                None
            };
            tokio::spawn(async move {
                loop {
                    let running = match notifier.take() {
                        Some(n) => n,
                        None => {
                            leader.until(true).await;
                            start(&sentinel, &base).await
                        }
                    };
                    leader.until(false).await;
                    drop(running);
                }
            });
        }
        let days = sentinel.config.alert_retention_days;
        if days > 0 {
            let store = sentinel.store.clone();
            leader.every(Duration::from_secs(3600), move || {
                let store = store.clone();
                async move {
                    let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
                    match store.prune_alerts(cutoff).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(pruned = n, days, "old raw alerts pruned"),
                        Err(e) => tracing::warn!(error = %e, "alert retention sweep failed"),
                    }
                }
            });
        }
        {
            // Each approval also has its own timer, set when the gate opens; this sweep
            // catches those whose timer died with an earlier process (or another replica).
            let sentinel = sentinel.clone();
            leader.every(Duration::from_secs(1), move || {
                let sentinel = sentinel.clone();
                async move {
                    if let Err(e) = sentinel.expire_approvals().await {
                        tracing::warn!(error = %e, "approval expiry sweep failed");
                    }
                }
            });
        }
        let limits = sentinel.config.http.clone();
        let store = sentinel.store.clone();
        let max_age = limits.signed_webhook_max_age;
        leader.every(Duration::from_secs(600), move || {
            let store = store.clone();
            async move {
                let before = chrono::Utc::now()
                    // At least 10 minutes: Slack's replay guard needs its 5-minute window.
                    - chrono::Duration::from_std((max_age * 2).max(Duration::from_secs(600)))
                        .unwrap_or(chrono::Duration::hours(2));
                if let Err(e) = store.prune_security_state(before).await {
                    tracing::warn!(error = %e, "session/delivery pruning failed");
                }
            }
        });
        let result = serve::serve(self.listener, self.router, limits, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        // Hand the role over at once instead of making the others wait out its lease.
        let _ = sentinel
            .store
            .release_role(crate::roles::PERIODIC, &sentinel.claims.owner)
            .await;
        result
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let backend: app::backend::SharedBackend = Arc::new(backend::HttpBackend {
        state: state.clone(),
    });
    let opts = state.leptos_options.clone();
    Router::new()
        .route("/health", get(api::health))
        .route("/login", get(auth::login))
        .route("/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route(
            "/api/sessions",
            get(auth::list_sessions).delete(auth::revoke_sessions_of),
        )
        .route(
            "/api/sessions/{id}",
            axum::routing::delete(auth::revoke_session),
        )
        .route("/api/scenarios", get(api::list_scenarios))
        .route("/api/scenarios/{id}/fire", post(api::fire_scenario))
        .route("/api/incidents", get(api::list_incidents))
        .route("/api/changes", get(api::list_changes))
        .route("/api/incidents/{id}", get(api::get_incident))
        .route("/api/incidents/{id}/approval", post(api::decide))
        .route("/api/incidents/{id}/postmortem", get(api::postmortem))
        .route("/api/incidents/{id}/events", get(sse::incident_events))
        .route("/api/events", get(sse::all_events))
        .route("/api/eval-report", get(api::eval_report))
        .route("/api/evals", post(api::start_eval))
        .route("/api/evals/current", get(api::eval_status))
        .route("/mcp", post(mcp::post).get(mcp::get))
        .route("/webhooks/alert", post(webhooks::receive::<webhooks::Generic>))
        .route(
            "/webhooks/alertmanager",
            post(webhooks::receive::<webhooks::Alertmanager>),
        )
        .route(
            "/webhooks/pagerduty",
            post(webhooks::receive::<webhooks::PagerDuty>),
        )
        .route("/webhooks/grafana", post(webhooks::receive::<webhooks::Grafana>))
        .route("/webhooks/datadog", post(webhooks::receive::<webhooks::Datadog>))
        .route("/webhooks/change", post(webhooks::receive_change))
        .route("/webhooks/slack/interactions", post(slack::interactions))
        .route("/webhooks/change/github", post(webhooks::receive_github))
        .route("/webhooks/change/argocd", post(webhooks::receive_argocd))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let backend = backend.clone();
                move || provide_context(backend.clone())
            },
            move || app::shell(opts.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::server_fn_guard,
        ))
        .layer(RequestBodyLimitLayer::new(state.sentinel.config.http.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::deadline_body,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::json_errors,
        ))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(
            // Spans name the path only: a query string can carry the login token.
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
                },
            ),
        )
        .with_state(state)
}

pub async fn serve(config: Config, addr: SocketAddr) -> Result<(), String> {
    let app = Application::build(config, addr).await?;
    let url = format!("http://{}", app.addr);
    app.state.auth.announce(&url);
    tracing::info!(%url, "sentinel serving");
    app.run().await
}
