//! Foundation: scenario files (the seed fixture, every public scenario, field-naming errors),
//! migrations on an empty database, and a server-function round trip through the running app.

mod common;

use sentinel::scenario::{self, ScenarioError};
use sentinel::store::Store;
use std::path::Path;
use std::time::Duration;

#[test]
fn the_seed_fixture_loads_unchanged() {
    let s =
        scenario::load_scenario_file(&common::fixtures().join("seed_bad_deploy_01.json")).unwrap();
    assert_eq!(s.scenario_id, "bad_deploy_01");
    assert_eq!(s.alert.service, "api-gateway");
    assert_eq!(s.logs.len(), 14);
    assert_eq!(s.deploys[0].files_changed.count(), 5);
    // No fired_at in the seed: the alert time is the newest telemetry timestamp.
    let a = s.alert().unwrap();
    assert_eq!(
        a.fired_at.unwrap().to_rfc3339(),
        "2026-05-10T03:00:01+00:00"
    );
}

#[test]
fn every_public_scenario_loads() {
    let dir = common::repo_root().join("data/scenarios");
    let all = scenario::load_scenario_dir(&dir).unwrap();
    assert!(all.len() >= 10);
    let classes: std::collections::BTreeSet<_> =
        all.iter().map(|s| s.failure_class.as_str()).collect();
    for c in [
        "bad_deploy",
        "db_pool",
        "downstream_outage",
        "memory_leak",
        "config_regression",
    ] {
        assert!(classes.contains(c), "no scenario of class {c}");
    }
    for s in &all {
        s.incident_input().unwrap();
    }
}

fn broken(text: &str) -> String {
    scenario::parse_scenario(text, Path::new("broken.json"))
        .unwrap_err()
        .to_string()
}

#[test]
fn broken_files_name_the_file_and_the_field() {
    let seed = std::fs::read_to_string(common::fixtures().join("seed_bad_deploy_01.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&seed).unwrap();

    let mut no_service = v.clone();
    no_service["alert"]
        .as_object_mut()
        .unwrap()
        .remove("service");
    let e = broken(&no_service.to_string());
    assert!(
        e.contains("broken.json") && e.contains("alert.service"),
        "{e}"
    );

    let mut bad_level = v.clone();
    bad_level["logs"][3]["level"] = "LOUD".into();
    let e = broken(&bad_level.to_string());
    assert!(e.contains("logs[3].level"), "{e}");

    let mut bad_ts = v.clone();
    bad_ts["deploys"][0]["ts"] = "yesterday".into();
    let e = broken(&bad_ts.to_string());
    assert!(e.contains("deploys[0].ts"), "{e}");

    let mut bad_sev = v.clone();
    bad_sev["alert"]["severity"] = "apocalyptic".into();
    let e = broken(&bad_sev.to_string());
    assert!(e.contains("alert.severity"), "{e}");

    let mut bad_action = v.clone();
    bad_action["ground_truth"]["recommended_action"] = "pray".into();
    assert!(broken(&bad_action.to_string()).contains("ground_truth.recommended_action"));

    v.as_object_mut().unwrap().remove("ground_truth");
    assert!(broken(&v.to_string()).contains("ground_truth"));

    let e = broken("{ not json");
    assert!(e.contains("invalid JSON at line 1"), "{e}");
    // Unknown fields are ignored.
    let mut extra: serde_json::Value = serde_json::from_str(&seed).unwrap();
    extra["team_notes"] = "whatever".into();
    scenario::parse_scenario(&extra.to_string(), Path::new("x.json")).unwrap();
}

#[test]
fn duplicate_ids_and_unknown_ids_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let seed = common::fixtures().join("seed_bad_deploy_01.json");
    std::fs::copy(&seed, dir.path().join("a.json")).unwrap();
    std::fs::copy(&seed, dir.path().join("b.json")).unwrap();
    let e = scenario::load_scenario_dir(dir.path()).unwrap_err();
    assert!(matches!(e, ScenarioError::Duplicate { .. }), "{e}");
    let e = scenario::resolve_scenario(
        "no_such_scenario",
        &common::repo_root().join("data/scenarios"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no_such_scenario"));
}

#[tokio::test]
async fn migrations_create_every_table_on_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/dir/fresh.db").display()
    );
    let store = Store::connect(&url).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(store.pool())
            .await
            .unwrap();
    for t in [
        "incidents",
        "events",
        "approvals",
        "alerts",
        "memories",
        "services",
        "dependencies",
        "runbooks",
        "eval_runs",
    ] {
        assert!(
            tables.iter().any(|x| x == t),
            "missing table {t}: {tables:?}"
        );
    }
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // Re-opening runs no migration twice.
    drop(store);
    Store::connect(&url).await.unwrap();
}

/// A fresh Sentinel in `dir` with one scenario incident opened and its opening event logged.
async fn opened_incident(dir: &Path) -> (sentinel::service::Sentinel, String) {
    let s = sentinel::bootstrap::sentinel(common::test_config(dir))
        .await
        .unwrap();
    let sc = s.scenario("bad_deploy_01").unwrap();
    let (id, _) = s.open_scenario(&sc).await.unwrap();
    s.events.flush().await.unwrap();
    (s, id)
}

#[tokio::test]
async fn the_event_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let (s, id) = opened_incident(dir.path()).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE incident_id = ?")
        .bind(&id)
        .fetch_one(s.store.pool())
        .await
        .unwrap();
    assert!(n > 0, "the opening event is logged");
    let upd = sqlx::query("UPDATE events SET kind = 'x' WHERE incident_id = ?")
        .bind(&id)
        .execute(s.store.pool())
        .await;
    assert!(upd.is_err());
    let del = sqlx::query("DELETE FROM events")
        .execute(s.store.pool())
        .await;
    assert!(del.is_err());
}

