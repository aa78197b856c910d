//! Jobs that must run once across every `sentinel serve` replica on one database: approval
//! expiry, alert retention, session pruning and notifications. Each replica runs a
//! [`Leadership`] task that claims (and keeps renewing) the [`PERIODIC`] role in the store;
//! the jobs do their work only while their replica holds it. A replica that dies stops
//! renewing and another one takes the role within [`ROLE_TTL`]; one that shuts down cleanly
//! gives it up at once. With one process (SQLite's usual case) it simply always holds it.
//!
//! Not a consensus protocol: a holder frozen for longer than the TTL (a stopped VM) can
//! overlap with its successor for one renewal period. The jobs tolerate that — expiry and
//! decisions are conditional updates in the database, pruning is idempotent — except that a
//! notification could then be sent twice.

use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The role of the once-per-fleet periodic jobs.
pub const PERIODIC: &str = "periodic";
/// How long a role lease lasts without renewal.
pub const ROLE_TTL: Duration = Duration::from_secs(10);
/// How often the holder renews it and the others try to take it.
pub const RENEW_EVERY: Duration = Duration::from_secs(2);

/// Whether this process holds [`PERIODIC`]; cheap to clone.
#[derive(Clone)]
pub struct Leadership {
    rx: watch::Receiver<bool>,
    _task: Arc<crate::runs::AbortOnDrop>,
}

impl Leadership {
    /// Claims the role for `owner` (returning once the first claim is settled, so a caller
    /// can start the role's jobs before it serves) and then every [`RENEW_EVERY`].
    pub async fn start(store: Store, owner: String) -> Self {
        let claim = async |store: &Store, owner: &str| match store
            .claim_role(PERIODIC, owner, ROLE_TTL)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                // Cannot tell: step down rather than risk running twice.
                tracing::warn!(error = %e, "could not renew the periodic-jobs role");
                false
            }
        };
        let (tx, rx) = watch::channel(claim(&store, &owner).await);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(RENEW_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is now: claimed above
            loop {
                tick.tick().await;
                let held = claim(&store, &owner).await;
                if *tx.borrow() != held {
                    tracing::info!(owner = %owner, held, "periodic-jobs role changed hands");
                }
                tx.send_replace(held);
            }
        });
        Self {
            rx,
            _task: Arc::new(crate::runs::AbortOnDrop(task)),
        }
    }

    /// Whether this process holds the role now.
    pub fn held(&self) -> bool {
        *self.rx.borrow()
    }

    /// Runs `job` at every tick of a `period` interval (the first tick at once) while this
    /// process holds the role; ticks while it does not are skipped. The fleet's periodic jobs
    /// (expiry, retention, pruning) go through here, so each runs on one replica at a time.
    pub fn every<F, Fut>(&self, period: Duration, mut job: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let leader = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                if leader.held() {
                    job().await;
                }
            }
        });
    }

    /// Waits until the role is `held` (true) or lost (false).
    pub async fn until(&mut self, held: bool) {
        let _ = self.rx.wait_for(|h| *h == held).await;
    }
}
