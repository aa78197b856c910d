//! One module per page.

pub mod changes;
pub mod eval;
pub mod home;
pub mod incident;
pub mod incidents;
pub mod settings;
