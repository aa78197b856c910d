//! A fleet's telemetry for tests and benchmarks against real backends: metric history for a
//! bad deploy (or a gateway whose upstream's deploy broke it), log files, a git repository,
//! change events, and helpers that start Prometheus, Alertmanager, VictoriaMetrics and
//! Sentinel on loopback ports. Shared by `tests/telemetry_real.rs` and
//! `benches/real_backends.rs`.
#![allow(dead_code)]

use chrono::{DateTime, Duration as Dur, Utc};
use sentinel::config::FileConfig;
use sentinel::http::Application;
use sentinel::ingest::IngestConfig;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "telemetry-real-token";

pub struct Proc {
    pub name: &'static str,
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if (std::thread::panicking() || std::env::var_os("SENTINEL_TEST_LOGS").is_some())
            && let Ok(log) = std::fs::read_to_string(&self.log)
        {
            let tail: String = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!("--- {} log (tail) ---\n{tail}", self.name);
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the binaries are here; panics naming the install step unless skipping is asked for.
pub fn require(bins: &[&str]) -> bool {
    let missing: Vec<&str> = bins
        .iter()
        .copied()
        .filter(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_err()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("SENTINEL_SKIP_REAL_BACKENDS").is_some() {
        eprintln!("SKIP: {} not installed", missing.join(", "));
        return false;
    }
    panic!(
        "{} not installed: run scripts/setup.sh --test (or set SENTINEL_SKIP_REAL_BACKENDS=1)",
        missing.join(", ")
    );
}

pub fn spawn(name: &'static str, dir: &Path, cmd: &mut Command) -> Proc {
    let log = dir.join(format!("{name}.log"));
    let child = cmd
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    Proc { name, child, log }
}

pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

pub async fn ready(http: &reqwest::Client, url: String) -> bool {
    http.get(url)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// The two incidents: a bad deploy on the alerting service; a gateway whose calls time out
/// after its upstream's deploy.
#[derive(Clone, Copy, PartialEq)]
pub enum Case {
    BadDeploy,
    UpstreamDeploy,
}

impl Case {
    pub fn alert_service(self) -> &'static str {
        match self {
            Case::BadDeploy => "checkout",
            Case::UpstreamDeploy => "api-gateway",
        }
    }
    pub fn culprit(self) -> &'static str {
        match self {
            Case::BadDeploy => "deploy-checkout-v2.4.0",
            Case::UpstreamDeploy => "deploy-payment-service-v5.2.0",
        }
    }
    pub fn origin(self) -> &'static str {
        match self {
            Case::BadDeploy => "checkout",
            Case::UpstreamDeploy => "payment-service",
        }
    }
    pub fn rule(self) -> String {
        let s = self.alert_service();
        format!(
            r#"sum by (service) (rate(http_requests_total{{service="{s}",code=~"5.."}}[2m])) / sum by (service) (rate(http_requests_total{{service="{s}"}}[2m])) > 0.05"#
        )
    }
}

/// One counter series: labels and its per-second rate over time.
pub struct Series {
    pub labels: String,
    pub rate: Box<dyn Fn(DateTime<Utc>) -> f64>,
    pub from: DateTime<Utc>,
}

/// The fleet's history. Bad deploy: `checkout` on v2.3.9 all along; v2.4.0 instances from
/// the deploy on, failing 30% of their requests; `search` and `inventory` healthy. Upstream:
/// `payment-service` v5.2.0 instances fail from its deploy on; `api-gateway` answers 504 for
/// a fifth of its calls from two minutes later; `order-service` healthy.
pub fn history(case: Case, now: DateTime<Utc>, deploy: DateTime<Utc>) -> Vec<Series> {
    let start = now - Dur::hours(2);
    let s = |labels: &str, from: DateTime<Utc>, rate: Box<dyn Fn(DateTime<Utc>) -> f64>| Series {
        labels: labels.to_string(),
        rate,
        from,
    };
    if case == Case::UpstreamDeploy {
        let broke = deploy + Dur::minutes(2);
        return vec![
            s(
                r#"service="api-gateway",instance="gw-1",version="v3.0.0",code="200""#,
                start,
                Box::new(move |t| if t < broke { 100.0 } else { 80.0 }),
            ),
            s(
                r#"service="api-gateway",instance="gw-1",version="v3.0.0",code="504""#,
                start,
                Box::new(move |t| if t < broke { 0.05 } else { 20.0 }),
            ),
            s(
                r#"service="payment-service",instance="pay-1",version="v5.1.3",code="200""#,
                start,
                Box::new(move |t| if t < deploy { 30.0 } else { 10.0 }),
            ),
            s(
                r#"service="payment-service",instance="pay-2",version="v5.2.0",code="200""#,
                deploy,
                Box::new(|_| 8.0),
            ),
            s(
                r#"service="payment-service",instance="pay-2",version="v5.2.0",code="500""#,
                deploy,
                Box::new(|_| 12.0),
            ),
            s(
                r#"service="order-service",instance="ord-1",version="v2.2.0",code="200""#,
                start,
                Box::new(|_| 15.0),
            ),
        ];
    }
    vec![
        s(
            r#"service="checkout",instance="checkout-1",version="v2.3.9",code="200""#,
            start,
            // Traffic splits across the old and the new instances: the offered load is flat.
            Box::new(move |t| if t < deploy { 20.0 } else { 10.0 }),
        ),
        s(
            r#"service="checkout",instance="checkout-1",version="v2.3.9",code="500""#,
            start,
            Box::new(|_| 0.01),
        ),
        s(
            r#"service="checkout",instance="checkout-2",version="v2.4.0",code="200""#,
            deploy,
            Box::new(|_| 7.0),
        ),
        s(
            r#"service="checkout",instance="checkout-2",version="v2.4.0",code="500""#,
            deploy,
            Box::new(|_| 3.0),
        ),
        s(
            r#"service="search",instance="search-1",version="v7.1.0",code="200""#,
            start,
            Box::new(|_| 50.0),
        ),
        s(
            r#"service="inventory",instance="inventory-1",version="v1.9.0",code="200""#,
            start,
            Box::new(|_| 8.0),
        ),
    ]
}

pub const STEP_SECS: i64 = 15;

/// Cumulative counter samples of a series, every 15 s from its start to `now`.
pub fn samples(s: &Series, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, f64)> {
    let mut t = s.from;
    let mut v = 0.0;
    let mut out = Vec::new();
    while t <= now {
        out.push((t, v));
        v += (s.rate)(t) * STEP_SECS as f64;
        t += Dur::seconds(STEP_SECS);
    }
    out
}

pub fn openmetrics(series: &[Series], now: DateTime<Utc>) -> String {
    let mut om =
        String::from("# HELP http_requests Requests served.\n# TYPE http_requests counter\n");
    for s in series {
        for (t, v) in samples(s, now) {
            writeln!(
                om,
                "http_requests_total{{{}}} {v} {}",
                s.labels,
                t.timestamp()
            )
            .unwrap();
        }
    }
    om.push_str("# EOF\n");
    om
}

pub fn victoria_import(series: &[Series], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for s in series {
        let mut metric = serde_json::Map::new();
        metric.insert("__name__".into(), json!("http_requests_total"));
        for kv in s.labels.split(',') {
            let (k, v) = kv.split_once('=').unwrap();
            metric.insert(k.into(), json!(v.trim_matches('"')));
        }
        let pts = samples(s, now);
        let line = json!({
            "metric": metric,
            "values": pts.iter().map(|p| p.1).collect::<Vec<_>>(),
            "timestamps": pts.iter().map(|p| p.0.timestamp_millis()).collect::<Vec<_>>(),
        });
        writeln!(out, "{line}").unwrap();
    }
    out
}

pub fn git(dir: &Path, args: &[&str], when: Option<DateTime<Utc>>) -> String {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir).args(args);
    c.env("GIT_AUTHOR_NAME", "Ada Dev")
        .env("GIT_AUTHOR_EMAIL", "ada@example.invalid")
        .env("GIT_COMMITTER_NAME", "Ada Dev")
        .env("GIT_COMMITTER_EMAIL", "ada@example.invalid");
    if let Some(t) = when {
        c.env("GIT_AUTHOR_DATE", t.to_rfc3339())
            .env("GIT_COMMITTER_DATE", t.to_rfc3339());
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn commit(repo: &Path, file: &str, body: &str, msg: &str, when: DateTime<Utc>) -> String {
    let p = repo.join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, body).unwrap();
    git(repo, &["add", "."], None);
    git(repo, &["commit", "-q", "-m", msg], Some(when));
    git(repo, &["rev-parse", "HEAD"], None)
}

/// The checkout repository: an old commit, the deploy's commit, an innocent one after it.
pub fn checkout_repo(dir: &Path, deploy: DateTime<Utc>) -> (PathBuf, String) {
    let repo = dir.join("checkout-repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"], None);
    commit(
        &repo,
        "src/cart.rs",
        "pub fn total() {}\n",
        "cart: initial checkout service",
        deploy - Dur::days(3),
    );
    let sha = commit(
        &repo,
        "src/price_formatter.rs",
        "pub fn format(total: f64, decimals: u32) -> String { todo!() }\n",
        "PriceFormatter: format cart totals per currency decimals",
        deploy - Dur::minutes(50),
    );
    commit(
        &repo,
        "README.md",
        "# checkout\n",
        "docs: fix README typo",
        deploy + Dur::minutes(3),
    );
    (repo, sha)
}

