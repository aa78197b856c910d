//! The lab: a fleet of the catalogue's services that runs, so Sentinel can be watched catching
//! a fault in something live rather than in a frozen scenario file.
//!
//! [`fleet::Fleet`] simulates every service of the catalogue (several instances each, with a
//! `version`), its datastores and vendors, once a second: traffic with a daily shape and
//! noise flows along the dependency graph, so a failing dependency shows in its callers as
//! latency, timeouts and 5xx. Each service exposes `/metrics` in the Prometheus text format
//! ([`exposition`]) and writes log lines in its stack's format ([`logs`]); deploys and changes
//! are announced to Sentinel's `/webhooks/change` and committed to a git repository per
//! service ([`changes`]). [`faults`] holds the injectable fault kinds, each randomised by a
//! seed, with their ground truth — which stays in the lab: nothing Sentinel reads names a
//! fault. [`control`] is the HTTP API (inject, reset, state) and the **executor**: Sentinel's
//! signed `incident.decided` notice for an approved action changes the fleet (a rollback,
//! a flag off, a restart, more replicas, a forward fix), the one place an action Sentinel
//! proposed is carried out, and only after a human approved it.

pub mod catalog;
pub mod changes;
pub mod control;
pub mod exposition;
pub mod faults;
pub mod fleet;
pub mod logs;
pub mod stack;
