//! The server's implementation of the app's [`Backend`] port, used by server functions.

use super::{AppState, error::ApiError};
use crate::llm::spec::Provider;
use crate::service::ServiceError;
use crate::store::IncidentFilter;
use app::api::eval::EvalHistory;
use app::api::incidents::{IncidentView, LiveSnapshot};
use app::api::session::Credentials;
use app::backend::{Backend, BackendError};
use app::model::*;
use axum::http::{HeaderMap, HeaderValue, header};

pub struct HttpBackend {
    pub state: AppState,
}

fn internal(e: impl std::fmt::Display) -> BackendError {
    tracing::error!(error = %e, "backend error");
    BackendError::Internal
}

fn from_service(e: ServiceError) -> BackendError {
    match e {
        ServiceError::NotFound(m) => BackendError::NotFound(m),
        ServiceError::Conflict(m) => BackendError::Conflict(m),
        ServiceError::Unavailable(m) => BackendError::Unavailable(m),
        ServiceError::Invalid(f) => BackendError::Invalid(f.to_string()),
        other => internal(other),
    }
}

impl HttpBackend {
    /// Who is acting, for a server function that changes something: a responder or admin
    /// (`act` names the act in a viewer's reason); `anonymous` is the answer without one.
    async fn acting(
        &self,
        creds: &Credentials,
        act: &str,
        anonymous: &str,
    ) -> Result<String, BackendError> {
        self.state
            .auth
            .operator(&headers(creds), act)
            .await
            .map_err(|e| match e {
                ApiError::Forbidden(m) => BackendError::Unauthorized(m),
                _ => BackendError::Unauthorized(anonymous.into()),
            })
    }
}

fn headers(c: &Credentials) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |k: header::HeaderName, v: &Option<String>| {
        if let Some(v) = v.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            h.insert(k, v);
        }
    };
    put(header::AUTHORIZATION, &c.authorization);
    put(header::COOKIE, &c.cookie);
    put(header::ORIGIN, &c.origin);
    put(header::HOST, &c.host);
    h
}

impl HttpBackend {
    async fn view(&self, id: &str) -> Result<Option<IncidentView>, BackendError> {
        let s = &self.state.sentinel;
        let Some(detail) = s.incident_detail(id).await.map_err(from_service)? else {
            return Ok(None);
        };
        let events = s
            .store
            .events_after(Some(id), 0, 100_000)
            .await
            .map_err(internal)?;
        Ok(Some(IncidentView { detail, events }))
    }
}

#[async_trait::async_trait]
impl Backend for HttpBackend {
    async fn list_scenarios(&self) -> Result<Vec<ScenarioSummary>, BackendError> {
        Ok(self
            .state
            .sentinel
            .scenarios()
            .map_err(internal)?
            .iter()
            .map(|s| s.summary())
            .collect())
    }

    async fn fire_scenario(
        &self,
        scenario_id: &str,
        creds: Credentials,
    ) -> Result<String, BackendError> {
        let who = self
            .acting(
                &creds,
                "firing a scenario",
                "log in as an operator to fire scenarios",
            )
            .await?;
        self.state
            .sentinel
            .fire_scenario(scenario_id, &who)
            .await
            .map_err(from_service)
    }

    async fn live_snapshot(&self, pin: Option<String>) -> Result<LiveSnapshot, BackendError> {
        let store = &self.state.sentinel.store;
        let last_seq = store.max_event_seq().await.map_err(internal)?;
        let id = match pin {
            Some(p) => Some(p),
            None => {
                let pending = store
                    .list_incidents(&IncidentFilter {
                        status: Some(IncidentStatus::AwaitingApproval),
                        service: None,
                        limit: Some(1),
                    })
                    .await
                    .map_err(internal)?;
                match pending.into_iter().next() {
                    Some(p) => Some(p.id),
                    None => store
                        .list_incidents(&IncidentFilter {
                            limit: Some(1),
                            ..Default::default()
                        })
                        .await
                        .map_err(internal)?
                        .into_iter()
                        .next()
                        .map(|r| r.id),
                }
            }
        };
        let Some(id) = id else {
            return Ok(LiveSnapshot {
                incident: None,
                events: vec![],
                last_seq,
            });
        };
        match self.view(&id).await? {
            Some(v) => Ok(LiveSnapshot {
                last_seq: v.events.last().map(|e| e.seq).unwrap_or(0).max(last_seq),
                incident: Some(v.detail),
                events: v.events,
            }),
            None => Err(BackendError::NotFound(format!("incident {id}"))),
        }
    }

    async fn incident_view(&self, id: &str) -> Result<IncidentView, BackendError> {
        self.view(id)
            .await?
            .ok_or_else(|| BackendError::NotFound(format!("incident {id}")))
    }