#[tokio::test]
async fn server_function_round_trip_through_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let app = sentinel::http::Application::build(
        common::test_config(dir.path()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.addr);
    tokio::spawn(app.run());
    let client = reqwest::Client::new();
    // The server function the home page calls, over HTTP as the browser does.
    let res = client
        .post(format!("{base}/api/list_scenarios"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: Vec<serde_json::Value> = res.json().await.unwrap();
    assert!(list.len() >= 10);
    assert!(
        list.iter()
            .any(|s| s["id"] == "config_regression_01" && s["service"] == "user-service")
    );
    // The same data server-rendered into the page.
    let html = client
        .get(&base)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("config_regression_01"));
    assert!(html.contains("/pkg/sentinel.js"));
    // And the REST route.
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // Errors carry their status, not a blanket 500: no session is a 401 with the message…
    let decide = |cookie: Option<&str>, incident: &str| {
        let mut r = client
            .post(format!("{base}/api/decide_approval"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "incident_id={incident}&decision=approve&comment=looks+right"
            ));
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.send()
    };
    let res = decide(None, "inc-nope").await.unwrap();
    assert_eq!(res.status(), 401);
    let v: serde_json::Value = res.json().await.unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("operator token"),
        "{v}"
    );
    // …and an operator deciding an unknown incident gets a 404.
    let login = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}/login?token=test-operator-token"))
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get("set-cookie")
        .expect("the login sets the session cookie")
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let res = decide(Some(&cookie), "inc-nope").await.unwrap();
    assert_eq!(res.status(), 404, "{}", res.text().await.unwrap());
}

/// Automatic checkpoints are off (they stalled whichever commit crossed the threshold); the
/// background task must still copy the WAL back into the database file.
#[tokio::test]
async fn the_background_task_checkpoints_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ckpt.db");
    let store = file_store(&db).await;
    let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(store.writer())
        .await
        .unwrap();
    assert_eq!(auto, 0);
    // Let the first checkpoint after the migrations happen, then measure.
    tokio::time::sleep(sentinel::store::CHECKPOINT_EVERY * 3).await;
    let before = std::fs::metadata(&db).unwrap().len();
    let blob = "x".repeat(4000);
    for i in 0..300 {
        write_blob(&store, &format!("run-{i}"), &blob)
            .await
            .unwrap();
    }
    let mut after = before;
    for _ in 0..20 {
        tokio::time::sleep(sentinel::store::CHECKPOINT_EVERY).await;
        after = std::fs::metadata(&db).unwrap().len();
        if after > before + 1_000_000 {
            break;
        }
    }
    assert!(
        after > before + 1_000_000,
        "the database file did not grow ({before} -> {after}): nothing checkpointed the WAL"
    );
}

