//! Shared helpers for integration tests: a fresh Sentinel on a temp database, repo paths.
#![allow(dead_code)]

use sentinel::config::{Config, ModelConfig};
use std::path::PathBuf;
use std::time::Duration;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A config pointing at the repo's data and a fresh database in `dir`.
pub fn test_config(dir: &std::path::Path) -> Config {
    let root = repo_root();
    Config {
        data_dir: dir.to_path_buf(),
        database_url: format!("sqlite://{}", dir.join("test.db").display()),
        scenarios_dir: root.join("data/scenarios"),
        services_dir: root.join("data/services"),
        site_root: root.join("target/site"),
        models: ModelConfig::builtin(),
        tool_call_cap: 15,
        approval_timeout: Duration::from_secs(900),
        operator_token: Some("test-operator-token".into()),
        alert_retention_days: 30,
        http: Default::default(),
    }
}
