-- Notifications (notify/): how far the dispatcher has read the event log, the per-incident
-- state a channel needs to update what it sent (a Slack message's ts, a PagerDuty alert that
-- is open), and deliveries that failed every attempt (dead letters).
CREATE TABLE IF NOT EXISTS notify_cursor (
    name        TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_state (
    incident_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (incident_id, channel)
);
CREATE TABLE IF NOT EXISTS notify_dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    event       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    error       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notify_dead_letters_by_incident ON notify_dead_letters (incident_id);
