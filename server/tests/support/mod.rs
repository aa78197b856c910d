//! Helpers shared by integration tests (and benches, by path).

pub mod fleet;
pub mod pg;
pub mod replica;
