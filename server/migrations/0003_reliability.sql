-- Reliability and security (see ARCHITECTURE.md, "Invariants").
--
-- Run leases: the process running an incident holds a lease it renews while it works. A
-- crash leaves the lease to expire (or names a process that no longer exists), and the
-- recovery sweep continues the incident from its checkpoint. NULL: nobody runs it.
ALTER TABLE incidents ADD COLUMN lease_owner TEXT;
ALTER TABLE incidents ADD COLUMN lease_expires TEXT;
CREATE INDEX incidents_status ON incidents (status);

-- Operator sessions: random ids (only their SHA-256 is stored) with an expiry, tied to the
-- operator token they were opened with (`token_tag`), so rotating the token ends them;
-- logout deletes the row, so a copied cookie stops working.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    operator    TEXT NOT NULL,
    token_tag   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Signed webhook deliveries already accepted (PagerDuty `event.id`), so a captured delivery
-- cannot be replayed inside the freshness window; pruned after it.
CREATE TABLE webhook_deliveries (
    source       TEXT NOT NULL,
    delivery_id  TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (source, delivery_id)
) WITHOUT ROWID;