/// Log files: checkout healthy, then PriceFormatter failures after the deploy (a stack trace
/// each); search and inventory with their usual noise.
pub fn log_files(case: Case, dir: &Path, now: DateTime<Utc>, deploy: DateTime<Utc>) -> PathBuf {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    if case == Case::UpstreamDeploy {
        // logfmt on the gateway, plain text with levels on the payment service.
        let broke = deploy + Dur::minutes(2);
        let (mut gw, mut pay) = (String::new(), String::new());
        let mut t = now - Dur::hours(2);
        while t <= now {
            if t < broke {
                writeln!(
                    gw,
                    "ts={} level=info msg=\"request served\" route=/v1/pay status=200",
                    t.to_rfc3339()
                )
                .unwrap();
            } else {
                writeln!(gw, "ts={} level=error msg=\"upstream payment-service timed out after 3000ms\" route=/v1/pay status=504", t.to_rfc3339()).unwrap();
            }
            if t < deploy {
                writeln!(
                    pay,
                    "{} INFO charge authorised",
                    t.format("%Y-%m-%d %H:%M:%S")
                )
                .unwrap();
            } else {
                writeln!(pay, "{} ERROR CardTokenizer client: tokenize call exceeded its deadline (pool of 4 connections exhausted)", t.format("%Y-%m-%d %H:%M:%S")).unwrap();
            }
            t += Dur::seconds(20);
        }
        std::fs::write(logs.join("api-gateway.log"), gw).unwrap();
        std::fs::write(logs.join("payment-service.log"), pay).unwrap();
        return logs;
    }
    let mut checkout = String::new();
    let mut t = now - Dur::hours(2);
    while t <= now {
        if t < deploy {
            writeln!(
                checkout,
                r#"{{"ts":"{}","level":"info","msg":"order placed","service":"checkout"}}"#,
                t.to_rfc3339()
            )
            .unwrap();
        } else {
            writeln!(
                checkout,
                r#"{{"ts":"{}","level":"error","msg":"PriceFormatter failed: attempt to divide by zero formatting cart total (currency decimals=0)","service":"checkout","version":"v2.4.0"}}"#,
                t.to_rfc3339()
            )
            .unwrap();
            writeln!(
                checkout,
                "    at price_formatter::format (src/price_formatter.rs:12)"
            )
            .unwrap();
        }
        t += Dur::seconds(20);
    }
    std::fs::write(logs.join("checkout.log"), checkout).unwrap();
    let mut search = String::new();
    let mut t = now - Dur::hours(2);
    while t <= now {
        writeln!(
            search,
            "{} INFO query served in 12ms",
            t.format("%Y-%m-%d %H:%M:%S")
        )
        .unwrap();
        t += Dur::seconds(30);
    }
    std::fs::write(logs.join("search.log"), search).unwrap();
    logs
}

