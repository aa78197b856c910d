//! Hostile input against every route of the running server: at least 300 malformed requests
//! each (random and truncated bodies, wrong content types, wrong types and shapes, invalid
//! UTF-8, absurd numbers, deep nesting, odd paths, queries and headers). None may answer
//! 5xx, and every error under `/api/` and `/webhooks/` must be a JSON `{ "error": … }`.

mod common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sentinel::http::Application;
use sentinel::ingest::IngestConfig;
use std::time::Duration;

const PER_ROUTE: usize = 300;

#[derive(Clone, Copy)]
enum M {
    Get,
    Post,
}

/// Every route: method, path template (`{id}` filled in), whether its errors must be JSON.
const ROUTES: &[(M, &str, bool)] = &[
    (M::Post, "/webhooks/alert", true),
    (M::Post, "/webhooks/alertmanager", true),
    (M::Post, "/webhooks/pagerduty", true),
    (M::Post, "/webhooks/grafana", true),
    (M::Post, "/webhooks/datadog", true),
    (M::Post, "/webhooks/change", true),
    (M::Get, "/api/changes", true),
    (M::Post, "/webhooks/change/github", true),
    (M::Post, "/webhooks/change/argocd", true),
    (M::Get, "/api/scenarios", true),
    (M::Post, "/api/scenarios/{id}/fire", true),
    (M::Get, "/api/incidents", true),
    (M::Get, "/api/incidents/{id}", true),
    (M::Post, "/api/incidents/{id}/approval", true),
    (M::Get, "/api/incidents/{id}/events", true),
    (M::Get, "/api/events", true),
    (M::Get, "/api/eval-report", true),
    (M::Post, "/api/evals", true),
    (M::Get, "/api/evals/current", true),
    (M::Post, "/api/decide_approval", true),
    (M::Post, "/api/fire_scenario", true),
    (M::Post, "/api/get_incident_view", true),
    (M::Post, "/api/list_incidents", true),
    (M::Post, "/api/live_snapshot", true),
    (M::Post, "/api/list_scenarios", true),
    (M::Post, "/api/session_status", true),
    (M::Post, "/api/get_settings", true),
    (M::Post, "/api/get_eval_history", true),
    (M::Post, "/api/get_eval_status", true),
    (M::Post, "/api/start_eval", true),
    (M::Get, "/login", true),
    (M::Post, "/logout", true),
    (M::Get, "/health", true),
];

fn junk_id(rng: &mut StdRng) -> String {
    let picks = [
        "inc-nope",
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "%FF%FE",
        "bad_deploy_01%20",
        "' OR 1=1 --",
        "a%2Fb",
        "%E2%80%AE",
    ];
    if rng.random_bool(0.3) {
        let n = rng.random_range(1..300);
        return (0..n)
            .map(|_| char::from(rng.random_range(b'a'..=b'z')))
            .collect();
    }
    picks[rng.random_range(0..picks.len())].to_string()
}

fn junk_body(rng: &mut StdRng) -> Vec<u8> {
    let valid_alert = br#"{"source":"x","service":"checkout","metric":"m","threshold":1,"current_value":2,"severity":"high"}"#;
    match rng.random_range(0..14) {
        0 => Vec::new(),
        1 => (0..rng.random_range(1..2000)).map(|_| rng.random::<u8>()).collect(),
        2 => {
            let cut = rng.random_range(0..valid_alert.len());
            valid_alert[..cut].to_vec()
        }
        3 => b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(20),
        4 => br#"{"alerts": "not a list", "version": 4, "status": 7}"#.to_vec(),
        5 => br#"{"event": {"event_type": ["x"], "data": {"id": 12}}}"#.to_vec(),
        6 => br#"{"source":"x","service":"","metric":"m","threshold":1e999,"current_value":"NaN","severity":"loud"}"#.to_vec(),
        7 => vec![0xff, 0xfe, b'{', b'}', 0x80],
        8 => b"decision=approve&comment=%".to_vec(),
        9 => b"incident_id=&decision=APPROVED&comment=".to_vec(),
        10 => br#"{"decision": " approve", "comment": 12}"#.to_vec(),
        11 => format!(r#"{{"state":"alerting","title":"{}","evalMatches":[{{"value":"x"}}]}}"#, "A".repeat(rng.random_range(0..5000))).into_bytes(),
        12 => br#"{"id": null, "title": null, "alert_type": 5, "tags": {"a": 1}}"#.to_vec(),
        _ => b"null".to_vec(),
    }
}

fn junk_query(rng: &mut StdRng) -> &'static str {
    let q = [
        "",
        "?limit=abc",
        "?limit=-99999999999999999999",
        "?status=%FF",
        "?status=nope&service=%00",
        "?after=-1",
        "?after=99999999999999999999999",
        "?token=&next=//evil.example",
        "?token=x&next=/\\evil.example",
        "?a=1&a=2&a[]=3",
    ];
    q[rng.random_range(0..q.len())]
}

