//! The PostgreSQL log source against a real PostgreSQL 15 (started on a free port in a temp
//! dir): rows shipped into a table are read within the window, filtered by service, level and
//! keyword in the query, newest kept, oldest first; a bad table name and a database that is
//! down are clear errors, never a hang.

mod support;

use chrono::{Duration as Dur, Utc};
use sentinel::telemetry::postgres::PostgresLogs;
use sentinel::telemetry::{LogLevel, LogQuery, LogSource};
use std::time::Duration;
use support::pg::Pg;

#[tokio::test]
async fn shipped_rows_are_read_filtered_and_bounded() {
    assert!(
        Pg::available(),
        "initdb not installed (PostgreSQL 15 is on the image)"
    );
    let pg = Pg::start();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect(&pg.url)
        .await
        .unwrap();
    sqlx::query("CREATE SCHEMA logging")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE logging.app_logs (ts timestamptz NOT NULL, level text NOT NULL, service text NOT NULL, message text NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let now = Utc::now();
    for (min, level, svc, msg) in [
        (50, "INFO", "checkout", "order placed"),
        (40, "warn", "checkout", "slow response from inventory"),
        (
            30,
            "ERROR",
            "checkout",
            "PriceFormatter failed: divide by zero",
        ),
        (20, "fatal", "checkout", "PriceFormatter panicked"),
        (10, "error", "search", "index shard unavailable"),
        (
            600,
            "error",
            "checkout",
            "an old failure outside the window",
        ),
    ] {
        sqlx::query("INSERT INTO logging.app_logs VALUES ($1, $2, $3, $4)")
            .bind(now - Dur::minutes(min))
            .bind(level)
            .bind(svc)
            .bind(msg)
            .execute(&pool)
            .await
            .unwrap();
    }
    let logs = PostgresLogs::new(&pg.url, "logging.app_logs", Duration::from_secs(5)).unwrap();
    let since = Some(now - Dur::hours(2));
    let all = logs
        .logs(&LogQuery {
            since,
            service: Some("Checkout".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let msgs: Vec<&str> = all.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(
        msgs,
        vec![
            "order placed",
            "slow response from inventory",
            "PriceFormatter failed: divide by zero",
            "PriceFormatter panicked"
        ]
    );
    assert_eq!(all[1].level, LogLevel::WARNING);
    assert_eq!(all[3].level, LogLevel::CRITICAL);
    let errors = logs
        .logs(&LogQuery {
            since,
            min_level: Some(LogLevel::ERROR),
            keyword: Some("priceformatter".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(errors.len(), 2);

    assert!(PostgresLogs::new(&pg.url, "logs; DROP TABLE x", Duration::from_secs(1)).is_err());
    let port = pg.port;
    drop(pool);
    drop(pg);
    let down = PostgresLogs::new(
        &format!("postgres://sentinel@127.0.0.1:{port}/postgres"),
        "app_logs",
        Duration::from_secs(1),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let e = down
        .logs(&LogQuery::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("telemetry backend failed: logs database"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}
