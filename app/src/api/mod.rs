//! Server functions, one per file, grouped by feature. Each body runs on the server and calls
//! the [`crate::backend::Backend`] port; in the browser they are HTTP calls.

pub mod scenarios;
