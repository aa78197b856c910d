//! Settings server functions.

mod get_settings;
pub use get_settings::*;
