//! Fleet-wide roles: one lease per role name in the `roles` table, held by the process that
//! claimed it last and renews it before it expires. Several `sentinel serve` replicas on one
//! database use it so jobs that must run once (approval expiry, retention, notifications)
//! run on exactly one of them at a time; a replica that dies stops renewing and another one
//! takes the role when the lease runs out.

use super::*;
use chrono::Utc;

impl Store {
    /// Takes or renews `role` for `owner` until `now + ttl` if it is free, expired or already
    /// `owner`'s. One conditional upsert: two replicas claiming at once cannot both win.
    pub async fn claim_role(&self, role: &str, owner: &str, ttl: Duration) -> Result<bool> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(10));
        let affected = db!(
            self,
            write
                | p
                | sqlx::query(
                    "INSERT INTO roles (name, owner, expires) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires \
             WHERE roles.owner = excluded.owner OR roles.expires < $4",
                )
                .bind(role)
                .bind(owner)
                .bind(ts(until))
                .bind(ts(now))
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        )?;
        Ok(affected == 1)
    }

    /// Gives `role` up (only if `owner` holds it), so another replica takes it at once.
    pub async fn release_role(&self, role: &str, owner: &str) -> Result<()> {
        db!(
            self,
            write
                | p
                | sqlx::query("DELETE FROM roles WHERE name = $1 AND owner = $2")
                    .bind(role)
                    .bind(owner)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
        )?;
        Ok(())
    }

    /// Who holds `role`, if anyone holds an unexpired lease on it.
    pub async fn role_holder(&self, role: &str) -> Result<Option<String>> {
        let row: Option<(String, String)> = db!(
            self,
            read | p
                | sqlx::query_as("SELECT owner, expires FROM roles WHERE name = $1")
                    .bind(role)
                    .fetch_optional(p)
                    .await
        )?;
        Ok(row
            .filter(|(_, expires)| parse_ts(expires) > Utc::now())
            .map(|(owner, _)| owner))
    }
}
