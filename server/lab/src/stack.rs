//! The monitoring stack around the fleet: the configuration files of Sentinel (metrics from
//! the lab's Prometheus, the fleet's log files and repositories, the executor as the outbound
//! webhook of decisions), Prometheus (scrape the fleet, the alert rules of
//! `deploy/rules.yml`) and Alertmanager (Sentinel as the receiver), written by one function
//! for `scripts/lab.sh` (through `sentinel lab stack-config`) and `sentinel lab eval`, and
//! the two monitoring processes themselves.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The alert rules, shipped in the repository (`server/lab/deploy/rules.yml`).
pub const RULES: &str = include_str!("../deploy/rules.yml");

#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub sentinel: u16,
    pub prometheus: u16,
    pub alertmanager: u16,
    pub control: u16,
    /// Service `i` of the catalogue serves `/metrics` on this port + `i`.
    pub metrics_base: u16,
}

/// Writes `sentinel.toml`, `prometheus.yml`, `alertmanager.yml` and `rules.yml` into `dir`;
/// the fleet's files are under `dir/fleet`.
pub fn write_configs(
    dir: &Path,
    services: &[String],
    ports: Ports,
    webhook_token: &str,
    executor_secret: &str,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let fleet = dir.join("fleet");
    let mut toml = format!(
        "[metrics]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:{}\"\ntimeout_secs = 5\n\n[logs]\nkind = \"files\"\npaths = [\"{}/logs/*.log\"]\n",
        ports.prometheus,
        fleet.display()
    );
    for s in services {
        toml.push_str(&format!(
            "\n[[changes.git]]\nservice = \"{s}\"\nrepo = \"{}/git/{s}\"\n",
            fleet.display()
        ));
    }
    toml.push_str(&format!(
        "\n[notify]\nbase_url = \"http://127.0.0.1:{}\"\n\n[notify.webhook]\nurl = \"http://127.0.0.1:{}/executor\"\nsecret = \"{executor_secret}\"\nevents = [\"incident.decided\"]\n",
        ports.sentinel, ports.control
    ));
    std::fs::write(dir.join("sentinel.toml"), toml)?;
    std::fs::write(dir.join("rules.yml"), RULES)?;
    let targets: Vec<String> = (0..services.len())
        .map(|i| format!("'127.0.0.1:{}'", ports.metrics_base + i as u16))
        .collect();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 2s\n  evaluation_interval: 5s\nrule_files: ['{}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{}']\nscrape_configs:\n  - job_name: fleet\n    honor_labels: true\n    static_configs:\n      - targets: [{}]\n",
            dir.join("rules.yml").display(),
            ports.alertmanager,
            targets.join(", ")
        ),
    )?;
    std::fs::write(
        dir.join("alertmanager.yml"),
        format!(
            "route:\n  receiver: sentinel\n  group_by: [alertname, service]\n  group_wait: 2s\n  group_interval: 10s\n  repeat_interval: 1h\nreceivers:\n  - name: sentinel\n    webhook_configs:\n      - url: http://127.0.0.1:{}/webhooks/alertmanager\n        send_resolved: true\n        http_config:\n          authorization:\n            type: Bearer\n            credentials: {webhook_token}\n",
            ports.sentinel
        ),
    )?;
    Ok(())
}

/// Prometheus and Alertmanager, started by [`Monitoring::spawn`] and killed when dropped.
pub struct Monitoring {
    _prometheus: tokio::process::Child,
    _alertmanager: tokio::process::Child,
}

fn spawn(bin: &str, args: &[String], log: PathBuf) -> Result<tokio::process::Child, String> {
    let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    tokio::process::Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {bin} ({e}); scripts/setup.sh --test installs it"))
}

impl Monitoring {
    /// Starts both on loopback with the files [`write_configs`] wrote, and waits until they
    /// answer (at most a minute).
    pub async fn spawn(dir: &Path, ports: Ports) -> Result<Self, String> {
        let am = spawn(
            "prometheus-alertmanager",
            &[
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
                format!("--storage.path={}", dir.join("am").display()),
                format!("--web.listen-address=127.0.0.1:{}", ports.alertmanager),
                "--cluster.listen-address=".into(),
            ],
            dir.join("alertmanager.log"),
        )?;
        let prom = spawn(
            "prometheus",
            &[
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
                "--rules.alert.resend-delay=2s".into(),
                format!("--web.listen-address=127.0.0.1:{}", ports.prometheus),
            ],
            dir.join("prometheus.log"),
        )?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        for (what, url) in [
            (
                "alertmanager",
                format!("http://127.0.0.1:{}/-/ready", ports.alertmanager),
            ),
            (
                "prometheus",
                format!("http://127.0.0.1:{}/-/ready", ports.prometheus),
            ),
        ] {
            let mut ok = false;
            for _ in 0..120 {
                if http
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    ok = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            if !ok {
                return Err(format!(
                    "{what} did not become ready; its log is {}",
                    dir.join(format!("{what}.log")).display()
                ));
            }
        }
        Ok(Self {
            _prometheus: prom,
            _alertmanager: am,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_wire_the_fleet_prometheus_alertmanager_and_sentinel_together() {
        let d = tempfile::tempdir().unwrap();
        let ports = Ports {
            sentinel: 1000,
            prometheus: 1001,
            alertmanager: 1002,
            control: 1003,
            metrics_base: 1010,
        };
        write_configs(d.path(), &["a".into(), "b".into()], ports, "tok", "sec").unwrap();
        let prom = std::fs::read_to_string(d.path().join("prometheus.yml")).unwrap();
        assert!(
            prom.contains("'127.0.0.1:1010', '127.0.0.1:1011'")
                && prom.contains("honor_labels: true"),
            "{prom}"
        );
        assert!(prom.contains("targets: ['127.0.0.1:1002']"));
        let am = std::fs::read_to_string(d.path().join("alertmanager.yml")).unwrap();
        assert!(
            am.contains("http://127.0.0.1:1000/webhooks/alertmanager")
                && am.contains("credentials: tok")
        );
        let toml = std::fs::read_to_string(d.path().join("sentinel.toml")).unwrap();
        assert!(
            toml.contains("url = \"http://127.0.0.1:1003/executor\"")
                && toml.contains("secret = \"sec\"")
        );
        assert!(toml.contains("repo = \"") && toml.contains("/fleet/git/b\""));
        assert!(
            std::fs::read_to_string(d.path().join("rules.yml"))
                .unwrap()
                .contains("HighErrorRate")
        );
    }
}
