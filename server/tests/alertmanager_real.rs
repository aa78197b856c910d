//! Against a real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, installed by
//! `scripts/setup.sh --test`): it runs on a loopback port with Sentinel as its webhook
//! receiver (bearer token through `http_config`), alerts are posted to its `/api/v2/alerts`,
//! and Sentinel must open one incident per group, deduplicate the re-sent group and record
//! the resolve. Skips (with a message) when the binary is not installed.

mod common;
mod support;

use sentinel::http::Application;
use sentinel::ingest::IngestConfig;
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::fleet::{free_port, spawn, wait_for};

const TOKEN: &str = "am-real-token";

#[tokio::test]
async fn real_alertmanager_delivers_dedups_and_resolves() {
    let bin = "prometheus-alertmanager";
    if Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!(
            "SKIP real_alertmanager_delivers_dedups_and_resolves: {bin} is not on PATH \
             (scripts/setup.sh --test installs it)"
        );
        return;
    }

    // Sentinel with a webhook token.
    let dir = tempfile::tempdir().unwrap();
    let app = Application::build_with(
        common::test_config(dir.path()),
        "127.0.0.1:0".parse().unwrap(),
        IngestConfig {
            webhook_token: Some(TOKEN.into()),
            ..IngestConfig::default()
        },
    )
    .await
    .unwrap();
    let sentinel_url = format!("http://{}", app.addr);
    let state = app.state.clone();
    tokio::spawn(app.run());
    let pool = state.sentinel.store.pool().clone();

    // Alertmanager: group by alertname, deliver fast, re-send a still-firing group every 2 s.
    let am_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = format!(
        r#"global:
  resolve_timeout: 5m
route:
  receiver: sentinel
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: sentinel
    webhook_configs:
      - url: {sentinel_url}/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {TOKEN}
"#
    );
    let cfg_path = am_dir.path().join("alertmanager.yml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let am_url = format!("http://127.0.0.1:{port}");
    // Killed when the test ends, panics included (its log is printed then).
    let _guard = spawn(
        "alertmanager",
        am_dir.path(),
        Command::new(bin)
            .arg(format!("--config.file={}", cfg_path.display()))
            .arg(format!(
                "--storage.path={}",
                am_dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg(format!("--web.external-url={am_url}")),
    );
    let http = reqwest::Client::new();
    wait_for("alertmanager ready", Duration::from_secs(30), || {
        let http = http.clone();
        let url = format!("{am_url}/-/ready");
        async move {
            http.get(url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;

    // Two groups (two alertnames).
    let started = chrono::Utc::now() - chrono::Duration::minutes(1);
    let alert = |name: &str,
                 service: &str,
                 severity: &str,
                 ends: Option<chrono::DateTime<chrono::Utc>>| {
        let mut a = json!({
            "labels": {"alertname": name, "service": service, "severity": severity, "instance": "10.0.0.7:9100"},
            "annotations": {"summary": format!("{name} on {service}"), "value": "0.31", "threshold": "0.05"},
            "startsAt": started.to_rfc3339(),
            "generatorURL": "http://prometheus.invalid/graph"
        });
        if let Some(e) = ends {
            a["endsAt"] = json!(e.to_rfc3339());
        }
        a
    };
    let r = http
        .post(format!("{am_url}/api/v2/alerts"))
        .json(&json!([
            alert("HighErrorRate", "payment-service", "critical", None),
            alert("HighErrorRate", "checkout-service", "critical", None),
            alert("DiskFillingUp", "order-service", "warning", None),
        ]))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "alertmanager refused: {}",
        r.status()
    );

    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    wait_for(
        "two incidents from alertmanager",
        Duration::from_secs(30),
        || async {
            count("SELECT count(*) FROM incidents WHERE fingerprint LIKE 'alertmanager:%'").await
                >= 2
        },
    )
    .await;

    // repeat_interval re-sends both groups: repeats, never new incidents.
    wait_for(
        "a repeated notification",
        Duration::from_secs(30),
        || async { count("SELECT coalesce(max(repeats), 0) FROM incident_alerts").await >= 1 },
    )
    .await;
    assert_eq!(
        count("SELECT count(*) FROM incidents").await,
        2,
        "one incident per group"
    );
    // group_by alertname: both HighErrorRate alerts are in one group, hence one incident.
    let pay: String = sqlx::query_scalar(
        "SELECT id FROM incidents WHERE service IN ('payment-service', 'checkout-service')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let services: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT json_extract(payload_json, '$.alert.service') FROM alerts WHERE incident_id = ? ORDER BY 1",
    )
    .bind(&pay)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(services, ["checkout-service", "payment-service"]);

    // Resolve the group: post both of its alerts again with endsAt = now.
    let now = chrono::Utc::now();
    let r = http
        .post(format!("{am_url}/api/v2/alerts"))
        .json(&json!([
            alert("HighErrorRate", "payment-service", "critical", Some(now)),
            alert("HighErrorRate", "checkout-service", "critical", Some(now)),
        ]))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    wait_for("the resolve", Duration::from_secs(30), || async {
        count("SELECT count(*) FROM alerts WHERE status = 'resolved'").await >= 1
    })
    .await;
    let resolved_on: String =
        sqlx::query_scalar("SELECT incident_id FROM alerts WHERE status = 'resolved' LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(resolved_on, pay);
    let events = state
        .sentinel
        .store
        .events_after(Some(&pay), 0, 10_000)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert!(kinds.contains(&"alert_resolved"), "{kinds:?}");
    assert!(kinds.contains(&"alert_repeated"), "{kinds:?}");
    assert_eq!(count("SELECT count(*) FROM incidents").await, 2);
    let detail: Value = http
        .get(format!("{sentinel_url}/api/incidents/{pay}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(detail["alert_count"].as_i64().unwrap() >= 2, "{detail}");
}
