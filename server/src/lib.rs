//! Sentinel's server side: the engine (agents, tools, LLM providers, memory, evaluation,
//! ingestion, store) and the HTTP application that serves the Leptos dashboard and the REST API.
//! The binary in `main.rs` is a thin shell over [`cli`].

#![recursion_limit = "512"]

pub mod agents;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod engine;

pub mod eval;
pub mod http;
pub mod ingest;
pub mod llm;
pub mod memory;
pub mod queue;
pub mod redact;
pub mod runs;
pub mod scenario;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod tools;
