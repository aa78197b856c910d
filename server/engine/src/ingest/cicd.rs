//! Deploys and commits from CI/CD systems, as change events (pure; no HTTP):
//! GitHub `deployment_status` (a successful deployment is a deploy) and `push` (each commit
//! is a change of kind `commit`) verified with `X-Hub-Signature-256`, and Argo CD
//! notifications (a succeeded sync is a deploy of the synced revision). The service is the
//! repository's name (GitHub) or the application's (Argo CD) unless the configuration maps it.

use super::{IngestError, parse_json};
use crate::store::ChangeEvent;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sentinel_model::ChangeKind;
use serde::Deserialize;
use sha2::Sha256;
use std::collections::BTreeMap;

/// The header GitHub signs deliveries with.
pub const GITHUB_SIGNATURE: &str = "x-hub-signature-256";
/// The header naming a GitHub event.
pub const GITHUB_EVENT: &str = "x-github-event";

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`.
pub fn github_signature_matches(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

fn time(field: &str, raw: &str) -> Result<DateTime<Utc>, IngestError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| IngestError::field(field, format!("not an RFC 3339 time ({e})")))
}

fn service_of(repo: &str, full: &str, map: &BTreeMap<String, String>) -> String {
    map.get(full)
        .or_else(|| map.get(repo))
        .cloned()
        .unwrap_or_else(|| repo.to_string())
}

#[derive(Deserialize)]
struct Repository {
    name: String,
    #[serde(default)]
    full_name: String,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    login: String,
}

#[derive(Deserialize)]
struct Deployment {
    id: serde_json::Value,
    sha: String,
    #[serde(default, rename = "ref")]
    git_ref: String,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    creator: Option<User>,
}

#[derive(Deserialize)]
struct DeploymentStatus {
    state: String,
    created_at: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct DeploymentEvent {
    deployment_status: DeploymentStatus,
    deployment: Deployment,
    repository: Repository,
}

#[derive(Deserialize)]
struct PushCommit {
    id: String,
    message: String,
    timestamp: String,
    #[serde(default)]
    author: Option<PushAuthor>,
    #[serde(default)]
    added: Vec<String>,
    #[serde(default)]
    modified: Vec<String>,
    #[serde(default)]
    removed: Vec<String>,
}

#[derive(Deserialize)]
struct PushAuthor {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct PushEvent {
    #[serde(default, rename = "ref")]
    git_ref: String,
    #[serde(default)]
    commits: Vec<PushCommit>,
    repository: Repository,
}

/// The change events of a GitHub delivery of `event`; an event or state that is not a change
/// (a pending deployment, a ping) gives none.
pub fn github(
    event: &str,
    body: &[u8],
    services: &BTreeMap<String, String>,
) -> Result<Vec<ChangeEvent>, IngestError> {
    match event {
        "deployment_status" => {
            let e: DeploymentEvent = parse_json(body)?;
            if !e.deployment_status.state.eq_ignore_ascii_case("success") {
                return Ok(vec![]);
            }
            let service = service_of(&e.repository.name, &e.repository.full_name, services);
            let id = match &e.deployment.id {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s.clone(),
                _ => {
                    return Err(IngestError::field(
                        "deployment.id",
                        "must be a number or string",
                    ));
                }
            };
            let description = [
                e.deployment.description.clone(),
                e.deployment_status.description.clone(),
            ]
            .into_iter()
            .flatten()
            .filter(|d| !d.is_empty())
            .collect::<Vec<_>>()
            .join(" — ");
            Ok(vec![ChangeEvent {
                id: format!("github-deployment-{id}"),
                service: service.clone(),
                kind: ChangeKind::Deploy,
                ts: time(
                    "deployment_status.created_at",
                    &e.deployment_status.created_at,
                )?,
                author: e.deployment.creator.map(|c| c.login).unwrap_or_default(),
                description: if description.is_empty() {
                    format!(
                        "{service} {} to {}",
                        e.deployment.git_ref, e.deployment.environment
                    )
                } else {
                    description
                },
                commit: Some(e.deployment.sha),
                version: (!e.deployment.git_ref.is_empty()).then_some(e.deployment.git_ref),
                files_changed: vec![],
            }])
        }
        "push" => {
            let e: PushEvent = parse_json(body)?;
            let service = service_of(&e.repository.name, &e.repository.full_name, services);
            let branch = e.git_ref.trim_start_matches("refs/heads/").to_string();
            e.commits
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let subject = c.message.lines().next().unwrap_or_default().to_string();
                    Ok(ChangeEvent {
                        id: c.id.chars().take(12).collect(),
                        service: service.clone(),
                        kind: ChangeKind::Other("commit".into()),
                        ts: time(&format!("commits[{i}].timestamp"), &c.timestamp)?,
                        author: c.author.map(|a| a.name).unwrap_or_default(),
                        description: format!("commit on {branch}: {subject}"),
                        commit: Some(c.id),
                        version: None,
                        files_changed: c
                            .added
                            .into_iter()
                            .chain(c.modified)
                            .chain(c.removed)
                            .take(1000)
                            .collect(),
                    })
                })
                .collect()
        }
        _ => Ok(vec![]),
    }
}

#[derive(Deserialize)]
struct ArgoEvent {
    app: String,
    #[serde(default)]
    revision: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    finished_at: Option<String>,
    #[serde(default)]
    author: String,
    #[serde(default)]
    message: String,
}

/// An Argo CD notification (the webhook template of the `on-sync-succeeded` trigger):
/// `{"app", "revision", "status", "finished_at", "author"?, "message"?}`. A succeeded sync is a
/// deploy of `revision`; any other status gives none.
pub fn argocd(
    body: &[u8],
    services: &BTreeMap<String, String>,
) -> Result<Vec<ChangeEvent>, IngestError> {
    let e: ArgoEvent = parse_json(body)?;
    if !matches!(
        e.status.to_ascii_lowercase().as_str(),
        "succeeded" | "synced" | "healthy"
    ) {
        return Ok(vec![]);
    }
    if e.app.trim().is_empty() {
        return Err(IngestError::field("app", "must not be empty"));
    }
    let ts = match e.finished_at.as_deref() {
        Some(t) => time("finished_at", t)?,
        None => Utc::now(),
    };
    let service = services
        .get(&e.app)
        .cloned()
        .unwrap_or_else(|| e.app.clone());
    let short: String = e.revision.chars().take(12).collect();
    Ok(vec![ChangeEvent {
        id: format!("argocd-{}-{short}", e.app),
        service: service.clone(),
        kind: ChangeKind::Deploy,
        ts,
        author: e.author,
        description: if e.message.is_empty() {
            format!("Argo CD synced {} to {short}", e.app)
        } else {
            format!("Argo CD synced {} to {short}: {}", e.app, e.message)
        },
        commit: (!e.revision.is_empty()).then_some(e.revision),
        version: None,
        files_changed: vec![],
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn github_signatures_are_checked() {
        let body = br#"{"a":1}"#;
        assert!(github_signature_matches(
            "s3cret",
            &sign("s3cret", body),
            body
        ));
        assert!(!github_signature_matches(
            "other",
            &sign("s3cret", body),
            body
        ));
        assert!(!github_signature_matches("s3cret", "sha1=abc", body));
        assert!(!github_signature_matches("s3cret", "sha256=zz", body));
    }

    #[test]
    fn a_successful_deployment_is_a_deploy_and_a_push_lists_its_commits() {
        let dep = br#"{"action":"created","deployment_status":{"state":"success","created_at":"2026-12-01T10:00:00Z","description":"rolled out"},
            "deployment":{"id":987,"sha":"abc1234def5678","ref":"v2.4.0","environment":"production","description":"checkout v2.4.0","creator":{"login":"ada"}},
            "repository":{"name":"checkout","full_name":"shop/checkout"}}"#;
        let c = github("deployment_status", dep, &BTreeMap::new()).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].id, "github-deployment-987");
        assert_eq!(c[0].kind, ChangeKind::Deploy);
        assert_eq!(c[0].commit.as_deref(), Some("abc1234def5678"));
        assert_eq!(c[0].description, "checkout v2.4.0 — rolled out");
        let pending = String::from_utf8_lossy(dep).replace("\"success\"", "\"pending\"");
        assert!(
            github("deployment_status", pending.as_bytes(), &BTreeMap::new())
                .unwrap()
                .is_empty()
        );
        let map = BTreeMap::from([("shop/checkout".to_string(), "checkout-svc".to_string())]);
        let push = br#"{"ref":"refs/heads/main","repository":{"name":"checkout","full_name":"shop/checkout"},
            "commits":[{"id":"0123456789abcdef","message":"PriceFormatter: decimals\n\nlong body","timestamp":"2026-12-01T09:00:00+01:00","author":{"name":"Ada"},"added":["src/p.rs"],"modified":["Cargo.toml"],"removed":[]}]}"#;
        let c = github("push", push, &map).unwrap();
        assert_eq!(c[0].service, "checkout-svc");
        assert_eq!(c[0].description, "commit on main: PriceFormatter: decimals");
        assert_eq!(c[0].files_changed, vec!["src/p.rs", "Cargo.toml"]);
        assert_eq!(c[0].ts.to_rfc3339(), "2026-12-01T08:00:00+00:00");
        assert!(github("ping", b"{}", &map).unwrap().is_empty());
        let bad = github("push", br#"{"repository":{"name":"x"},"commits":[{"id":"a","message":"m","timestamp":"later"}]}"#, &map).unwrap_err();
        assert!(bad.to_string().contains("commits[0].timestamp"), "{bad}");
    }

    #[test]
    fn a_succeeded_argo_sync_is_a_deploy() {
        let c = argocd(br#"{"app":"checkout","revision":"abc1234def5678aa","status":"Succeeded","finished_at":"2026-12-01T10:00:00Z","message":"v2.4.0"}"#, &BTreeMap::new()).unwrap();
        assert_eq!(c[0].id, "argocd-checkout-abc1234def56");
        assert_eq!(c[0].kind, ChangeKind::Deploy);
        assert!(
            argocd(
                br#"{"app":"checkout","status":"Running"}"#,
                &BTreeMap::new()
            )
            .unwrap()
            .is_empty()
        );
        assert!(
            argocd(br#"{"app":" ","status":"Succeeded"}"#, &BTreeMap::new())
                .unwrap_err()
                .to_string()
                .contains("app")
        );
    }
}
