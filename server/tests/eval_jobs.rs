//! Evaluations started through the server (`POST /api/evals`, the eval page's Run button):
//! who may start one, which suites, the progress while it runs, and the stored report.

mod common;

use sentinel::config::FileConfig;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const ALICE: &str = "alice-eval-token-0123456789";
const BOB: &str = "bob-eval-token-0123456789";

/// A server whose `[eval] suites` has `small` (two public scenarios copied into `dir`),
/// `public`, and `broken` (a file that does not parse).
async fn spawn(dir: &Path) -> String {
    let small = dir.join("small");
    std::fs::create_dir_all(&small).unwrap();
    let public = common::repo_root().join("data/scenarios");
    for id in ["bad_deploy_02", "downstream_outage_01"] {
        std::fs::copy(
            public.join(format!("{id}.json")),
            small.join(format!("{id}.json")),
        )
        .unwrap();
    }
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("half.json"), r#"{"id": "half", "alert": "#).unwrap();
    let mut cfg = common::test_config(dir);
    let toml = format!(
        r#"
[eval]
concurrency = 2
[eval.suites]
small = "{}"
public = "{}"
broken = "{}"

[[operators]]
name = "alice"
token = "{ALICE}"
role = "responder"

[[operators]]
name = "bob"
token = "{BOB}"
role = "viewer"
"#,
        small.display(),
        public.display(),
        broken.display()
    );
    cfg.file = FileConfig::parse(Path::new("sentinel.toml"), &toml).unwrap();
    let app = sentinel::http::Application::build(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr);
    tokio::spawn(app.run());
    base
}

async fn post(base: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .post(format!("{base}/api/evals"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn current(base: &str) -> Value {
    reqwest::get(format!("{base}/api/evals/current"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_operator_starts_an_evaluation_and_watches_it_finish() {
    let dir = tempfile::tempdir().unwrap();
    let base = spawn(dir.path()).await;

    // Before any: the configured suites, nothing current.
    let st = current(&base).await;
    assert_eq!(st["suites"], json!(["broken", "public", "small"]), "{st}");
    assert!(st["current"].is_null(), "{st}");

    // Who may start one.
    let (code, v) = post(&base, None, r#"{"suites":["small"]}"#).await;
    assert_eq!(code, 401, "{v}");
    let (code, v) = post(&base, Some(BOB), r#"{"suites":["small"]}"#).await;
    assert_eq!(code, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("viewer"), "{v}");
    // What may be asked: a configured suite name only, never a path; a well-formed body.
    let (code, v) = post(&base, Some(ALICE), r#"{"suites":["/etc"]}"#).await;
    assert_eq!(code, 422, "{v}");
    let e = v["error"].as_str().unwrap();
    assert!(
        e.contains("suites") && e.contains("\"/etc\"") && e.contains("small"),
        "{e}"
    );
    let (code, v) = post(&base, Some(ALICE), r#"{"suites":"#).await;
    assert_eq!(code, 400, "{v}");
    let (code, v) = post(&base, Some(ALICE), r#"{"suite":["small"]}"#).await;
    assert_eq!(code, 422, "{v}");
    // A configured suite that does not load is the server's fault: 503, and the answer names
    // no path (the log has the details).
    let (code, v) = post(&base, Some(ALICE), r#"{"suites":["broken"]}"#).await;
    assert_eq!(code, 503, "{v}");
    let e = v["error"].as_str().unwrap();
    assert!(
        e.contains("does not load") && !e.contains("half.json") && !e.contains('/'),
        "{e}"
    );
    assert!(current(&base).await["current"].is_null());

    // Started: 202 with its progress at once.
    let (code, p) = post(&base, Some(ALICE), r#"{"suites":["small"]}"#).await;
    assert_eq!(code, 202, "{p}");
    assert_eq!(p["total"], 2, "{p}");
    assert_eq!(p["suites"], json!(["small"]));
    assert_eq!(p["started_by"], "alice");
    let id = p["id"].as_str().unwrap().to_string();

    // It runs to the end; every poll is a consistent snapshot.
    let mut last = Value::Null;
    for _ in 0..600 {
        last = current(&base).await["current"].clone();
        assert_eq!(last["id"], id.as_str());
        let done = last["done"].as_u64().unwrap();
        assert!(done <= 2, "{last}");
        assert_eq!(
            last["recent"].as_array().unwrap().len() as u64,
            done,
            "{last}"
        );
        if last["state"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["state"], "finished", "{last}");
    assert_eq!(last["done"], 2);
    assert_eq!(last["errors"], 0);
    assert!(last["finished_at"].is_string());

    // Its report is the server's newest evaluation, in the suite it ran as.
    let rep: Value = reqwest::get(format!("{base}/api/eval-report"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let results = rep["results"].as_array().unwrap();
    let mut ids: Vec<&str> = results
        .iter()
        .map(|r| r["scenario_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["bad_deploy_02", "downstream_outage_01"]);
    assert!(results.iter().all(|r| r["suite"] == "small"));
    assert_eq!(rep["summary"]["solved"], last["solved"]);
    assert_eq!(rep["summary"]["harmful"], last["harmful"]);
    assert_eq!(rep["summary"]["suites"][0]["suite"], "small");

    // The same through the server functions the page calls.
    let st: Value = reqwest::Client::new()
        .post(format!("{base}/api/get_eval_status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["current"]["id"], id.as_str());
    // The page's server function needs a session too, checked before its arguments are read.
    for body in ["suites[0]=small", "%%%&&=", ""] {
        let res = reqwest::Client::new()
            .post(format!("{base}/api/start_eval"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{body:?}");
    }
}
