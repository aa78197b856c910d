//! The MCP server against a real client: the official MCP Python SDK (PyPI `mcp`, installed by
//! `scripts/setup-mcp.sh` into `.tools/mcp`) connects to `sentinel mcp` over stdio and to
//! `sentinel serve`'s `POST /mcp` over streamable HTTP, lists the tools, calls them (a runbook,
//! an investigation over real log files, the incident list, telemetry) and checks the results
//! (`support/mcp_client.py`). Nothing leaves loopback.

mod common;

use sentinel::config::FileConfig;
use sentinel::http::Application;
use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> PathBuf {
    let py = common::repo_root().join(".tools/mcp/venv/bin/python");
    assert!(
        py.exists(),
        "the MCP Python SDK is not installed: run scripts/setup-mcp.sh (make test does)"
    );
    py
}

fn client() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/mcp_client.py")
}

/// A log file with a pool failure on payment-service in the last minutes, and the
/// configuration that reads it.
fn telemetry(dir: &Path) -> (PathBuf, String) {
    let now = chrono::Utc::now();
    let mut lines = String::new();
    for i in 0..30 {
        let ts = now - chrono::Duration::minutes(40 - i);
        let (level, msg) = if i < 20 {
            ("INFO", "POST /v1/charges 201 48ms".to_string())
        } else {
            (
                "ERROR",
                "HikariPool-1 - Connection is not available, request timed out after 30000ms (total=20, active=20, idle=0)".to_string(),
            )
        };
        lines.push_str(
            &serde_json::json!({ "ts": ts.to_rfc3339(), "level": level, "service": "payment-service", "message": msg })
                .to_string(),
        );
        lines.push('\n');
    }
    let log = dir.join("payment.log");
    std::fs::write(&log, lines).unwrap();
    let toml = format!(
        "[logs]\nkind = \"files\"\npaths = [{:?}]\n",
        log.display().to_string()
    );
    let cfg = dir.join("sentinel.toml");
    std::fs::write(&cfg, &toml).unwrap();
    (cfg, toml)
}

fn seen(out: std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the MCP client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap()
}

#[test]
fn the_python_sdk_drives_sentinel_mcp_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = telemetry(dir.path());
    let out = Command::new(python())
        .arg(client())
        .arg("stdio")
        .arg(env!("CARGO_BIN_EXE_sentinel"))
        .current_dir(common::repo_root())
        .env("SENTINEL_DATA_DIR", dir.path())
        .env("SENTINEL_CONFIG", &cfg)
        .env("SENTINEL_MODEL_DIR", dir.path().join("no-model"))
        .output()
        .unwrap();
    let v = seen(out);
    assert_eq!(v["mode"], "stdio");
    assert!(v["tools"].as_array().unwrap().len() >= 8, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_drives_the_streamable_http_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (path, toml) = telemetry(dir.path());
    let mut cfg = common::test_config(dir.path());
    cfg.file = FileConfig::parse(&path, &toml).unwrap();
    let token = cfg.operator_token.clone().unwrap();
    let app = Application::build(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{}/mcp", app.addr);
    tokio::spawn(app.run());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(client())
            .args(["http", &url, &token])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let v = seen(out);
    assert_eq!(v["mode"], "http");
    assert!(
        ["escalated", "resolved", "awaiting_approval"].contains(&v["status"].as_str().unwrap()),
        "{v}"
    );
}
