//! Alert ingestion: each source's native payload is verified, normalised into an [`Alert`]
//! and persisted before the caller gets its 202.

pub mod generic;
