//! Sentinel's engine: everything but the web front end — the agents and their runner, the
//! offline analysis engine, tools, LLM providers, memory, evaluation, alert normalisation and
//! the ingestion writer, the store, telemetry, configuration and the composition root. It has
//! no Leptos and no HTTP server in its build (`cargo tree -p sentinel-engine -e normal`); the
//! `sentinel-server` crate adds the dashboard, the REST API, the webhooks and the CLI on top.

pub mod agents;
pub mod bootstrap;
pub mod config;
pub mod engine;
pub mod eval;
pub mod ingest;
pub mod llm;
pub mod mcp;
pub mod memory;
pub mod notify;
pub mod queue;
pub mod redact;
pub mod roles;
pub mod runs;
pub mod scenario;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod tools;
