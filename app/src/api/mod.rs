//! Server functions, one per file, grouped by feature. Each body runs on the server and calls
//! the [`crate::backend::Backend`] port; in the browser they are HTTP calls. Wire types live
//! next to the functions that return them.

pub mod changes;
pub mod eval;
pub mod incidents;
pub mod scenarios;
pub mod session;
pub mod settings;
