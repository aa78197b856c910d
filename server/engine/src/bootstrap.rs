//! The composition root: the one place that turns a [`Config`] into a running [`Sentinel`]
//! (store, catalogue, memory, tools, brains, runner). Every front end calls down into it —
//! `cli` (run, serve), `http::Application`, `eval` — and nothing below it knows how it is
//! wired. New backends (telemetry connectors, notifiers) are chosen here from the config.

use crate::agents::llm_policy::ConfiguredBrains;
use crate::config::Config;
use crate::config::LogsKind;
use crate::memory::own::OwnCatalogue;
use crate::service::{Sentinel, ServiceError};
use crate::store::Store;
use crate::store::StoredChanges;
use crate::telemetry::changes::{ChangeSources, GitChanges};
use crate::telemetry::files::FileLogs;
use crate::telemetry::loki::LokiLogs;
use crate::telemetry::postgres::PostgresLogs;
use crate::telemetry::prometheus::{PrometheusMetrics, ServiceMetrics, matchers_of};
use crate::telemetry::{Connectors, LogSource, MetricSource};
use crate::tools::Registry;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("models: {0}")]
    Models(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("telemetry: {0}")]
    Telemetry(String),
    #[error("catalog: {0}")]
    Catalogue(String),
}

/// Builds the application service from the configuration.
pub async fn sentinel(config: Config) -> Result<Sentinel, BootError> {
    let registry = Arc::new(Registry::standard());
    let brains = ConfiguredBrains::from_config(&config.models, &config.providers, registry.clone())
        .map_err(BootError::Models)?
        .with_prices(config.file.prices.clone())
        .with_context_windows(config.file.context_windows.clone());
    let mut sentinel = Sentinel::build(config, Arc::new(brains), registry).await?;
    sentinel.connectors = connectors(&sentinel.config, &sentinel.store)?;
    check_backends(&sentinel.connectors);
    own_catalogue(&sentinel)?;
    Ok(sentinel)
}

/// Merges the user's catalogue files (`[catalog]`) over the demo one, and reloads them when
/// they change. A bad file stops start-up with its name and field; a bad edit later is a
/// warning and the previous catalogue stays.
fn own_catalogue(sentinel: &Sentinel) -> Result<(), BootError> {
    let c = &sentinel.config.file.catalog;
    let own = OwnCatalogue {
        backstage: c.backstage.clone(),
        runbooks: c.runbooks.clone(),
    };
    if own.is_empty() {
        return Ok(());
    }
    let base = sentinel.catalogue();
    sentinel.set_catalogue(
        own.load_over(&base)
            .map_err(|e| BootError::Catalogue(e.to_string()))?,
    );
    let every = Duration::from_secs(c.reload_secs.unwrap_or(5).max(1));
    let handle = sentinel.catalogue.clone();
    // The stamp of the files as loaded, taken now: an edit made before the task first runs
    // is still a change.
    let mut stamp = own.stamp();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            // The service is gone (an evaluation's per-scenario service, or shutdown): stop.
            if Arc::strong_count(&handle) == 1 {
                break;
            }
            let now = own.stamp();
            if now == stamp {
                continue;
            }
            stamp = now;
            match own.load_over(&base) {
                Ok(cat) => {
                    tracing::info!(
                        services = cat.services.len(),
                        runbooks = cat.runbooks.len(),
                        "service catalogue reloaded"
                    );
                    if let Ok(mut g) = handle.write() {
                        *g = Arc::new(cat);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "catalogue files changed but do not load; keeping the previous catalogue")
                }
            }
        }
    });
    Ok(())
}

/// Default seconds a telemetry backend call may take.
const BACKEND_TIMEOUT_SECS: u64 = 10;