fn content_type(rng: &mut StdRng) -> Option<&'static str> {
    let c = [
        None,
        Some("application/json"),
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json; charset=utf-16"),
        Some("application/JSON;;; q=\t"),
    ];
    c[rng.random_range(0..c.len())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_answers_hostile_input_with_a_5xx_or_a_non_json_error() {
    let seed: u64 = rand::rng().random();
    eprintln!("hostile input seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::test_config(dir.path());
    cfg.http.body_timeout = Duration::from_secs(2);
    let app = Application::build_with(
        cfg,
        "127.0.0.1:0".parse().unwrap(),
        IngestConfig {
            // Investigations are not what this test is about; keep the queue from filling.
            queue_capacity: 100_000,
            ..IngestConfig::default()
        },
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.addr);
    tokio::spawn(app.run());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = Vec::new();
    let mut total = 0;
    for &(method, template, json_errors) in ROUTES {
        for i in 0..PER_ROUTE {
            let path = template.replace("{id}", &junk_id(&mut rng));
            let url = format!("{base}{path}{}", junk_query(&mut rng));
            // Mostly the route's own method; sometimes the wrong one.
            let wrong = i % 10 == 9;
            let mut req = match (method, wrong) {
                (M::Get, false) | (M::Post, true) => http.get(&url),
                (M::Post, false) | (M::Get, true) => http.post(&url),
            };
            if let Some(ct) = content_type(&mut rng) {
                req = req.header("content-type", ct);
            }
            match rng.random_range(0..6) {
                0 => req = req.header("authorization", "Bearer wrong"),
                1 => req = req.header("authorization", "Basic !!!"),
                2 => req = req.header("cookie", "sentinel_session=deadbeef; sentinel_session=%"),
                3 => req = req.header("last-event-id", "-5x"),
                4 => req = req.header("origin", "null"),
                _ => {}
            }
            if matches!((method, wrong), (M::Post, false) | (M::Get, true)) {
                req = req.body(junk_body(&mut rng));
            }
            total += 1;
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{path}: no answer: {e}"));
                    continue;
                }
            };
            let status = resp.status();
            let is_json = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let streaming = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"));
            if status.is_server_error() {
                let body = resp.text().await.unwrap_or_default();
                failures.push(format!(
                    "{} {path}: {status} {}",
                    if wrong { "wrong-method" } else { "" },
                    body.chars().take(200).collect::<String>()
                ));
                continue;
            }
            if streaming {
                drop(resp); // a valid subscription; nothing to check
                continue;
            }
            if json_errors && status.is_client_error() {
                let body = resp.bytes().await.unwrap_or_default();
                let v: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
                if !is_json || !v.as_ref().is_some_and(|v| v["error"].is_string()) {
                    failures.push(format!(
                        "{path}: {status} without a JSON error: {}",
                        String::from_utf8_lossy(&body)
                            .chars()
                            .take(200)
                            .collect::<String>()
                    ));
                }
            }
        }
    }
    eprintln!(
        "hostile input: {total} requests over {} routes",
        ROUTES.len()
    );
    assert!(total >= PER_ROUTE * ROUTES.len());
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {total} requests misanswered, e.g.:\n{}",
        failures.len(),
        {
            let mut kinds: Vec<String> = failures.clone();
            kinds.sort();
            kinds.dedup_by(|a, b| {
                a.split(':').next() == b.split(':').next() && a.len() / 40 == b.len() / 40
            });
            kinds.into_iter().take(40).collect::<Vec<_>>().join("\n")
        }
    );
}