/// Under writes that never pause, a passive checkpoint never catches up with the writer, so
/// the WAL would grow without bound; the background task must start it over (RESTART).
#[tokio::test]
async fn the_wal_starts_over_under_sustained_writes() {
    // Independent of the machine's speed: however fast the writes outrun the checkpointer
    // (a fast disk writes all 80 MB between two passes), once they stop the WAL must be
    // copied back, started over and its file cut back to the size limit. Poll for it with a
    // deadline far beyond any machine's need instead of assuming how far a pass got.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("restart.db");
    let store = file_store(&db).await;
    let blob = "y".repeat(8000);
    let rows = 10_000;
    for i in 0..rows {
        write_blob(&store, &format!("run-{i}"), &blob)
            .await
            .unwrap();
    }
    let written = (rows * blob.len()) as u64;
    let mut wal = db.clone().into_os_string();
    wal.push("-wal");
    let limit = sentinel::store::WAL_SIZE_LIMIT_BYTES as u64;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut tick = 0;
    let wal_len = loop {
        // A commit after the RESTART is what starts the WAL over (and truncates it).
        write_blob(&store, &format!("tick-{tick}"), "t")
            .await
            .unwrap();
        tick += 1;
        let len = std::fs::metadata(&wal).unwrap().len();
        if len <= limit + 64 * 1024 || std::time::Instant::now() > deadline {
            break len;
        }
        tokio::time::sleep(sentinel::store::CHECKPOINT_EVERY).await;
    };
    assert!(
        wal_len <= limit + 64 * 1024,
        "the WAL file is {wal_len} bytes after {written} bytes written and a minute of quiet: \
         it never started over (limit {limit})"
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM eval_runs WHERE id LIKE 'run-%'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(stored, rows as i64);
}

/// An unsupported scheme is a clear error naming the problem, never a SQLite file called
/// `mysql:` in the working directory; a PostgreSQL server that does not answer is an error
/// after the connect timeout, not a hang; no message repeats the password.
#[tokio::test]
async fn unsupported_database_urls_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["mysql://root:hunter2@db/x", "", "just-a-path.db"] {
        let err = Store::connect(url).await.expect_err(url).to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            err.contains("sqlite") && err.contains("postgres"),
            "{url}: {err}"
        );
    }
    // Nothing listens on port 1.
    let down = "postgres://sentinel:hunter2@127.0.0.1:1/sentinel";
    let err = tokio::time::timeout(
        sentinel::store::PG_ACQUIRE_TIMEOUT + Duration::from_secs(20),
        Store::connect(down),
    )
    .await
    .expect("bounded by the connect timeout")
    .expect_err(down)
    .to_string();
    assert!(!err.contains("hunter2"), "{err}");
    let stray: Vec<_> = std::fs::read_dir(".")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| {
            ["postgres", "mysql", "just-a-path"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect();
    assert!(stray.is_empty(), "stray files created: {stray:?}");
    // sqlite URLs still work.
    Store::connect(&format!("sqlite://{}", dir.path().join("ok.db").display()))
        .await
        .unwrap();
}

/// `sentinel eval` beside `sentinel serve` shares the database. On POSIX, closing any
/// descriptor of a file drops all of the process's `fcntl` locks on it, so a checkpointer that
/// opened and closed the database file for its fsyncs let the other process believe it was the
/// last user: it checkpointed and deleted the WAL under this process's connections.
#[tokio::test]
async fn a_second_process_on_the_same_database_leaves_this_one_working() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sentinel.db");
    let store = file_store(&db).await;
    let blob = "x".repeat(4000);
    for i in 0..200 {
        write_blob(&store, &format!("mine-{i}"), &blob)
            .await
            .unwrap();
    }
    // Several checkpoint passes, each with its early fsync.
    tokio::time::sleep(sentinel::store::CHECKPOINT_EVERY * 4).await;
    // A read transaction held open across the other process's exit, as a busy server has.
    let mut reader = store.pool().begin().await.unwrap();
    let mine: i64 = sqlx::query_scalar("SELECT count(*) FROM eval_runs WHERE id LIKE 'mine-%'")
        .fetch_one(&mut *reader)
        .await
        .unwrap();
    assert_eq!(mine, 200);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sentinel"))
        .args(["eval", "--scenarios", "bad_deploy_02", "--out"])
        .arg(dir.path().join("reports"))
        .current_dir(root)
        .env("SENTINEL_DATA_DIR", dir.path())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sentinel eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wal = dir.path().join("sentinel.db-wal");
    assert!(
        wal.exists(),
        "the other process deleted the WAL under this one's open connections"
    );
    drop(reader);
    for i in 200..400 {
        write_blob(&store, &format!("mine-{i}"), &blob)
            .await
            .expect("this process can still write after the other one exited");
    }
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM eval_runs")
        .fetch_one(store.pool())
        .await
        .expect("and read");
    assert_eq!(runs, 401, "400 of ours and the eval run's");
    // And durably: a fresh open (another process would see the same) finds them all.
    store.close().await;
    drop(store);
    let reopened = file_store(&db).await;
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM eval_runs")
        .fetch_one(reopened.pool())
        .await
        .unwrap();
    assert_eq!(
        runs, 401,
        "rows written after the other process exited were lost"
    );
}

