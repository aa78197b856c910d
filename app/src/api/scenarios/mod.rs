//! Scenario server functions.

mod fire_scenario;
mod list_scenarios;
pub use fire_scenario::*;
pub use list_scenarios::*;
