//! The Loki log source against recorded `query_range` answers served from a loopback stub
//! (no Loki server can run here): the LogQL it sends, the lines it reads in their own formats,
//! level filtering, an error answer, and a backend that never answers (the timeout).

use axum::extract::Query;
use axum::routing::get;
use sentinel::telemetry::loki::LokiLogs;
use sentinel::telemetry::{LogLevel, LogQuery, LogSource};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/loki")
            .join(name),
    )
    .unwrap()
}

async fn stub(answer: String, hang: bool) -> (String, Arc<Mutex<Vec<BTreeMap<String, String>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/loki/api/v1/query_range",
        get(move |Query(q): Query<BTreeMap<String, String>>| {
            let s = s.clone();
            let answer = answer.clone();
            async move {
                s.lock().unwrap().push(q);
                if hang {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                ([("content-type", "application/json")], answer)
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, seen)
}

fn source(url: &str, timeout: Duration) -> LokiLogs {
    LokiLogs::new(
        url,
        None,
        sentinel::telemetry::http_client(timeout, vec![]).unwrap(),
        BTreeMap::from([(
            "checkout".to_string(),
            r#"{app="checkout",namespace="prod"}"#.to_string(),
        )]),
    )
    .unwrap()
}

#[tokio::test]
async fn recorded_streams_become_log_entries() {
    let (url, seen) = stub(fixture("query_range.json"), false).await;
    let loki = source(&url, Duration::from_secs(5));
    let q = LogQuery {
        service: Some("checkout".into()),
        keyword: Some("formatter".into()),
        ..Default::default()
    };
    let lines = loki.logs(&q).await.unwrap();
    assert_eq!(lines.len(), 4);
    assert!(lines.windows(2).all(|w| w[0].ts <= w[1].ts), "oldest first");
    assert_eq!(lines[0].level, LogLevel::WARNING);
    assert_eq!(lines[0].message, "slow response from inventory (812ms)");
    assert_eq!(lines[1].message, "order placed");
    assert_eq!(lines[3].level, LogLevel::ERROR);
    assert_eq!(lines[3].trace_id.as_deref(), Some("4bf92f35"));
    assert!(lines.iter().all(|l| l.service == "checkout"));
    let sent = seen.lock().unwrap()[0].clone();
    assert_eq!(
        sent["query"],
        r#"{app="checkout",namespace="prod"} |~ "(?i)formatter""#
    );
    assert_eq!(sent["direction"], "backward");
    assert!(sent["start"].parse::<i64>().unwrap() < sent["end"].parse::<i64>().unwrap());

    let errors = loki
        .logs(&LogQuery {
            service: Some("checkout".into()),
            min_level: Some(LogLevel::ERROR),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(errors.len(), 2);
}

#[tokio::test]
async fn an_error_answer_and_a_silent_backend_are_clear_errors() {
    let (url, _) = stub(fixture("query_error.json"), false).await;
    let e = source(&url, Duration::from_secs(5))
        .logs(&LogQuery::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("syntax error"), "{e}");
    let (url, _) = stub(fixture("query_range.json"), true).await;
    let started = std::time::Instant::now();
    let e = source(&url, Duration::from_millis(300))
        .logs(&LogQuery::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("timed out"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