pub struct Fleet {
    pub case: Case,
    pub now: DateTime<Utc>,
    pub deploy: DateTime<Utc>,
    pub config: String,
    pub _dirs: tempfile::TempDir,
}

/// Log files, the git repository and the Sentinel configuration for a metrics URL.
pub fn fleet(case: Case, metrics_url: &str) -> (Fleet, String) {
    let dirs = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let deploy = now - Dur::minutes(30);
    let logs = log_files(case, dirs.path(), now, deploy);
    let (repo, sha) = checkout_repo(dirs.path(), deploy);
    let config = format!(
        r#"
[metrics]
kind = "prometheus"
url = "{metrics_url}"
timeout_secs = 5

[logs]
kind = "files"
paths = ["{}/*.log"]

[[changes.git]]
service = "checkout"
repo = "{}"

[services.checkout]
metrics_selector = '{{service="checkout"}}'

[services.payment-service]
metrics_selector = '{{service="payment-service"}}'
"#,
        logs.display(),
        repo.display()
    );
    (
        Fleet {
            case,
            now,
            deploy,
            config,
            _dirs: dirs,
        },
        sha,
    )
}

pub async fn start_sentinel(
    mut cfg: sentinel::config::Config,
    dir: &Path,
    config: &str,
) -> (String, sentinel::http::AppState) {
    let path = dir.join("sentinel.toml");
    std::fs::write(&path, config).unwrap();
    cfg.file = FileConfig::parse(&path, config).unwrap();
    cfg.file_path = Some(path);
    let app = Application::build_with(
        cfg,
        "127.0.0.1:0".parse().unwrap(),
        IngestConfig {
            webhook_token: Some(TOKEN.into()),
            ..IngestConfig::default()
        },
    )
    .await
    .unwrap();
    let url = format!("http://{}", app.addr);
    let state = app.state.clone();
    tokio::spawn(app.run());
    (url, state)
}

