//! `sentinel serve` as a child process on a given database (one replica of a fleet), for the
//! fleet tests (`tests/replicas.rs`) and the fleet benchmark (`benches/fleet.rs`). The child
//! gets its own data directory, a free loopback port and fixed operator and webhook tokens; its
//! log goes to a file there ([`Replica::log`]); dropping it kills it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const OPERATOR: &str = "replica-test-operator-token";
pub const WEBHOOK: &str = "replica-test-webhook-token";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `sentinel serve` process with its own data directory; killed when dropped.
pub struct Replica {
    pub child: Child,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Replica {
    /// Starts `bin serve` and waits until `/health` answers.
    pub async fn start(bin: &str, database_url: &str, config: Option<&str>) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let root = repo_root();
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("SENTINEL_DATA_DIR", dir.path())
            .env("SENTINEL_DATABASE_URL", database_url)
            .env("SENTINEL_SCENARIOS_DIR", root.join("data/scenarios"))
            .env("SENTINEL_SERVICES_DIR", root.join("data/services"))
            .env("SENTINEL_OPERATOR_TOKEN", OPERATOR)
            .env("SENTINEL_WEBHOOK_TOKEN", WEBHOOK)
            .env("LEPTOS_SITE_ROOT", root.join("target/site"))
            .env("RUST_LOG", "info")
            .env_remove("SENTINEL_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(text) = config {
            let path = dir.path().join("sentinel.toml");
            std::fs::write(&path, text).unwrap();
            cmd.env("SENTINEL_CONFIG", path);
        }
        let child = cmd.spawn().unwrap();
        let r = Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = http.get(format!("{}/health", r.base)).send().await
                && res.status().is_success()
            {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "replica did not start:\n{}",
                r.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        // SIGKILL: no shutdown code runs, leases stay in the database as they were.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
