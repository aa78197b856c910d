//! Scenario server functions.

mod list_scenarios;
pub use list_scenarios::*;
