//! Where webhook incidents' deploys and changes come from: the change events CI/CD posted to
//! `POST /webhooks/change` (always; `store::StoredChanges`), and the history of configured git repositories
//! (`[[changes.git]]`: commits become changes of their service, and fill in the files and
//! message of the deploy that shipped them). [`ChangeSources`] merges them.

use super::{Change, ChangeSource, Deploy, FilesChanged, TelemetryError};
use chrono::{DateTime, Utc};
use sentinel_model::ChangeKind;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Most commits read from one repository for one query.
const MAX_COMMITS: usize = 500;

/// One commit of a repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub sha: String,
    pub author: String,
    pub ts: DateTime<Utc>,
    pub subject: String,
    pub files: Vec<String>,
}

/// The commits of one service's repository (a local path, or a `git://` / `http(s)://` URL
/// mirrored into the data directory and fetched at most every `refresh`).
pub struct GitChanges {
    pub service: String,
    pub repo: String,
    /// Where a remote repository is mirrored.
    pub mirror_dir: PathBuf,
    pub timeout: Duration,
    pub refresh: Duration,
    last_fetch: tokio::sync::Mutex<Option<std::time::Instant>>,
}

impl GitChanges {
    pub fn new(service: &str, repo: &str, data_dir: &std::path::Path, timeout: Duration) -> Self {
        let tag: String = repo
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        Self {
            service: service.to_string(),
            repo: repo.to_string(),
            mirror_dir: data_dir.join("git").join(tag),
            timeout,
            refresh: Duration::from_secs(30),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    fn is_remote(&self) -> bool {
        self.repo.contains("://")
    }

    /// The directory to read history from (mirroring a remote repository first).
    async fn git_dir(&self) -> Result<PathBuf, TelemetryError> {
        if !self.is_remote() {
            return Ok(PathBuf::from(&self.repo));
        }
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < self.refresh) && self.mirror_dir.exists() {
            return Ok(self.mirror_dir.clone());
        }
        if self.mirror_dir.join("HEAD").exists() {
            run_git(
                &self.mirror_dir,
                &["fetch", "--quiet", "--prune", "origin", "+refs/*:refs/*"],
                self.timeout,
            )
            .await?;
        } else {
            if let Some(parent) = self.mirror_dir.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| TelemetryError::Backend(format!("git mirror: {e}")))?;
            }
            let dir = self.mirror_dir.display().to_string();
            run_git(
                std::path::Path::new("."),
                &["clone", "--quiet", "--mirror", &self.repo, &dir],
                self.timeout,
            )
            .await?;
        }
        *last = Some(std::time::Instant::now());
        Ok(self.mirror_dir.clone())
    }

    /// Commits since `since`, newest first (at most [`MAX_COMMITS`]).
    pub async fn commits(&self, since: DateTime<Utc>) -> Result<Vec<Commit>, TelemetryError> {
        let dir = self.git_dir().await?;
        let since_arg = format!("--since={}", since.to_rfc3339());
        let max = format!("--max-count={MAX_COMMITS}");
        let out = run_git(
            &dir,
            &[
                "log",
                "--all",
                &since_arg,
                &max,
                "--date=iso-strict",
                "--name-only",
                "--pretty=format:%x1e%H%x1f%an%x1f%cI%x1f%s",
            ],
            self.timeout,
        )
        .await?;
        Ok(parse_log(&out))
    }
}

