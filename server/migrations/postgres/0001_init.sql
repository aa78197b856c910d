-- Sentinel schema on PostgreSQL: the state SQLite reaches after its migrations 0001–0006
-- (../0001_init.sql …), in one step. Same tables, columns and meanings; PostgreSQL types
-- (BIGINT for SQLite's INTEGER, DOUBLE PRECISION for REAL, BYTEA for BLOB) and PL/pgSQL
-- triggers. Timestamps stay RFC3339 text in UTC with a fixed width, compared as strings, so
-- every column compared or ordered that way uses the "C" collation (byte order), whatever
-- locale the cluster was created with. Later schema changes get a migration in both folders.

CREATE TABLE incidents (
    id            TEXT COLLATE "C" PRIMARY KEY,
    service       TEXT NOT NULL,
    title         TEXT NOT NULL,
    status        TEXT NOT NULL,
    severity      TEXT,
    scenario_id   TEXT,
    fingerprint   TEXT,
    alert_count   BIGINT NOT NULL DEFAULT 1,
    alert_json    TEXT NOT NULL,
    report_json   TEXT NOT NULL,
    state_json    TEXT,
    created_at    TEXT COLLATE "C" NOT NULL,
    updated_at    TEXT COLLATE "C" NOT NULL,
    -- Run leases (SQLite 0003): the replica running an incident holds a lease it renews.
    lease_owner   TEXT,
    lease_expires TEXT COLLATE "C"
);
CREATE INDEX incidents_created ON incidents (created_at DESC);
CREATE INDEX incidents_fingerprint ON incidents (fingerprint, status);
CREATE INDEX incidents_service ON incidents (service, status);
CREATE INDEX incidents_status ON incidents (status);

-- Append-only trajectory. seq is the SSE id; appends take a transaction-scoped advisory
-- lock (store/events.rs) so sequence numbers become visible in commit order and a reader
-- tailing `seq > last` on any replica never skips one that commits late.
CREATE TABLE events (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id   TEXT COLLATE "C" NOT NULL REFERENCES incidents (id),
    ts            TEXT COLLATE "C" NOT NULL,
    agent         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload_json  TEXT NOT NULL
);
CREATE INDEX events_incident ON events (incident_id, seq);
CREATE FUNCTION sentinel_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION sentinel_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION sentinel_events_append_only();

CREATE TABLE approvals (
    id            TEXT COLLATE "C" PRIMARY KEY,
    incident_id   TEXT COLLATE "C" NOT NULL REFERENCES incidents (id),
    action        TEXT NOT NULL,
    target        TEXT,
    risk          TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    proposer      TEXT NOT NULL,
    requested_at  TEXT COLLATE "C" NOT NULL,
    expires_at    TEXT COLLATE "C" NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending',
    decided_by    TEXT,
    decided_at    TEXT COLLATE "C",
    comment       TEXT
);
CREATE INDEX approvals_pending ON approvals (status, expires_at);
CREATE INDEX approvals_incident ON approvals (incident_id);

-- Raw alerts as received (ingestion persists before it answers 202).
CREATE TABLE alerts (
    id            TEXT COLLATE "C" PRIMARY KEY,
    incident_id   TEXT COLLATE "C" REFERENCES incidents (id),
    source        TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        TEXT NOT NULL,
    received_at   TEXT COLLATE "C" NOT NULL,
    payload_json  TEXT NOT NULL,
    outcome       TEXT
);

-- Per-incident alert summary kept by the database (SQLite 0002): inserting an alert row
-- updates its incident's summary in the same statement.
CREATE TABLE incident_alerts (
    incident_id TEXT COLLATE "C" PRIMARY KEY REFERENCES incidents (id),
    alerts      BIGINT NOT NULL,
    repeats     BIGINT NOT NULL,
    last_status TEXT NOT NULL,
    last_at     TEXT COLLATE "C" NOT NULL
);
CREATE FUNCTION sentinel_alerts_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.incident_id IS NOT NULL THEN
        INSERT INTO incident_alerts AS r (incident_id, alerts, repeats, last_status, last_at)
        VALUES (NEW.incident_id, 1, CASE WHEN NEW.outcome = 'repeated' THEN 1 ELSE 0 END,
                NEW.status, NEW.received_at)
        ON CONFLICT (incident_id) DO UPDATE SET
            alerts = r.alerts + 1,
            repeats = r.repeats + excluded.repeats,
            last_status = excluded.last_status,
            last_at = excluded.last_at;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER alerts_summarise AFTER INSERT ON alerts
    FOR EACH ROW EXECUTE FUNCTION sentinel_alerts_summarise();

-- Episodic memory: finished incidents with their embedding (little-endian f32).
CREATE TABLE memories (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id   TEXT COLLATE "C" NOT NULL UNIQUE,
    service       TEXT NOT NULL,
    severity      TEXT,
    failure_class TEXT NOT NULL,
    symptoms      TEXT NOT NULL,
    diagnosis     TEXT NOT NULL,
    action        TEXT NOT NULL,
    approval      TEXT NOT NULL,
    status        TEXT NOT NULL,
    mttr_ms       DOUBLE PRECISION NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    embedder      TEXT NOT NULL,
    embedding     BYTEA NOT NULL,
    postmortem    TEXT
);

-- Semantic memory: service catalogue, dependency graph, runbooks.
CREATE TABLE services (
    name          TEXT COLLATE "C" PRIMARY KEY,
    team          TEXT NOT NULL,
    tier          BIGINT NOT NULL,
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
    external      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (from_service, to_service)
);
CREATE TABLE runbooks (
    id            TEXT COLLATE "C" PRIMARY KEY,
    service       TEXT NOT NULL,
    failure_class TEXT NOT NULL,
    title         TEXT NOT NULL,
    json          TEXT NOT NULL
);

CREATE TABLE eval_runs (
    id            TEXT COLLATE "C" PRIMARY KEY,
    generated_at  TEXT COLLATE "C" NOT NULL,
    judge_model   TEXT NOT NULL,
    avg_total_score DOUBLE PRECISION NOT NULL,
    pass_rate     DOUBLE PRECISION NOT NULL,
    report_json   TEXT NOT NULL
);

-- Operator sessions (SQLite 0003).
CREATE TABLE sessions (
    id_hash     TEXT COLLATE "C" PRIMARY KEY,
    operator    TEXT NOT NULL,
    token_tag   TEXT NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE webhook_deliveries (
    source       TEXT NOT NULL,
    delivery_id  TEXT NOT NULL,
    received_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (source, delivery_id)
);

-- Deploys and config/flag changes announced by CI/CD (SQLite 0004).
CREATE TABLE changes (
    id            TEXT COLLATE "C" PRIMARY KEY,
    service       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    ts            TEXT COLLATE "C" NOT NULL,
    author        TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    commit_sha    TEXT,
    version       TEXT,
    files_json    TEXT,
    source        TEXT NOT NULL,
    received_at   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX changes_by_service_ts ON changes (service, ts);
CREATE INDEX changes_by_ts ON changes (ts);

-- Notifications (SQLite 0005).
CREATE TABLE notify_cursor (
    name        TEXT COLLATE "C" PRIMARY KEY,
    seq         BIGINT NOT NULL
);
CREATE TABLE notify_state (
    incident_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (incident_id, channel)
);
CREATE TABLE notify_dead_letters (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    event       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    error       TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX notify_dead_letters_by_incident ON notify_dead_letters (incident_id);

-- Fleet-wide roles (SQLite 0007): the replica holding a role's lease runs the jobs that must
-- run once across the fleet (approval expiry, retention, notifications).
CREATE TABLE roles (
    name     TEXT COLLATE "C" PRIMARY KEY,
    owner    TEXT NOT NULL,
    expires  TEXT COLLATE "C" NOT NULL
);
