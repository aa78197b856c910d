//! Reusable view components, grouped by feature.

pub mod common;
pub mod live;
