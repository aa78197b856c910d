-- Deploys and config/flag changes announced by CI/CD (POST /webhooks/change), append-only
-- and deduplicated by id. What list_recent_deploys / list_changes return for webhook incidents.
CREATE TABLE IF NOT EXISTS changes (
    id            TEXT PRIMARY KEY,
    service       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    ts            TEXT NOT NULL,
    author        TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    commit_sha    TEXT,
    version       TEXT,
    files_json    TEXT,
    source        TEXT NOT NULL,
    received_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_service_ts ON changes (service, ts);
CREATE INDEX IF NOT EXISTS changes_by_ts ON changes (ts);
