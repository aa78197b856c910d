//! Who runs which incident, so every incident reaches a final state or a live pending
//! approval whatever the timing of decisions and crashes.
//!
//! Two layers. In this process, [`RunClaims`] lets one run per incident go at a time; a run
//! asked for while another is under way (a decision landing as the gate opens, a sweep
//! meeting a queued run) is remembered and done right after, never dropped. Across
//! processes, the incident row carries a lease (`lease_owner`, `lease_expires`) the runner
//! renews while it works ([`LEASE_TTL`], renewed every [`HEARTBEAT`]). A crash stops the
//! renewals; the recovery sweep (`Sentinel::recover`, at start and every
//! [`RECOVERY_EVERY`]) continues every incident whose lease expired or whose owner is a
//! process of this machine that no longer exists, from its checkpoint.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long a lease lasts without renewal. A crashed runner on another machine delays its
/// incidents by at most this much; on this machine a dead owner is recognised at once.
pub const LEASE_TTL: Duration = Duration::from_secs(15);
/// How often a running incident renews its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// How often the recovery sweep looks for incidents nobody is running.
pub const RECOVERY_EVERY: Duration = Duration::from_secs(2);
/// An `open` incident nobody has leased yet is left to its creator this long (it is about to
/// be queued or run) before the sweep takes it.
pub const OPEN_GRACE: Duration = Duration::from_secs(2);

/// The runs under way in this process.
pub struct RunClaims {
    /// This process's lease-owner id: `host/pid/nonce`.
    pub owner: String,
    /// Incident id → whether another run was asked for while this one was under way.
    active: Mutex<HashMap<String, bool>>,
}

impl Default for RunClaims {
    fn default() -> Self {
        Self {
            owner: owner_id(),
            active: Mutex::new(HashMap::new()),
        }
    }
}

impl RunClaims {
    /// Claims `id` for a run. False if a run is already under way here: it is told to run
    /// once more when it ends, so what the caller wanted (apply a decision, continue after a
    /// crash) still happens.
    pub fn begin(&self, id: &str) -> bool {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        match active.get_mut(id) {
            Some(again) => {
                *again = true;
                false
            }
            None => {
                active.insert(id.to_string(), false);
                true
            }
        }
    }

    /// Ends a run. True if another run was asked for meanwhile (the claim is then kept for
    /// it, and the caller runs again).
    pub fn end(&self, id: &str) -> bool {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        match active.get_mut(id) {
            Some(again) if *again => {
                *again = false;
                true
            }
            _ => {
                active.remove(id);
                false
            }
        }
    }

    pub fn is_active(&self, id: &str) -> bool {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(id)
    }
}

/// Removes a claim when its run is dropped without ending (a panic), unless disarmed.
pub struct ClaimGuard<'a> {
    claims: &'a RunClaims,
    id: &'a str,
    armed: std::cell::Cell<bool>,
}

impl<'a> ClaimGuard<'a> {
    pub fn new(claims: &'a RunClaims, id: &'a str) -> Self {
        Self {
            claims,
            id,
            armed: std::cell::Cell::new(true),
        }
    }

    /// The run ended normally (the claim was released by [`RunClaims::end`]).
    pub fn disarm(&self) {
        self.armed.set(false);
    }
}

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        if self.armed.get() {
            self.claims
                .active
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(self.id);
        }
    }
}

/// A background task that stops with its owner (the lease heartbeat of a run).
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `host/pid/nonce`: the nonce tells this process from an earlier one that had the same pid
/// (a container's pid 1 after a restart).
fn owner_id() -> String {
    format!(
        "{}/{}/{}",
        hostname(),
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Whether `owner` names a process of this machine that is gone: another pid with no
/// `/proc/<pid>`, or this pid with another nonce (an earlier life of it). Owners on other
/// machines, or whose liveness cannot be told, are not dead: their lease runs out instead.
pub fn owner_is_dead(owner: &str, me: &str) -> bool {
    let mut mine = me.splitn(3, '/');
    let (my_host, my_pid) = (mine.next(), mine.next());
    let mut it = owner.splitn(3, '/');
    let (Some(host), Some(pid), Some(_nonce)) = (it.next(), it.next(), it.next()) else {
        return false;
    };
    if Some(host) != my_host || !std::path::Path::new("/proc/self").exists() {
        return false;
    }
    if Some(pid) == my_pid {
        return owner != me;
    }
    pid.parse::<u32>()
        .is_ok_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_asked_for_during_another_is_kept_not_dropped() {
        let c = RunClaims::default();
        assert!(c.begin("inc-1"));
        assert!(!c.begin("inc-1"), "one run at a time");
        assert!(c.is_active("inc-1"));
        assert!(c.end("inc-1"), "the second request runs after the first");
        assert!(c.is_active("inc-1"));
        assert!(!c.end("inc-1"));
        assert!(!c.is_active("inc-1"));
        assert!(c.begin("inc-1"));
    }

    #[test]
    fn a_run_that_panics_gives_its_claim_back() {
        let c = RunClaims::default();
        assert!(c.begin("inc-2"));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = ClaimGuard::new(&c, "inc-2");
            panic!("boom");
        }));
        assert!(r.is_err());
        assert!(!c.is_active("inc-2"), "the claim outlived its panicked run");
        assert!(c.begin("inc-2"));
        let guard = ClaimGuard::new(&c, "inc-2");
        assert!(!c.end("inc-2"));
        guard.disarm();
        assert!(c.begin("inc-2"), "the next run claims it");
        drop(guard);
        assert!(
            c.is_active("inc-2"),
            "a disarmed guard took the next run's claim away"
        );
    }

    #[test]
    fn dead_owners_are_recognised_on_this_machine_only() {
        let me = owner_id();
        let host = me.split('/').next().unwrap();
        assert!(!owner_is_dead(&me, &me));
        // An earlier life of this pid.
        let pid = std::process::id();
        assert!(owner_is_dead(&format!("{host}/{pid}/00000000"), &me));
        // A pid that cannot exist (above the kernel's pid_max).
        assert!(owner_is_dead(&format!("{host}/99999999/abcd"), &me));
        // A live process (pid 1 always exists).
        assert!(!owner_is_dead(&format!("{host}/1/abcd"), &me));
        // Another machine: only its lease expiry tells.
        assert!(!owner_is_dead("elsewhere/99999999/abcd", &me));
        assert!(!owner_is_dead("garbage", &me));
    }
}
