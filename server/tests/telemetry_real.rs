//! A real alert investigated with real telemetry, end to end on loopback: history for a bad
//! deploy is loaded into a real Prometheus (`promtool tsdb create-blocks-from openmetrics`) or
//! a real VictoriaMetrics (`/api/v1/import`), error lines go to a log file, the deploy is
//! posted to `/webhooks/change` and committed to a local git repository, with innocent
//! changes nearby. In the Prometheus case a real alert rule fires through a real Alertmanager
//! into Sentinel; the diagnosis must name the deploy, from the metrics (errors only on the
//! new version's instances), the logs and the change history.
//!
//! Needs Debian's `prometheus` (with `promtool`), `prometheus-alertmanager` and
//! `victoria-metrics`; `scripts/setup.sh --test` installs them. Missing binaries fail the
//! test (set `SENTINEL_SKIP_REAL_BACKENDS=1` to skip on a machine without them).

mod common;
mod support;

use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};
use support::fleet::*;

/// Waits for the incident of `service` to reach a proposal, then checks the diagnosis.
async fn assert_diagnosed(state: &sentinel::http::AppState, case: Case, rule: bool) -> Value {
    let service = case.alert_service();
    let store = state.sentinel.store.clone();
    let found = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    wait_for(
        "the incident to reach its remediation proposal",
        Duration::from_secs(90),
        || {
            let store = store.clone();
            let found = found.clone();
            async move {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT id, status FROM incidents WHERE service = ? ORDER BY created_at",
                )
                .bind(service)
                .fetch_all(store.pool())
                .await
                .unwrap();
                match rows.first() {
                    Some((i, status)) if status != "open" && status != "investigating" => {
                        *found.lock().unwrap() = i.clone();
                        true
                    }
                    _ => false,
                }
            }
        },
    )
    .await;
    let id = found.lock().unwrap().clone();
    let rec = state
        .sentinel
        .store
        .get_incident(&id)
        .await
        .unwrap()
        .unwrap();
    let report = serde_json::to_value(&rec.report).unwrap();
    let events = state
        .sentinel
        .store
        .events_after(Some(&id), 0, 10_000)
        .await
        .unwrap();
    let results: Vec<(String, bool, Value)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            app::model::RunEventKind::ToolResult {
                tool, ok, result, ..
            } => Some((tool.clone(), *ok, result.clone())),
            _ => None,
        })
        .collect();
    if std::env::var_os("SENTINEL_TEST_LOGS").is_some() {
        for (t, _, r) in &results {
            if t == "list_recent_deploys" || t == "list_changes" {
                eprintln!("{t}: {r}");
            }
        }
    }
    for tool in [
        "fetch_logs",
        "list_recent_deploys",
        "list_changes",
        "query_metrics",
    ] {
        let r = results
            .iter()
            .find(|(t, _, _)| t == tool)
            .unwrap_or_else(|| panic!("{tool} was not called: {report}"));
        assert!(r.1, "{tool} failed: {}", r.2);
    }
    let metrics = &results
        .iter()
        .find(|(t, _, _)| t == "query_metrics")
        .unwrap()
        .2;
    let names: Vec<&str> = metrics["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["metric"].as_str())
        .collect();
    assert!(names.contains(&"request_rate"), "{names:?}");
    // Through a real Prometheus the alert carries its rule: its expression is read too.
    assert_eq!(names.contains(&"alert_symptom"), rule, "{names:?}");
    assert_eq!(
        report["telemetry"],
        json!({"consulted": ["logs", "changes", "metrics"], "unavailable": []}),
        "{report:#}"
    );
    if case == Case::BadDeploy {
        assert!(
            names.contains(&"error_ratio{version=\"v2.4.0\"}"),
            "errors split by version: {names:?}"
        );
    }
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alert_through_prometheus_and_alertmanager_names_the_bad_deploy() {
    through_prometheus(Case::BadDeploy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_alert_names_the_upstream_service_and_its_deploy() {
    through_prometheus(Case::UpstreamDeploy).await;
}

/// The case's history in a real Prometheus whose rule fires through a real Alertmanager.
async fn through_prometheus(case: Case) {
    if !require(&["prometheus", "promtool", "prometheus-alertmanager"]) {
        return;
    }
    let http = reqwest::Client::new();
    let work = tempfile::tempdir().unwrap();
    let prom_port = free_port();
    let am_port = free_port();
    let prom_url = format!("http://127.0.0.1:{prom_port}");
    let (f, sha) = fleet(case, &prom_url);

    // Sentinel first: Alertmanager delivers to it.
    let (sentinel_url, state) =
        start_sentinel(common::test_config(work.path()), work.path(), &f.config).await;
    post_changes(&http, &sentinel_url, &f, &sha).await;

    // History into TSDB blocks, before Prometheus starts.
    let tsdb = work.path().join("tsdb");
    let om = work.path().join("history.om");
    std::fs::write(&om, openmetrics(&history(case, f.now, f.deploy), f.now)).unwrap();
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&tsdb)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Alertmanager → Sentinel.
    let am_cfg = work.path().join("am.yml");
    std::fs::write(
        &am_cfg,
        format!(
            r#"route:
  receiver: sentinel
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: sentinel
    webhook_configs:
      - url: {sentinel_url}/webhooks/alertmanager
        http_config:
          authorization:
            type: Bearer
            credentials: {TOKEN}
"#
        ),
    )
    .unwrap();
    let _am = spawn(
        "alertmanager",
        work.path(),
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", am_cfg.display()))
            .arg(format!(
                "--storage.path={}",
                work.path().join("am").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            .arg("--cluster.listen-address="),
    );

    // Prometheus with the alert rule, sending to Alertmanager.
    std::fs::write(
        work.path().join("rules.yml"),
        format!(
            r#"groups:
  - name: fleet
    interval: 5s
    rules:
      - alert: HighErrorRate
        expr: {}
        labels:
          severity: critical
        annotations:
          summary: {} is failing more than 5% of its requests
"#,
            case.rule(),
            case.alert_service()
        ),
    )
    .unwrap();
    let prom_cfg = work.path().join("prometheus.yml");
    std::fs::write(
        &prom_cfg,
        format!(
            "global:\n  evaluation_interval: 5s\nrule_files: ['{}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n",
            work.path().join("rules.yml").display()
        ),
    )
    .unwrap();
    let _prom = spawn(
        "prometheus",
        work.path(),
        Command::new("prometheus")
            .arg(format!("--config.file={}", prom_cfg.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg("--storage.tsdb.retention.time=100y")
            // The first notification goes out before the Alertmanager target is discovered;
            // re-send soon instead of after the default minute.
            .arg("--rules.alert.resend-delay=2s")
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}")),
    );
    wait_for("prometheus ready", Duration::from_secs(30), || {
        ready(&http, format!("{prom_url}/-/ready"))
    })
    .await;
    wait_for("alertmanager ready", Duration::from_secs(30), || {
        ready(&http, format!("http://127.0.0.1:{am_port}/-/ready"))
    })
    .await;

    let t0 = Instant::now();
    wait_for(
        "the alert to reach Sentinel",
        Duration::from_secs(120),
        || {
            let store = state.sentinel.store.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM incidents WHERE service = ?")
                    .bind(case.alert_service())
                    .fetch_one(store.pool())
                    .await
                    .unwrap_or(0)
                    > 0
            }
        },
    )
    .await;
    eprintln!(
        "alert → incident after {:?} (rule evaluation and Alertmanager delivery)",
        t0.elapsed()
    );
    let report = assert_diagnosed(&state, case, true).await;
    eprintln!("incident → proposal within {:?}", t0.elapsed());
    // An alert that came without its generatorURL finds its rule by name (`/api/v1/rules`).
    let prom = sentinel::telemetry::prometheus::PrometheusMetrics::new(
        &prom_url,
        None,
        sentinel::telemetry::http_client(Duration::from_secs(5), vec![]).unwrap(),
        Default::default(),
    )
    .unwrap();
    let expr = prom.rule_query("HighErrorRate").await.unwrap().unwrap();
    assert!(
        expr.contains("http_requests_total") && expr.contains(case.alert_service()),
        "{expr}"
    );
    assert_eq!(prom.rule_query("NoSuchAlert").await.unwrap(), None);
    // Discovery through `/api/v1/labels` and `/api/v1/series` on the same server.
    let (start, end) = (
        chrono::Utc::now() - chrono::Duration::hours(2),
        chrono::Utc::now(),
    );
    let m = format!("service=\"{}\"", case.alert_service());
    let labels = prom.labels(&m, start, end).await.unwrap();
    assert!(
        labels.contains("version") && labels.contains("code"),
        "{labels:?}"
    );
    let names = prom.series_names(&m, start, end).await.unwrap();
    assert!(names.contains("http_requests_total"), "{names:?}");
    let d = &report["diagnosis"];
    assert_eq!(d["suspect_deploy"], case.culprit(), "{report:#}");
    assert_eq!(d["origin_service"], case.origin(), "{report:#}");
    assert_eq!(report["remediation"]["action"], "rollback", "{report:#}");
    assert_eq!(report["remediation"]["target"], case.culprit());
    assert_eq!(report["status"], "awaiting_approval");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_fleet_behind_victoriametrics_names_the_bad_deploy() {
    if !require(&["victoria-metrics"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let Rig {
        http,
        _vm,
        f,
        sha,
        sentinel_url,
        state,
    } = victoria_rig(work.path()).await;
    post_changes(&http, &sentinel_url, &f, &sha).await;
    post_alert(&http, &sentinel_url, &f).await;
    let report = assert_diagnosed(&state, Case::BadDeploy, false).await;
    assert_eq!(
        report["diagnosis"]["suspect_deploy"], "deploy-checkout-v2.4.0",
        "{report:#}"
    );
}

/// The bad deploy's fleet behind VictoriaMetrics, and Sentinel configured for it.
struct Rig {
    http: reqwest::Client,
    _vm: Proc,
    f: Fleet,
    sha: String,
    sentinel_url: String,
    state: sentinel::http::AppState,
}

async fn victoria_rig(work: &std::path::Path) -> Rig {
    let http = reqwest::Client::new();
    let port = free_port();
    let (f, sha) = fleet(Case::BadDeploy, &format!("http://127.0.0.1:{port}"));
    let _vm = start_victoria(&http, work, port, &f).await;
    let (sentinel_url, state) = start_sentinel(common::test_config(work), work, &f.config).await;
    Rig {
        http,
        _vm,
        f,
        sha,
        sentinel_url,
        state,
    }
}

/// VictoriaMetrics on `port` with the bad deploy's history imported and queryable.
async fn start_victoria(
    http: &reqwest::Client,
    dir: &std::path::Path,
    port: u16,
    f: &Fleet,
) -> Proc {
    let vm_url = format!("http://127.0.0.1:{port}");
    let vm = spawn(
        "victoria-metrics",
        dir,
        Command::new("victoria-metrics")
            .arg(format!("-storageDataPath={}", dir.join("vm").display()))
            .arg("-retentionPeriod=100y")
            .arg(format!("-httpListenAddr=127.0.0.1:{port}")),
    );
    wait_for("victoria-metrics ready", Duration::from_secs(30), || {
        ready(http, format!("{vm_url}/health"))
    })
    .await;
    let r = http
        .post(format!("{vm_url}/api/v1/import"))
        .body(victoria_import(
            &history(Case::BadDeploy, f.now, f.deploy),
            f.now,
        ))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "import: {}", r.status());
    let q = format!("{vm_url}/api/v1/query?query=count(http_requests_total)");
    wait_for(
        "imported samples queryable",
        Duration::from_secs(30),
        || {
            let http = http.clone();
            let q = q.clone();
            async move {
                let Ok(r) = http.get(q).send().await else {
                    return false;
                };
                r.json::<Value>()
                    .await
                    .is_ok_and(|v| v["data"]["result"][0]["value"][1].as_str() == Some("6"))
            }
        },
    )
    .await;

    vm
}

/// The alert as Alertmanager would deliver it.
async fn post_alert(http: &reqwest::Client, sentinel_url: &str, f: &Fleet) {
    let r = http
        .post(format!("{sentinel_url}/webhooks/alertmanager"))
        .bearer_auth(TOKEN)
        .json(&json!({
            "version": "4", "status": "firing", "receiver": "sentinel", "groupKey": "{}:{alertname=\"CheckoutHighErrorRate\"}",
            "groupLabels": {"alertname": "CheckoutHighErrorRate"}, "commonLabels": {"alertname": "CheckoutHighErrorRate", "service": "checkout", "severity": "critical"},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.invalid",
            "alerts": [{"status": "firing", "labels": {"alertname": "CheckoutHighErrorRate", "service": "checkout", "severity": "critical"},
                        "annotations": {"summary": "checkout is failing more than 5% of its requests"},
                        "startsAt": f.now.to_rfc3339(), "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "c0ffee"}]
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

/// No deploy event announced v2.4.0: the new `version` label value in the metrics is the
/// deploy, and the diagnosis names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unannounced_version_in_the_metrics_counts_as_the_deploy() {
    if !require(&["victoria-metrics"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let Rig {
        http,
        _vm,
        f,
        sha,
        sentinel_url,
        state,
    } = victoria_rig(work.path()).await;
    post_changes_but(
        &http,
        &sentinel_url,
        &f,
        &sha,
        Some(Case::BadDeploy.culprit()),
    )
    .await;
    post_alert(&http, &sentinel_url, &f).await;
    let report = assert_diagnosed(&state, Case::BadDeploy, false).await;
    assert_eq!(
        report["diagnosis"]["suspect_deploy"], "version-checkout-v2.4.0",
        "{:#}",
        report["diagnosis"]
    );
}
