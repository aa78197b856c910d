//! A throw-away PostgreSQL server on a free loopback port in a temp dir (initdb, pg_ctl),
//! stopped when dropped. As root, the server runs as the `postgres` user (PostgreSQL refuses
//! root). Needs `initdb` and `pg_ctl` on PATH or in Debian's `/usr/lib/postgresql/*/bin`
//! (`scripts/setup.sh --test` installs the package when neither has them).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub struct Pg {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub url: String,
    root: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Debian keeps the server binaries off PATH, under `/usr/lib/postgresql/<version>/bin`.
const WITH_PG_PATH: &str =
    "PATH=\"$PATH:$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tr '\\n' ':')\"; export PATH; ";

fn run(root: bool, cmd: &str) -> std::process::Output {
    let cmd = &format!("{WITH_PG_PATH}{cmd}");
    let out = if root {
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", cmd])
            .output()
    } else {
        Command::new("sh").args(["-c", cmd]).output()
    }
    .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Pg {
    /// Whether PostgreSQL's tools are installed.
    pub fn available() -> bool {
        Command::new("sh")
            .args(["-c", &format!("{WITH_PG_PATH}initdb --version")])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    pub fn start() -> Pg {
        let dir = tempfile::tempdir().unwrap();
        let root = is_root();
        let data: PathBuf = dir.path().join("data");
        if root {
            let _ = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        run(
            root,
            &format!(
                "initdb -D {} -A trust -U sentinel >/dev/null",
                data.display()
            ),
        );
        run(
            root,
            &format!(
                "pg_ctl -D {} -l {}/pg.log -o \"-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off\" -w start >/dev/null",
                data.display(),
                dir.path().display(),
                dir.path().display()
            ),
        );
        Pg {
            url: format!("postgres://sentinel@127.0.0.1:{port}/postgres"),
            dir,
            port,
            root,
        }
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let cmd = format!(
            "{WITH_PG_PATH}pg_ctl -D {} -m immediate stop >/dev/null 2>&1",
            data.display()
        );
        let _ = if self.root {
            Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", &cmd])
                .status()
        } else {
            Command::new("sh").args(["-c", &cmd]).status()
        };
    }
}
