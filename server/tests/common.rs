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
    let mut c = Config::defaults(dir);
    c.database_url = format!("sqlite://{}", dir.join("test.db").display());
    c.scenarios_dir = root.join("data/scenarios");
    c.services_dir = root.join("data/services");
    c.site_root = root.join("target/site");
    c.models = ModelConfig::builtin();
    c.approval_timeout = Duration::from_secs(900);
    c.operator_token = Some("test-operator-token".into());
    c
}
