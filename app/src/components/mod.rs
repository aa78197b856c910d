//! Reusable view components, grouped by feature.
