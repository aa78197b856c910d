//! Change-list server functions.

mod list_changes;
pub use list_changes::*;
