//! Change events (deploys, flag and config changes) announced to `POST /webhooks/change`:
//! append-only, deduplicated by id; [`StoredChanges`] is the change source over them.

use super::*;
use crate::telemetry::{Change, ChangeSource, Deploy, FilesChanged, TelemetryError};
use chrono::{DateTime, Utc};
use sentinel_model::ChangeKind;

/// One stored change event.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub id: String,
    pub service: String,
    pub kind: ChangeKind,
    pub ts: DateTime<Utc>,
    pub author: String,
    pub description: String,
    pub commit: Option<String>,
    pub version: Option<String>,
    pub files_changed: Vec<String>,
}

impl ChangeEvent {
    /// As a deploy (for `list_recent_deploys`), if it is one.
    pub fn as_deploy(&self) -> Option<Deploy> {
        (self.kind == ChangeKind::Deploy).then(|| Deploy {
            id: self.id.clone(),
            service: self.service.clone(),
            ts: self.ts,
            author: self.author.clone(),
            commit: self.commit.clone(),
            files_changed: FilesChanged::List(self.files_changed.clone()),
            description: match &self.version {
                Some(v) if !self.description.contains(v.as_str()) => {
                    format!("{} (version {v})", self.description)
                }
                _ => self.description.clone(),
            },
        })
    }

    /// As a change (for `list_changes`), if it is not a deploy.
    pub fn as_change(&self) -> Option<Change> {
        (self.kind != ChangeKind::Deploy).then(|| Change {
            id: self.id.clone(),
            kind: self.kind.clone(),
            service: self.service.clone(),
            ts: self.ts,
            author: self.author.clone(),
            description: self.description.clone(),
        })
    }
}

/// Most change events read for one query.
const MAX_EVENTS: u32 = 2000;

/// The change events stored from `POST /webhooks/change`.
pub struct StoredChanges {
    pub store: Store,
}

#[async_trait::async_trait]
impl ChangeSource for StoredChanges {
    async fn deploys(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Deploy>, TelemetryError> {
        let rows = self
            .store
            .changes_since(service, since, MAX_EVENTS)
            .await
            .map_err(|e| TelemetryError::Backend(format!("change events: {e}")))?;
        Ok(rows.iter().filter_map(|c| c.as_deploy()).collect())
    }
    async fn changes(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Change>, TelemetryError> {
        let rows = self
            .store
            .changes_since(service, since, MAX_EVENTS)
            .await
            .map_err(|e| TelemetryError::Backend(format!("change events: {e}")))?;
        Ok(rows.iter().filter_map(|c| c.as_change()).collect())
    }
    async fn commits(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, crate::telemetry::changes::Commit)>, TelemetryError> {
        let rows = self
            .store
            .changes_since(service, since, MAX_EVENTS)
            .await
            .map_err(|e| TelemetryError::Backend(format!("change events: {e}")))?;
        Ok(rows
            .into_iter()
            .filter(|c| c.kind.as_str() == "commit")
            .map(|c| {
                // "commit on main: Raise the retry budget" → the subject.
                let subject = c
                    .description
                    .split_once(": ")
                    .map(|(_, s)| s.to_string())
                    .unwrap_or(c.description.clone());
                (
                    c.service.clone(),
                    crate::telemetry::changes::Commit {
                        sha: c.commit.clone().unwrap_or(c.id.clone()),
                        author: c.author,
                        ts: c.ts,
                        subject,
                        files: c.files_changed,
                    },
                )
            })
            .collect())
    }
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Stores a change event. False if one with this id was stored before (nothing changes).
    pub async fn insert_change(&self, c: &ChangeEvent, source: &str) -> Result<bool> {
        let files = (!c.files_changed.is_empty())
            .then(|| serde_json::to_string(&c.files_changed).unwrap_or_default());
        let affected = db!(self, write |p| sqlx::query(
            "INSERT INTO changes (id, service, kind, ts, author, description, commit_sha, version, files_json, source, received_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING",
        )
        .bind(&c.id)
        .bind(&c.service)
        .bind(c.kind.as_str())
        .bind(ts(c.ts))
        .bind(&c.author)
        .bind(&c.description)
        .bind(&c.commit)
        .bind(&c.version)
        .bind(files)
        .bind(source)
        .bind(ts(Utc::now()))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(affected == 1)
    }

    /// Change events since `since` (oldest first, at most `limit`), of one service or all.
    pub async fn changes_since(
        &self,
        service: Option<&str>,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ChangeEvent>> {
        let rows: Vec<Row> = db!(self, read |p| sqlx::query_as(
            "SELECT id, service, kind, ts, author, description, commit_sha, version, files_json FROM changes \
             WHERE ts >= $1 AND ($2 IS NULL OR lower(service) = lower($2)) ORDER BY ts ASC, id ASC LIMIT $3",
        )
        .bind(ts(since))
        .bind(service)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, service, kind, t, author, description, commit, version, files)| ChangeEvent {
                    id,
                    service,
                    kind: ChangeKind::parse(&kind),
                    ts: parse_ts(&t),
                    author,
                    description,
                    commit,
                    version,
                    files_changed: files
                        .and_then(|f| serde_json::from_str(&f).ok())
                        .unwrap_or_default(),
                },
            )
            .collect())
    }
}
