//! Incident server functions and their wire types.

mod decide_approval;
mod get_incident_view;
mod list_incidents;
mod live_snapshot;
mod resolution_fragment;

pub use decide_approval::*;
pub use get_incident_view::*;
pub use list_incidents::*;
pub use live_snapshot::*;
pub use resolution_fragment::*;
