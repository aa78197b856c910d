//! Sentinel's server: the HTTP application that serves the Leptos dashboard, the REST API,
//! the event streams and the webhooks ([`http`]), and the command line ([`cli`]), over the
//! engine crate (`sentinel-engine`), whose modules are re-exported here under their own
//! names. The binary in `main.rs` is a thin shell over [`cli`].

#![recursion_limit = "512"]

pub use sentinel_engine::{
    agents, bootstrap, config, engine, eval, ingest, llm, mcp, memory, notify, queue, redact,
    roles, runs, scenario, service, store, telemetry, tools,
};

pub mod cli;
pub mod http;
pub mod lab;
pub mod lab_eval;
