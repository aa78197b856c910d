-- Ingestion at webhook rates (see server/src/ingest/writer.rs).
--
-- What ingestion did with each alert row ('opened', 'repeated', 'resolved', 'acknowledged').
ALTER TABLE alerts ADD COLUMN outcome TEXT;

-- Per-incident alert summary, kept by the database: inserting an alert row updates its
-- incident's summary in the same statement, so the ingestion writer commits a whole batch
-- (rows and counters) with one INSERT. It lives in this narrow table, not in the incidents
-- row: updating a column rewrites the whole row, and an incident row carries its report and
-- checkpoint JSON (overflow pages) — a bump there cost dozens of WAL pages per batch. An
-- incident's alert count is `incidents.alert_count + repeats`.
CREATE TABLE incident_alerts (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    -- alert rows recorded for the incident (any status)
    alerts      INTEGER NOT NULL,
    -- of those, firing repeats while it was open
    repeats     INTEGER NOT NULL,
    -- status of the newest alert row: 'firing', 'resolved' or 'acknowledged'
    last_status TEXT NOT NULL,
    last_at     TEXT NOT NULL
) WITHOUT ROWID;

-- Incidents ingested before this migration already counted their repeats in alert_count.
INSERT INTO incident_alerts (incident_id, alerts, repeats, last_status, last_at)
SELECT a.incident_id, count(*), 0,
       (SELECT b.status FROM alerts b WHERE b.incident_id = a.incident_id
        ORDER BY b.received_at DESC, b.rowid DESC LIMIT 1),
       max(a.received_at)
FROM alerts a WHERE a.incident_id IS NOT NULL GROUP BY a.incident_id;

CREATE TRIGGER alerts_summarise AFTER INSERT ON alerts
WHEN NEW.incident_id IS NOT NULL
BEGIN
    INSERT INTO incident_alerts (incident_id, alerts, repeats, last_status, last_at)
    VALUES (NEW.incident_id, 1, NEW.outcome = 'repeated', NEW.status, NEW.received_at)
    ON CONFLICT (incident_id) DO UPDATE SET
        alerts = alerts + 1,
        repeats = repeats + excluded.repeats,
        last_status = excluded.last_status,
        last_at = excluded.last_at;
END;

-- The per-incident lookups (last status, "has alerts") now read incident_alerts; this index
-- made every alert insert dirty a random page.
DROP INDEX alerts_incident;