/// Posts the deploy and the innocent changes nearby to `/webhooks/change`.
pub async fn post_changes(http: &reqwest::Client, sentinel: &str, f: &Fleet, sha: &str) {
    post_changes_but(http, sentinel, f, sha, None).await
}

/// Posts the case's changes, leaving out the one with id `skip` (an unannounced deploy).
pub async fn post_changes_but(
    http: &reqwest::Client,
    sentinel: &str,
    f: &Fleet,
    sha: &str,
    skip: Option<&str>,
) {
    let upstream = [
        json!({"id": "deploy-payment-service-v5.2.0", "service": "payment-service", "kind": "deploy", "ts": f.deploy.to_rfc3339(),
               "author": "ci-bot", "description": "payment-service v5.2.0: new CardTokenizer client with a 4-connection pool", "version": "v5.2.0"}),
        json!({"id": "deploy-order-service-v2.2.1", "service": "order-service", "kind": "deploy", "ts": (f.deploy - Dur::minutes(6)).to_rfc3339(),
               "author": "ci-bot", "description": "order-service v2.2.1: translations", "version": "v2.2.1"}),
        json!({"id": "cfg-api-gateway-cors", "service": "api-gateway", "kind": "config", "ts": (f.deploy - Dur::minutes(90)).to_rfc3339(),
               "author": "ops", "description": "api-gateway: allow a new CORS origin"}),
    ];
    let bad_deploy = [
        json!({"id": "deploy-checkout-v2.4.0", "service": "checkout", "kind": "deploy", "ts": f.deploy.to_rfc3339(),
               "author": "ci-bot", "description": "checkout v2.4.0", "commit": sha, "version": "v2.4.0"}),
        json!({"id": "deploy-inventory-v1.9.1", "service": "inventory", "kind": "deploy", "ts": (f.deploy - Dur::minutes(8)).to_rfc3339(),
               "author": "ci-bot", "description": "inventory v1.9.1: bump logging library", "version": "v1.9.1"}),
        json!({"id": "flag-search-ranking", "service": "search", "kind": "feature_flag", "ts": (f.deploy - Dur::minutes(4)).to_rfc3339(),
               "author": "pm", "description": "search: enable the new ranking model for 10% of users"}),
    ];
    let changes: &[Value] = match f.case {
        Case::BadDeploy => &bad_deploy,
        Case::UpstreamDeploy => &upstream,
    };
    let changes: Vec<&Value> = changes
        .iter()
        .filter(|c| skip.is_none_or(|id| c["id"] != id))
        .collect();
    for c in &changes {
        let r = http
            .post(format!("{sentinel}/webhooks/change"))
            .bearer_auth(TOKEN)
            .json(c)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    }
    // A repeat changes nothing; a bad one names its field.
    let r = http
        .post(format!("{sentinel}/webhooks/change"))
        .bearer_auth(TOKEN)
        .json(changes[0])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["stored"], false);
    let r = http
        .post(format!("{sentinel}/webhooks/change"))
        .bearer_auth(TOKEN)
        .json(
            &json!({"id": "x", "service": "checkout", "kind": "rollout", "ts": f.now.to_rfc3339()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("kind"));
}