/// A store on the SQLite file `db` (WAL mode, with the background checkpointer).
async fn file_store(db: &Path) -> Store {
    Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap()
}

/// One eval-run row carrying `blob` (a convenient table to fill the WAL with).
async fn write_blob(store: &Store, id: &str, blob: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO eval_runs (id, generated_at, judge_model, avg_total_score, pass_rate, report_json) VALUES (?,?,?,?,?,?)")
        .bind(id)
        .bind("2026-01-01T00:00:00Z")
        .bind("builtin")
        .bind(5.0)
        .bind(1.0)
        .bind(blob)
        .execute(store.writer())
        .await
        .map(|_| ())
}

/// Events are group-committed; one bad event (unknown incident) must not take the rest of
/// its batch with it, and the failure is reported by the next flush.
#[tokio::test]
async fn a_bad_event_does_not_lose_its_batch() {
    use app::model::{AgentRole, RunEventKind};
    let dir = tempfile::tempdir().unwrap();
    let (s, id) = opened_incident(dir.path()).await;
    let mut live = s.events.subscribe();
    let note = |n: &str| RunEventKind::AlertResolved { note: n.into() };
    s.events
        .emit(&id, AgentRole::Orchestrator, note("one"))
        .await
        .unwrap();
    s.events
        .emit("inc-does-not-exist", AgentRole::Orchestrator, note("bad"))
        .await
        .unwrap();
    s.events
        .emit(&id, AgentRole::Orchestrator, note("two"))
        .await
        .unwrap();
    let err = s.events.flush().await.unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    // The next flush is clean again.
    s.events.flush().await.unwrap();
    let logged: Vec<String> = s
        .store
        .events_after(Some(&id), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            RunEventKind::AlertResolved { note } => Some(note),
            _ => None,
        })
        .collect();
    assert_eq!(logged, ["one", "two"], "in order, the bad one dropped");
    // Only written events are broadcast, with their sequence numbers, in order.
    let mut seen = Vec::new();
    while let Ok(ev) = live.try_recv() {
        assert!(ev.seq > 0);
        if let RunEventKind::AlertResolved { note } = ev.kind {
            seen.push((ev.seq, note));
        }
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].0 < seen[1].0 && seen[0].1 == "one" && seen[1].1 == "two");
}