    async fn list_incidents(
        &self,
        status: Option<String>,
        service: Option<String>,
    ) -> Result<Vec<IncidentSummary>, BackendError> {
        let status = status
            .map(|s| IncidentStatus::parse(&s))
            .transpose()
            .map_err(|e| BackendError::Invalid(e.to_string()))?;
        let rows = self
            .state
            .sentinel
            .store
            .list_incidents(&IncidentFilter {
                status,
                service,
                limit: Some(500),
            })
            .await
            .map_err(internal)?;
        Ok(rows.iter().map(|r| r.summary()).collect())
    }

    async fn decide(
        &self,
        incident_id: &str,
        decision: &str,
        comment: &str,
        creds: Credentials,
    ) -> Result<IncidentStatus, BackendError> {
        let who = self
            .acting(
                &creds,
                "deciding an approval",
                "log in as an operator to approve or reject",
            )
            .await?;
        let d = ApprovalDecision::parse(decision, comment, &who)
            .map_err(|e| BackendError::Invalid(e.to_string()))?;
        self.state
            .sentinel
            .decide(incident_id, d)
            .await
            .map_err(from_service)?;
        let rec = self
            .state
            .sentinel
            .store
            .get_incident(incident_id)
            .await
            .map_err(internal)?;
        Ok(rec.map(|r| r.status).unwrap_or(IncidentStatus::Failed))
    }

    async fn is_operator(&self, creds: Credentials) -> bool {
        self.state
            .auth
            .operator(&headers(&creds), "deciding")
            .await
            .is_ok()
    }

    async fn settings(&self) -> Result<SettingsView, BackendError> {
        let s = &self.state.sentinel;
        let m = &s.config.models;
        // Every role's model as it will run (its own, else triage's or the analysis model).
        let mut roles: Vec<RoleModel> = app::model::AgentRole::PIPELINE
            .iter()
            .map(|role| {
                let env_var = match role {
                    app::model::AgentRole::Triage => "SENTINEL_TRIAGE_MODEL".to_string(),
                    r => crate::config::ROLE_MODEL_KEYS
                        .iter()
                        .find(|(k, _, _)| k == r)
                        .map(|(_, var, _)| format!("{var} (else SENTINEL_ANALYSIS_MODEL)"))
                        .unwrap_or_default(),
                };
                RoleModel {
                    role: role.as_str().replace('_', " "),
                    model: m.for_role(*role).to_string(),
                    env_var,
                }
            })
            .collect();
        roles.push(RoleModel {
            role: "judge".into(),
            model: m.judge.to_string(),
            env_var: "SENTINEL_JUDGE_MODEL".into(),
        });
        let settings = &s.config.providers;
        let providers = Provider::ALL
            .iter()
            .map(|p| ProviderStatus {
                provider: p.as_str().into(),
                key_env: p.key_env().unwrap_or_default().into(),
                key_present: settings.key(*p).is_some(),
                // Credentials in a base URL (`user:pass@`, `?api-key=`) are never shown.
                base_url: settings.base_url(*p).map(|u| crate::redact::url(&u)),
            })
            .collect();
        Ok(SettingsView {
            roles,
            providers,
            tool_call_cap: s.config.tool_call_cap,
            approval_timeout_secs: s.config.approval_timeout.as_secs(),
            embedder: s
                .memory
                .as_ref()
                .map(|m| m.embedder_name().to_string())
                .unwrap_or_else(|| "disabled".into()),
            config_file: s.config.file_path.as_ref().map(|p| p.display().to_string()),
            config_keys: s.config.file.summary(),
        })
    }

    async fn eval_history(&self) -> Result<EvalHistory, BackendError> {
        Ok(EvalHistory {
            runs: self
                .state
                .sentinel
                .store
                .eval_runs(30)
                .await
                .map_err(internal)?,
        })
    }
    async fn eval_status(&self) -> Result<EvalStatus, BackendError> {
        let s = &self.state.sentinel;
        Ok(s.evals.status(&s.config))
    }

    async fn start_eval(
        &self,
        suites: Vec<String>,
        creds: Credentials,
    ) -> Result<EvalProgress, BackendError> {
        let who = self
            .acting(
                &creds,
                "starting an evaluation",
                "log in as an operator to start an evaluation",
            )
            .await?;
        self.state
            .sentinel
            .start_eval(suites, &who)
            .map_err(from_service)
    }

    async fn list_changes(
        &self,
        service: Option<String>,
        hours: f64,
    ) -> Result<Vec<ChangeRow>, BackendError> {
        if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 90.0) {
            return Err(BackendError::Invalid(
                "hours: must be a number of hours between 0 and 2160".into(),
            ));
        }
        let since =
            chrono::Utc::now() - chrono::Duration::milliseconds((hours * 3_600_000.0) as i64);
        let rows = self
            .state
            .sentinel
            .store
            .changes_since(service.as_deref(), since, 2000)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|c| ChangeRow {
                id: c.id,
                service: c.service,
                kind: c.kind.to_string(),
                ts: c.ts,
                author: c.author,
                description: c.description,
                commit: c.commit,
                version: c.version,
            })
            .collect())
    }
}
