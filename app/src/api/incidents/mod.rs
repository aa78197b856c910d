//! Incident server functions and their wire types.

mod decide_approval;
mod get_incident_view;
mod get_run_report;
mod list_incidents;
mod live_snapshot;

pub use decide_approval::*;
pub use get_incident_view::*;
pub use get_run_report::*;
pub use list_incidents::*;
pub use live_snapshot::*;
