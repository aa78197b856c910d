-- Sentinel schema v1. Timestamps are RFC3339 text in UTC; JSON columns hold serde output.

CREATE TABLE incidents (
    id            TEXT PRIMARY KEY,
    service       TEXT NOT NULL,
    title         TEXT NOT NULL,
    status        TEXT NOT NULL,
    severity      TEXT,
    scenario_id   TEXT,
    fingerprint   TEXT,
    alert_count   INTEGER NOT NULL DEFAULT 1,
    alert_json    TEXT NOT NULL,
    report_json   TEXT NOT NULL,
    state_json    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX incidents_created ON incidents (created_at DESC);
CREATE INDEX incidents_fingerprint ON incidents (fingerprint, status);
CREATE INDEX incidents_service ON incidents (service, status);

-- Append-only trajectory: every run event of every incident. seq is the SSE id.
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    ts            TEXT NOT NULL,
    agent         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload_json  TEXT NOT NULL
);
CREATE INDEX events_incident ON events (incident_id, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE approvals (
    id            TEXT PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    action        TEXT NOT NULL,
    target        TEXT,
    risk          TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    proposer      TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending',
    decided_by    TEXT,
    decided_at    TEXT,
    comment       TEXT
);
CREATE INDEX approvals_pending ON approvals (status, expires_at);

-- Raw alerts as received (ingestion persists before it answers 202).
CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    incident_id   TEXT REFERENCES incidents (id),
    source        TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    payload_json  TEXT NOT NULL
);
CREATE INDEX alerts_incident ON alerts (incident_id);

-- Episodic memory: finished incidents with their embedding (little-endian f32).
CREATE TABLE memories (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id   TEXT NOT NULL UNIQUE,
    service       TEXT NOT NULL,
    severity      TEXT,
    failure_class TEXT NOT NULL,
    symptoms      TEXT NOT NULL,
    diagnosis     TEXT NOT NULL,
    action        TEXT NOT NULL,
    approval      TEXT NOT NULL,
    status        TEXT NOT NULL,
    mttr_ms       REAL NOT NULL,
    created_at    TEXT NOT NULL,
    embedder      TEXT NOT NULL,
    embedding     BLOB NOT NULL
);

-- Semantic memory: service catalogue, dependency graph, runbooks (loaded from data/services).
CREATE TABLE services (
    name          TEXT PRIMARY KEY,
    team          TEXT NOT NULL,
    tier          INTEGER NOT NULL,
    oncall_channel TEXT NOT NULL,
    repo          TEXT NOT NULL,
    description   TEXT NOT NULL,
    json          TEXT NOT NULL
);
CREATE TABLE dependencies (
    from_service  TEXT NOT NULL,
    to_service    TEXT NOT NULL,
    protocol      TEXT NOT NULL,
    criticality   TEXT NOT NULL,
    external      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (from_service, to_service)
);
CREATE TABLE runbooks (
    id            TEXT PRIMARY KEY,
    service       TEXT NOT NULL,
    failure_class TEXT NOT NULL,
    title         TEXT NOT NULL,
    json          TEXT NOT NULL
);

CREATE TABLE eval_runs (
    id            TEXT PRIMARY KEY,
    generated_at  TEXT NOT NULL,
    judge_model   TEXT NOT NULL,
    avg_total_score REAL NOT NULL,
    pass_rate     REAL NOT NULL,
    report_json   TEXT NOT NULL
);
