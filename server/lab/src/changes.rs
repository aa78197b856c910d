//! Announcing what changed, as a deploy pipeline would: each change is POSTed to Sentinel's
//! `/webhooks/change` (with the webhook token), and each deploy is a commit in the service's
//! git repository (`<dir>/<service>`, dated when it landed), which Sentinel reads through
//! `[[changes.git]]`.

use crate::faults::Change;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct Announcer {
    http: reqwest::Client,
    sentinel: Option<String>,
    token: Option<String>,
    repos: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    #[error("git {0} failed: {1}")]
    Git(String, String),
    #[error("posting the change to Sentinel failed: {0}")]
    Post(String),
}

fn git(repo: &Path, args: &[&str], when: Option<&str>) -> Result<String, AnnounceError> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(repo).args(args);
    cmd.env("GIT_AUTHOR_NAME", "lab-ci")
        .env("GIT_AUTHOR_EMAIL", "ci@lab.invalid")
        .env("GIT_COMMITTER_NAME", "lab-ci")
        .env("GIT_COMMITTER_EMAIL", "ci@lab.invalid");
    if let Some(w) = when {
        cmd.env("GIT_AUTHOR_DATE", w).env("GIT_COMMITTER_DATE", w);
    }
    let out = cmd
        .output()
        .map_err(|e| AnnounceError::Git(args.join(" "), e.to_string()))?;
    if !out.status.success() {
        return Err(AnnounceError::Git(
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Announcer {
    /// `sentinel` is Sentinel's base URL (none: changes are only committed).
    pub fn new(sentinel: Option<String>, token: Option<String>, repos: &Path) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a client with a timeout"),
            sentinel,
            token,
            repos: repos.to_path_buf(),
        }
    }

    pub fn repo(&self, service: &str) -> PathBuf {
        self.repos.join(service)
    }

    /// A repository per service with one first commit (idempotent).
    pub fn init(&self, services: &[String]) -> Result<(), AnnounceError> {
        for s in services {
            let repo = self.repo(s);
            if repo.join(".git").exists() {
                continue;
            }
            std::fs::create_dir_all(&repo)
                .map_err(|e| AnnounceError::Git("init".into(), e.to_string()))?;
            git(&repo, &["init", "-q", "-b", "main"], None)?;
            std::fs::write(repo.join("README.md"), format!("# {s}\n"))
                .map_err(|e| AnnounceError::Git("init".into(), e.to_string()))?;
            // The history before the lab started: a month old, so it is no suspect.
            let when = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
            git(&repo, &["add", "-A"], None)?;
            git(
                &repo,
                &["commit", "-q", "-m", "initial import"],
                Some(&when),
            )?;
        }
        Ok(())
    }

    /// Commits a deploy's files (returns the commit) — blocking; run it off the async threads.
    pub fn commit(&self, c: &Change) -> Result<Option<String>, AnnounceError> {
        if c.kind != "deploy" {
            return Ok(None);
        }
        let repo = self.repo(&c.service);
        for f in &c.files {
            let path = repo.join(f);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| AnnounceError::Git("write".into(), e.to_string()))?;
            }
            let mut body = std::fs::read_to_string(&path).unwrap_or_default();
            body.push_str(&format!("// {}: {}\n", c.id, c.description));
            std::fs::write(&path, body)
                .map_err(|e| AnnounceError::Git("write".into(), e.to_string()))?;
        }
        if c.files.is_empty() {
            std::fs::write(repo.join("VERSION"), c.version.clone().unwrap_or_default())
                .map_err(|e| AnnounceError::Git("write".into(), e.to_string()))?;
        }
        let when = c.ts.to_rfc3339();
        git(&repo, &["add", "-A"], None)?;
        git(
            &repo,
            &["commit", "-q", "--allow-empty", "-m", &c.description],
            Some(&when),
        )?;
        git(&repo, &["rev-parse", "HEAD"], None).map(Some)
    }

    /// Posts the change (with its commit) to Sentinel.
    pub async fn post(&self, c: &Change, commit: Option<&str>) -> Result<(), AnnounceError> {
        let Some(base) = &self.sentinel else {
            return Ok(());
        };
        let mut body = serde_json::json!({
            "id": c.id,
            "service": c.service,
            "kind": c.kind,
            "ts": c.ts,
            "author": "lab-ci",
            "description": c.description,
        });
        if let Some(v) = &c.version {
            body["version"] = v.clone().into();
        }
        if let Some(sha) = commit {
            body["commit"] = sha.into();
        }
        let mut req = self
            .http
            .post(format!("{base}/webhooks/change"))
            .json(&body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| AnnounceError::Post(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(AnnounceError::Post(format!(
                "HTTP {}",
                resp.status().as_u16()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_is_a_dated_commit_in_its_services_repository() {
        let d = tempfile::tempdir().unwrap();
        let a = Announcer::new(None, None, d.path());
        a.init(&["user-service".into()]).unwrap();
        a.init(&["user-service".into()]).unwrap();
        let ts = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let c = Change {
            id: "dep-user-1".into(),
            service: "user-service".into(),
            kind: "deploy".into(),
            description: "batch lookups".into(),
            version: Some("v1.2.3".into()),
            ts,
            files: vec!["src/read.rs".into()],
        };
        let sha = a.commit(&c).unwrap().unwrap();
        assert_eq!(sha.len(), 40);
        let log = git(
            &a.repo("user-service"),
            &["log", "-1", "--format=%s %cI"],
            None,
        )
        .unwrap();
        assert_eq!(log, "batch lookups 2026-12-04T10:00:00Z");
        let flag = Change {
            kind: "feature_flag".into(),
            files: vec![],
            ..c
        };
        assert_eq!(a.commit(&flag).unwrap(), None);
    }
}