/// The telemetry backend of each kind, from the configuration. Scenario incidents always read
/// their scenario's telemetry; these serve every other incident. Change events posted to
/// `/webhooks/change` are always a change source; `[[changes.git]]` repositories join them.
pub fn connectors(config: &Config, store: &Store) -> Result<Connectors, BootError> {
    let f = &config.file;
    let mut prometheus: Option<Arc<PrometheusMetrics>> = None;
    let metrics: Option<Arc<dyn MetricSource>> = match &f.metrics {
        Some(m) => {
            let services = f
                .services
                .iter()
                .map(|(name, s)| {
                    (
                        name.clone(),
                        ServiceMetrics {
                            matchers: s
                                .metrics_selector
                                .as_deref()
                                .map(matchers_of)
                                .unwrap_or_else(|| format!("service=\"{name}\"")),
                            queries: s.queries.clone(),
                        },
                    )
                })
                .collect();
            let ca = match &m.ca_file {
                Some(f) => crate::telemetry::read_ca_file(f).map_err(BootError::Telemetry)?,
                None => vec![],
            };
            let client = crate::telemetry::http_client(
                Duration::from_secs(m.timeout_secs.unwrap_or(BACKEND_TIMEOUT_SECS)),
                ca,
            )
            .map_err(|e| BootError::Telemetry(e.to_string()))?;
            let p = PrometheusMetrics::new(
                &m.url,
                m.bearer_token.as_ref().map(|t| t.expose().to_string()),
                client,
                services,
            )
            .map_err(|e| BootError::Telemetry(e.to_string()))?;
            let p = Arc::new(p);
            prometheus = Some(p.clone());
            Some(p)
        }
        None => None,
    };
    let logs: Option<Arc<dyn LogSource>> = match &f.logs {
        Some(l) if l.kind == LogsKind::Files => Some(Arc::new(FileLogs {
            patterns: l.paths.clone(),
            // Checked when the file was read.
            zone: l
                .timezone
                .as_deref()
                .map(crate::telemetry::files::Zone::parse)
                .transpose()
                .map_err(BootError::Telemetry)?
                .unwrap_or_default(),
        })),
        Some(l) if l.kind == LogsKind::Loki => {
            let url = l
                .url
                .as_ref()
                .map(|u| u.expose().to_string())
                .unwrap_or_default();
            let selectors = f
                .services
                .iter()
                .filter_map(|(name, s)| s.log_selector.clone().map(|sel| (name.clone(), sel)))
                .collect();
            Some(Arc::new(
                LokiLogs::new(
                    &url,
                    l.bearer_token.as_ref().map(|t| t.expose().to_string()),
                    crate::telemetry::http_client(
                        Duration::from_secs(l.timeout_secs.unwrap_or(BACKEND_TIMEOUT_SECS)),
                        match &l.ca_file {
                            Some(f) => {
                                crate::telemetry::read_ca_file(f).map_err(BootError::Telemetry)?
                            }
                            None => vec![],
                        },
                    )
                    .map_err(|e| BootError::Telemetry(e.to_string()))?,
                    selectors,
                )
                .map_err(|e| BootError::Telemetry(e.to_string()))?,
            ))
        }
        Some(l) if l.kind == LogsKind::Postgres => {
            let url = l
                .url
                .as_ref()
                .map(|u| u.expose().to_string())
                .unwrap_or_default();
            Some(Arc::new(
                PostgresLogs::new(
                    &url,
                    l.table.as_deref().unwrap_or_default(),
                    Duration::from_secs(l.timeout_secs.unwrap_or(BACKEND_TIMEOUT_SECS)),
                )
                .map_err(|e| BootError::Telemetry(e.to_string()))?,
            ))
        }
        _ => None,
    };
    let git = f
        .changes
        .git
        .iter()
        .map(|g| {
            Arc::new(GitChanges::new(
                &g.service,
                &g.repo,
                &config.data_dir,
                Duration::from_secs(g.timeout_secs.unwrap_or(BACKEND_TIMEOUT_SECS)),
            ))
        })
        .collect();
    Ok(Connectors {
        logs,
        changes: Some(Arc::new(ChangeSources {
            events: Arc::new(StoredChanges {
                store: store.clone(),
            }),
            git,
            versions: prometheus,
        })),
        metrics,
    })
}

/// A backend that is down is a warning at start, never a failure (investigations then say
/// it was unavailable).
fn check_backends(c: &Connectors) {
    if let Some(m) = c.metrics.clone() {
        tokio::spawn(async move {
            if let Err(e) = m.ping().await {
                tracing::warn!(error = %e, "the metrics backend does not answer; investigations will report metrics as unavailable");
            }
        });
    }
}