/// Runs git with a timeout; a failure says which command and why.
async fn run_git(
    dir: &std::path::Path,
    args: &[&str],
    timeout: Duration,
) -> Result<String, TelemetryError> {
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(timeout, cmd.output())
        .await
        .map_err(|_| {
            TelemetryError::Backend(format!(
                "git {} timed out after {} s",
                args.first().unwrap_or(&""),
                timeout.as_secs()
            ))
        })?
        .map_err(|e| TelemetryError::Backend(format!("git: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(TelemetryError::Backend(format!(
            "git {} in {}: {}",
            args.first().unwrap_or(&""),
            dir.display(),
            crate::redact::urls_in(err.trim())
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Parses `git log --name-only --pretty=format:%x1e%H%x1f%an%x1f%cI%x1f%s`.
pub fn parse_log(out: &str) -> Vec<Commit> {
    out.split('\x1e')
        .filter_map(|rec| {
            let mut lines = rec.lines();
            let head = lines.next()?;
            let mut f = head.split('\x1f');
            let sha = f.next()?.trim().to_string();
            let author = f.next()?.to_string();
            let ts = DateTime::parse_from_rfc3339(f.next()?.trim())
                .ok()?
                .with_timezone(&Utc);
            let subject = f.next().unwrap_or_default().to_string();
            let files = lines
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            (!sha.is_empty()).then_some(Commit {
                sha,
                author,
                ts,
                subject,
                files,
            })
        })
        .collect()
}

/// Several change sources as one: posted deploys and changes, versions that appeared in the
/// metrics unannounced (deploys too), and git history. A commit belongs to the deploy that
/// names it, else to the first deploy of its service after it, and gives that deploy its
/// files and message; commits no deploy shipped are listed as changes of kind `commit`. A git
/// repository or version history that fails is skipped (and logged).
pub struct ChangeSources {
    pub events: Arc<dyn ChangeSource>,
    pub git: Vec<Arc<GitChanges>>,
    /// Where a new `version` label value counts as a deploy nobody announced.
    pub versions: Option<Arc<super::prometheus::PrometheusMetrics>>,
}

/// How close an announced deploy must be to a version's first appearance to be its deploy.
const VERSION_MATCH_MINUTES: i64 = 15;

impl ChangeSources {
    async fn commits_of(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Vec<(String, Commit)> {
        let mut all = Vec::new();
        for g in &self.git {
            if service.is_some_and(|s| !s.eq_ignore_ascii_case(&g.service)) {
                continue;
            }
            match g.commits(since).await {
                Ok(cs) => all.extend(cs.into_iter().map(|c| (g.service.clone(), c))),
                Err(e) => {
                    tracing::warn!(service = %g.service, error = %e, "git history unavailable")
                }
            }
        }
        all
    }
}

fn same_commit(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    a.len() >= 7 && b.len() >= 7 && (a.starts_with(&b) || b.starts_with(&a))
}

impl ChangeSources {
    /// Announced deploys plus the versions that appeared unannounced, oldest first.
    async fn all_deploys(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Deploy>, TelemetryError> {
        let mut deploys = self.events.deploys(service, since).await?;
        if let Some(p) = &self.versions {
            let services = match service {
                Some(s) => vec![s.to_string()],
                None => p.service_names(),
            };
            for svc in services {
                let onsets = match p.version_onsets(&svc, since).await {
                    Ok(o) => o,
                    Err(e) => {
                        tracing::warn!(service = %svc, error = %e, "version history unavailable");
                        continue;
                    }
                };
                for (version, at) in onsets {
                    let announced = deploys.iter().any(|d| {
                        d.service.eq_ignore_ascii_case(&svc)
                            && (d.description.contains(&version)
                                || (d.ts - at).num_minutes().abs() <= VERSION_MATCH_MINUTES)
                    });
                    if !announced {
                        deploys.push(Deploy {
                            id: format!("version-{svc}-{version}"),
                            service: svc.clone(),
                            ts: at,
                            author: String::new(),
                            commit: None,
                            files_changed: FilesChanged::Count(0),
                            description: format!(
                                "{svc} instances on version {version} began reporting (no deploy event announced it)"
                            ),
                        });
                    }
                }
            }
        }
        deploys.sort_by_key(|d| d.ts);
        Ok(deploys)
    }

    /// Which deploy shipped each commit: the one that names it, else the first deploy of its
    /// service at or after it. Returns the deploys with their commits' files and messages, and
    /// the commits no deploy shipped.
    async fn ship(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(Vec<Deploy>, Vec<(String, Commit)>), TelemetryError> {
        let mut deploys = self.all_deploys(service, since).await?;
        let mut commits = self
            .commits_of(service, since - chrono::Duration::days(7))
            .await;
        // Commits a push delivery stored, unless a repository listed them already.
        match self
            .events
            .commits(service, since - chrono::Duration::days(7))
            .await
        {
            Ok(pushed) => {
                for (svc, c) in pushed {
                    if !commits.iter().any(|(_, k)| same_commit(&k.sha, &c.sha)) {
                        commits.push((svc, c));
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "pushed commits unavailable"),
        }
        if commits.is_empty() {
            return Ok((deploys, Vec::new()));
        }
        let mut unshipped = Vec::new();
        let mut shipped: Vec<Vec<Commit>> = vec![Vec::new(); deploys.len()];
        for (svc, c) in commits {
            let named = deploys.iter().position(|d| {
                d.commit
                    .as_deref()
                    .is_some_and(|sha| same_commit(sha, &c.sha))
            });
            let next = || {
                deploys
                    .iter()
                    .position(|d| d.service.eq_ignore_ascii_case(&svc) && d.ts >= c.ts)
            };
            match named.or_else(next) {
                Some(i) => shipped[i].push(c),
                None => unshipped.push((svc, c)),
            }
        }
        for (d, cs) in deploys.iter_mut().zip(shipped) {
            if cs.is_empty() {
                continue;
            }
            if d.files_changed.count() == 0 {
                let mut files: Vec<String> = cs.iter().flat_map(|c| c.files.clone()).collect();
                files.sort();
                files.dedup();
                d.files_changed = FilesChanged::List(files);
            }
            let subjects: Vec<&str> = cs
                .iter()
                .map(|c| c.subject.as_str())
                .filter(|s| !d.description.contains(*s))
                .take(10)
                .collect();
            if !subjects.is_empty() {
                d.description = if d.description.is_empty() {
                    subjects.join("; ")
                } else {
                    format!("{}: {}", d.description, subjects.join("; "))
                };
            }
        }
        Ok((deploys, unshipped))
    }
}

#[async_trait::async_trait]
impl ChangeSource for ChangeSources {
    async fn deploys(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Deploy>, TelemetryError> {
        Ok(self.ship(service, since).await?.0)
    }

    async fn changes(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Change>, TelemetryError> {
        let mut changes = self.events.changes(service, since).await?;
        let (_, unshipped) = self.ship(service, since).await?;
        // A pushed commit that a deploy shipped is part of that deploy, not a change of its own.
        changes.retain(|c| {
            c.kind.as_str() != "commit"
                || unshipped
                    .iter()
                    .any(|(_, u)| same_commit(&u.sha, &c.id) || u.sha == c.id)
        });
        let posted: Vec<String> = changes.iter().map(|c| c.id.clone()).collect();
        for (svc, c) in unshipped.into_iter().filter(|(_, c)| c.ts >= since) {
            // A push delivery may have posted the same commit already.
            if posted.iter().any(|p| same_commit(p, &c.sha)) {
                continue;
            }
            let files = if c.files.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    c.files
                        .iter()
                        .take(10)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            changes.push(Change {
                id: c.sha.chars().take(12).collect(),
                kind: ChangeKind::Other("commit".into()),
                service: svc,
                ts: c.ts,
                author: c.author,
                description: format!("commit: {}{files}", c.subject),
            });
        }
        changes.sort_by_key(|c| c.ts);
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_log_output_parses_into_commits() {
        let out = "\x1eabc1234def\x1fAda\x1f2026-01-01T10:00:00+00:00\x1fRaise retry budget\nsrc/retry.rs\nconfig/app.toml\n\n\x1e0123456789\x1fBob\x1f2026-01-01T09:00:00Z\x1fDocs\n";
        let c = parse_log(out);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].files, vec!["src/retry.rs", "config/app.toml"]);
        assert_eq!(c[0].subject, "Raise retry budget");
        assert!(c[1].files.is_empty());
        assert!(same_commit("abc1234def", "ABC1234"));
        assert!(!same_commit("abc", "abc"));
    }
}
