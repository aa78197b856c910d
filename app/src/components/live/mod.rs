//! Components of the live incident view (also used to replay a past incident).

mod agent_board;
mod approval_overlay;
mod charts;
mod event_feed;
mod evidence;
mod notifications;
mod postmortem;
mod resolution;

pub use agent_board::*;
pub use approval_overlay::*;
pub use charts::MetricCharts;
pub use event_feed::*;
pub use evidence::*;
pub use notifications::*;
pub use postmortem::*;
pub use resolution::*;
