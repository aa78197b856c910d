-- Fleet-wide roles (store/roles.rs): the replica holding a role's lease runs the jobs that must
-- run once across every process on this database (approval expiry, retention, notifications).
-- It renews the lease while alive; a replica that stops renewing loses it when it expires.
CREATE TABLE IF NOT EXISTS roles (
    name     TEXT PRIMARY KEY,
    owner    TEXT NOT NULL,
    expires  TEXT NOT NULL
);
