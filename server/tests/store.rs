//! The repository suite, run unchanged against both engines: SQLite (a file in a temp dir)
//! and a real PostgreSQL 15 (initdb + pg_ctl on a free loopback port, one server for this
//! test binary's PostgreSQL tests, one fresh database per test). Every repository function
//! round-trips; the event log refuses UPDATE and DELETE; and the operations replicas race on
//! — run leases, approval decisions, dedup of an alert group, event appends read by a tail,
//! fleet roles — have exactly one winner and lose nothing when two store handles (two
//! replicas' pools) run them at once.

mod support;

use app::model::{
    AgentRole, Alert, ApprovalOutcome, ApprovalRequest, ChangeKind, IncidentStatus, Priority,
    RemediationAction, RunEvent, RunEventKind,
};
use chrono::{Duration as Dur, Utc};
use sentinel::store::{
    AlertRow, Catalogue, ChangeEvent, DependencyEdge, IncidentFilter, IncidentRecord, MemoryRecord,
    Runbook, ServiceInfo, Store,
};
use std::time::Duration;
use support::pg::Pg;

/// A database for one test: a SQLite file in a temp dir, or a PostgreSQL server of its own
/// (stopped and deleted when the test ends, pass or fail).
struct Db {
    url: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<Pg>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    Db {
        url: format!("sqlite://{}", dir.path().join("s.db").display()),
        _dir: Some(dir),
        _pg: None,
    }
}

async fn postgres() -> Db {
    assert!(
        Pg::available(),
        "initdb not installed (scripts/setup.sh --test installs PostgreSQL)"
    );
    let pg = tokio::task::spawn_blocking(Pg::start).await.unwrap();
    Db {
        url: pg.url.clone(),
        _dir: None,
        _pg: Some(pg),
    }
}

/// Runs a statement outside the repository (to prove what the schema refuses).
async fn raw(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    match store.pg_pool() {
        Some(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        None => sqlx::query(sql)
            .execute(store.writer())
            .await
            .map(|r| r.rows_affected()),
    }
}

fn alert(service: &str) -> Alert {
    serde_json::from_value(serde_json::json!({
        "source": "prometheus", "service": service, "metric": "error_rate",
        "threshold": 0.05, "current_value": 0.3, "severity": "critical",
        "labels": {"alertname": "HighErrorRate"}, "annotations": {"summary": "errors"},
        "fired_at": "2026-12-01T10:00:00Z"
    }))
    .unwrap()
}

fn record(id: &str, service: &str, fingerprint: Option<&str>, age_s: i64) -> IncidentRecord {
    let t = Utc::now() - Dur::seconds(age_s);
    IncidentRecord {
        id: id.into(),
        service: service.into(),
        title: format!("errors on {service}"),
        status: IncidentStatus::Open,
        severity: Some(Priority::P2),
        scenario_id: None,
        fingerprint: fingerprint.map(Into::into),
        alert_count: 1,
        alert: alert(service),
        report: sentinel::agents::build_report(id, IncidentStatus::Open, &Default::default()),
        state_json: Some("{\"step\":1}".into()),
        created_at: t,
        updated_at: t,
    }
}

fn event(incident: &str, n: i64) -> RunEvent {
    RunEvent {
        seq: 0,
        incident_id: incident.into(),
        ts: Utc::now(),
        agent: AgentRole::Orchestrator,
        kind: RunEventKind::AlertRepeated { count: n },
    }
}

fn approval(id: &str, incident: &str, expires_in_s: i64) -> ApprovalRequest {
    ApprovalRequest {
        approval_id: id.into(),
        incident_id: incident.into(),
        action: RemediationAction::Rollback,
        target: Some("deploy-1".into()),
        risk: "low".into(),
        evidence: vec!["errors began at the deploy".into()],
        proposer: "remediation".into(),
        requested_at: Utc::now(),
        expires_at: Utc::now() + Dur::seconds(expires_in_s),
    }
}

fn alert_row(
    incident: Option<&str>,
    fp: &str,
    status: &'static str,
    outcome: &'static str,
) -> AlertRow {
    AlertRow {
        id: next_alert_id(),
        incident_id: incident.map(Into::into),
        source: "alertmanager",
        fingerprint: fp.into(),
        status,
        outcome,
        payload: "{}".into(),
    }
}

/// Increasing alert ids with the time prefix the writer's UUIDv7 ids have (retention bounds its
/// scan by it).
fn next_alert_id() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let ms = Utc::now().timestamp_millis() as u64;
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:08x}-{:04x}-{n:016x}", ms >> 16, ms & 0xffff)
}

/// Generates one test per engine for each suite function.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite_engine {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::sqlite().await).await })*
        }
        mod postgres_engine {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::postgres().await).await })*
        }
    };
}

on_both!(
    incidents_round_trip_filter_and_order,
    run_leases_have_one_holder,
    the_event_log_keeps_order_and_refuses_changes,
    approvals_are_decided_once,
    alert_rows_count_repeats_and_prune_finished_incidents,
    memories_catalogue_changes_and_eval_runs_round_trip,
    sessions_deliveries_and_notification_state,
    replicas_race_and_exactly_one_wins,
    simultaneous_openers_of_one_alert_group_open_one_incident,
    a_tail_reading_by_sequence_misses_no_append,
);

async fn incidents_round_trip_filter_and_order(db: Db) {
    let s = Store::connect(&db.url).await.unwrap();
    s.insert_incident(&record("inc-a", "api-gateway", None, 30))
        .await
        .unwrap();
    s.insert_incident(&record("inc-b", "api-gateway", Some("fp-b"), 20))
        .await
        .unwrap();
    s.insert_incident(&record("inc-c", "auth-service", None, 10))
        .await
        .unwrap();
    let b = s.get_incident("inc-b").await.unwrap().unwrap();
    assert_eq!(b.service, "api-gateway");
    assert_eq!(b.fingerprint.as_deref(), Some("fp-b"));
    assert_eq!(b.severity, Some(Priority::P2));
    assert_eq!(b.alert, alert("api-gateway"));
    assert_eq!(b.state_json.as_deref(), Some("{\"step\":1}"));
    assert!(s.get_incident("inc-none").await.unwrap().is_none());

    let all = s.list_incidents(&IncidentFilter::default()).await.unwrap();
    let ids: Vec<_> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["inc-c", "inc-b", "inc-a"], "newest first");
    let gw = s
        .list_incidents(&IncidentFilter {
            service: Some("api-gateway".into()),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(gw.len(), 1);
    assert_eq!(gw[0].id, "inc-b");

    let report =
        sentinel::agents::build_report("inc-a", IncidentStatus::Resolved, &Default::default());
    s.update_incident(
        "inc-a",
        IncidentStatus::Resolved,
        Some(Priority::P1),
        &report,
        None,
    )
    .await
    .unwrap();
    let a = s.get_incident("inc-a").await.unwrap().unwrap();
    assert_eq!(a.status, IncidentStatus::Resolved);
    assert_eq!(a.severity, Some(Priority::P1));
    assert_eq!(a.state_json, None);
    let resolved = s
        .list_incidents(&IncidentFilter {
            status: Some(IncidentStatus::Resolved),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(resolved.len(), 1);

    let open = s
        .open_incidents_on("api-gateway", Utc::now() - Dur::hours(1), "inc-x")
        .await
        .unwrap();
    assert_eq!(
        open.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["inc-b"],
        "resolved ones are not open"
    );
}

async fn run_leases_have_one_holder(db: Db) {
    let s = Store::connect(&db.url).await.unwrap();
    s.insert_incident(&record("inc-l", "api-gateway", None, 60))
        .await
        .unwrap();
    let ttl = Duration::from_secs(30);
    assert!(s.claim_lease("inc-l", "a", ttl, None).await.unwrap());
    assert!(
        s.claim_lease("inc-l", "a", ttl, None).await.unwrap(),
        "renewal"
    );
    assert!(!s.claim_lease("inc-l", "b", ttl, None).await.unwrap());
    assert!(
        s.claim_lease("inc-l", "b", ttl, Some("a")).await.unwrap(),
        "a dead holder's lease is taken"
    );
    assert_eq!(s.lease_owner("inc-l").await.unwrap().as_deref(), Some("b"));
    s.release_lease("inc-l", "a").await.unwrap();
    assert_eq!(
        s.lease_owner("inc-l").await.unwrap().as_deref(),
        Some("b"),
        "not a's to release"
    );
    // Another runner sees it held by b; b itself does not list it.
    let theirs = s.orphaned_incidents("c", Duration::ZERO, 10).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].lease_owner.as_deref(), Some("b"));
    assert!(
        s.orphaned_incidents("b", Duration::ZERO, 10)
            .await
            .unwrap()
            .is_empty()
    );
    s.release_lease("inc-l", "b").await.unwrap();
    assert_eq!(s.lease_owner("inc-l").await.unwrap(), None);
    let free = s.orphaned_incidents("c", Duration::ZERO, 10).await.unwrap();
    assert_eq!(free[0].lease_owner, None);
    // An expired lease is anybody's.
    assert!(
        s.claim_lease("inc-l", "a", Duration::ZERO, None)
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(s.claim_lease("inc-l", "b", ttl, None).await.unwrap());
}

async fn the_event_log_keeps_order_and_refuses_changes(db: Db) {
    let s = Store::connect(&db.url).await.unwrap();
    s.insert_incident(&record("inc-e", "api-gateway", None, 0))
        .await
        .unwrap();
    s.insert_incident(&record("inc-f", "auth-service", None, 0))
        .await
        .unwrap();
    assert_eq!(s.max_event_seq().await.unwrap(), 0);
    let evs: Vec<_> = (1..=5)
        .map(|n| event(if n % 2 == 0 { "inc-f" } else { "inc-e" }, n))
        .collect();
    let seqs = s.append_events(&evs).await.unwrap();
    assert_eq!(seqs.len(), 5);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(s.max_event_seq().await.unwrap(), seqs[4]);
    let e = s.events_after(Some("inc-e"), 0, 100).await.unwrap();
    let counts: Vec<_> = e
        .iter()
        .map(|ev| match ev.kind {
            RunEventKind::AlertRepeated { count } => count,
            _ => -1,
        })
        .collect();
    assert_eq!(counts, [1, 3, 5]);
    assert_eq!(e[0].seq, seqs[0]);
    let later = s.events_after(None, seqs[1], 2).await.unwrap();
    assert_eq!(
        later.iter().map(|e| e.seq).collect::<Vec<_>>(),
        seqs[2..4].to_vec()
    );
    assert!(s.has_event("inc-f", "alert_repeated").await.unwrap());
    assert!(!s.has_event("inc-f", "incident_opened").await.unwrap());
    assert!(raw(&s, "UPDATE events SET kind = 'x'").await.is_err());
    assert!(raw(&s, "DELETE FROM events").await.is_err());
    assert_eq!(s.events_after(None, 0, 100).await.unwrap().len(), 5);
}

async fn approvals_are_decided_once(db: Db) {
    let s = Store::connect(&db.url).await.unwrap();
    s.insert_incident(&record("inc-p", "payment-service", None, 0))
        .await
        .unwrap();
    let report = sentinel::agents::build_report(
        "inc-p",
        IncidentStatus::AwaitingApproval,
        &Default::default(),
    );
    let req = approval("apr-1", "inc-p", 600);
    s.suspend_for_approval(&req, Some(Priority::P1), &report, Some("{}"))
        .await
        .unwrap();
    let inc = s.get_incident("inc-p").await.unwrap().unwrap();
    assert_eq!(inc.status, IncidentStatus::AwaitingApproval);
    let pending = s.pending_approval("inc-p").await.unwrap().unwrap();
    assert_eq!(pending.request, req_roundtrip(&req));
    assert_eq!(s.all_pending_approvals().await.unwrap().len(), 1);
    assert!(s.expired_approvals(Utc::now()).await.unwrap().is_empty());
    assert_eq!(
        s.expired_approvals(Utc::now() + Dur::hours(1))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.decide_approval("apr-1", ApprovalOutcome::Approved, "alice", "go")
            .await
            .unwrap()
    );
    assert!(
        !s.decide_approval("apr-1", ApprovalOutcome::Rejected, "bob", "no")
            .await
            .unwrap(),
        "a second decision loses"
    );
    let got = s.get_approval("apr-1").await.unwrap().unwrap();
    assert_eq!(got.status, "approved");
    assert_eq!(got.decided_by.as_deref(), Some("alice"));
    assert_eq!(got.comment.as_deref(), Some("go"));
    assert!(got.decided_at.is_some());
    assert!(s.pending_approval("inc-p").await.unwrap().is_none());
    assert_eq!(
        s.latest_approval("inc-p")
            .await
            .unwrap()
            .unwrap()
            .request
            .approval_id,
        "apr-1"
    );
    let inc = s.get_incident("inc-p").await.unwrap().unwrap();
    assert_eq!(inc.status, IncidentStatus::Investigating);
}

/// Timestamps come back at microsecond precision.
fn req_roundtrip(r: &ApprovalRequest) -> ApprovalRequest {
    let micros = |t: chrono::DateTime<Utc>| {
        chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
    };
    ApprovalRequest {
        requested_at: micros(r.requested_at),
        expires_at: micros(r.expires_at),
        ..r.clone()
    }
}

async fn alert_rows_count_repeats_and_prune_finished_incidents(db: Db) {
    let s = Store::connect(&db.url).await.unwrap();
    let first = record("inc-g", "api-gateway", Some("fp-g"), 0);
    assert!(s.open_or_join(&first).await.unwrap().is_none(), "opened");
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    s.insert_alert_rows(
        &[
            alert_row(Some("inc-g"), "fp-g", "firing", "opened"),
            alert_row(Some("inc-g"), "fp-g", "firing", "repeated"),
            alert_row(Some("inc-g"), "fp-g", "firing", "repeated"),
            alert_row(None, "fp-other", "firing", "opened"),
        ],
        &now,
    )
    .await
    .unwrap();
    let inc = s.get_incident("inc-g").await.unwrap().unwrap();
    assert_eq!(inc.alert_count, 3, "1 + 2 repeats");
    let head = s.fingerprint_head("fp-g").await.unwrap().unwrap();
    assert_eq!(head.incident_id, "inc-g");
    assert_eq!(head.alert_count, 3);
    assert!(head.joinable());
    // The same key again joins the open incident instead of opening a second.
    let again = record("inc-g2", "api-gateway", Some("fp-g"), 0);
    let joined = s.open_or_join(&again).await.unwrap().expect("joined");
    assert_eq!(joined.incident_id, "inc-g");
    assert!(s.get_incident("inc-g2").await.unwrap().is_none());
    // Once the source resolves it, the key opens a new incident.
    s.insert_alert_rows(
        &[alert_row(Some("inc-g"), "fp-g", "resolved", "resolved")],
        &now,
    )
    .await
    .unwrap();
    assert!(
        !s.fingerprint_head("fp-g")
            .await
            .unwrap()
            .unwrap()
            .joinable()
    );
    assert!(s.open_or_join(&again).await.unwrap().is_none());
    assert_eq!(
        s.fingerprint_head("fp-g")
            .await
            .unwrap()
            .unwrap()
            .incident_id,
        "inc-g2"
    );
    // Retention: only alerts of finished incidents (or of none) go; the counts stay.
    let report =
        sentinel::agents::build_report("inc-g", IncidentStatus::Resolved, &Default::default());
    s.update_incident("inc-g", IncidentStatus::Resolved, None, &report, None)
        .await
        .unwrap();
    s.insert_alert_rows(
        &[alert_row(Some("inc-g2"), "fp-g", "firing", "opened")],
        &now,
    )
    .await
    .unwrap();
    let pruned = s.prune_alerts(Utc::now() + Dur::seconds(5)).await.unwrap();
    assert_eq!(pruned, 5, "inc-g's four rows and the unattached one");
    assert_eq!(
        s.get_incident("inc-g").await.unwrap().unwrap().alert_count,
        3
    );
    assert_eq!(
        s.prune_alerts(Utc::now() + Dur::seconds(5)).await.unwrap(),
        0
    );
    s.ping().await.unwrap();
}

async fn memories_catalogue_changes_and_eval_runs_round_trip(db: Db) {
    let s = Store::connect(&db.url).await.unwrap();
    let m = MemoryRecord {
        incident_id: "inc-m".into(),
        service: "order-service".into(),
        severity: Some("P2".into()),
        failure_class: "memory_leak".into(),
        symptoms: "rss climbing".into(),
        diagnosis: "leak in the cache".into(),
        action: "restart".into(),
        approval: "approved".into(),
        status: "resolved".into(),
        mttr_ms: 1234.5,
        created_at: chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap(),
    };
    s.insert_memory(&m, "test-embedder", &[0.25, -1.0, 3.5])
        .await
        .unwrap();
    assert!(
        s.set_memory_postmortem("inc-m", "# Postmortem")
            .await
            .unwrap()
    );
    let second = MemoryRecord {
        diagnosis: "leak in the session cache".into(),
        ..m.clone()
    };
    s.insert_memory(&second, "test-embedder", &[1.0, 2.0, 3.0])
        .await
        .unwrap();
    assert_eq!(
        s.count_memories().await.unwrap(),
        1,
        "one entry per incident"
    );
    let loaded = s.load_memories("test-embedder").await.unwrap();
    assert_eq!(loaded, vec![(second, vec![1.0, 2.0, 3.0])]);
    assert!(s.load_memories("other").await.unwrap().is_empty());
    assert_eq!(
        s.memory_postmortem("inc-m").await.unwrap().as_deref(),
        Some("# Postmortem")
    );
    assert!(!s.set_memory_postmortem("inc-none", "x").await.unwrap());

    let cat = Catalogue {
        services: vec![ServiceInfo {
            name: "api-gateway".into(),
            team: "edge".into(),
            tier: 1,
            oncall_channel: "#edge".into(),
            repo: "acme/gw".into(),
            description: "front door".into(),
            language: "go".into(),
            owners: vec!["ana".into()],
        }],
        dependencies: vec![DependencyEdge {
            from: "api-gateway".into(),
            to: "stripe".into(),
            protocol: "https".into(),
            criticality: "high".into(),
            external: true,
        }],
        runbooks: vec![Runbook {
            id: "rb-1".into(),
            service: "api-gateway".into(),
            failure_class: "bad_deploy".into(),
            title: "Roll back".into(),
            summary: "s".into(),
            steps: vec!["one".into()],
            escalation: "#edge".into(),
        }],
    };
    s.save_catalogue(&cat).await.unwrap();
    s.save_catalogue(&cat).await.unwrap();
    assert_eq!(s.load_catalogue().await.unwrap(), cat);

    let ch = ChangeEvent {
        id: "chg-1".into(),
        service: "Auth-Service".into(),
        kind: ChangeKind::Deploy,
        ts: chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap(),
        author: "ci".into(),
        description: "v2".into(),
        commit: Some("abc".into()),
        version: Some("2.0".into()),
        files_changed: vec!["a.rs".into()],
    };
    assert!(s.insert_change(&ch, "webhook").await.unwrap());
    assert!(
        !s.insert_change(&ch, "webhook").await.unwrap(),
        "deduplicated by id"
    );
    let got = s
        .changes_since(Some("auth-service"), Utc::now() - Dur::hours(1), 10)
        .await
        .unwrap();
    assert_eq!(got, vec![ch.clone()]);
    assert!(
        s.changes_since(Some("api-gateway"), Utc::now() - Dur::hours(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.changes_since(None, Utc::now() + Dur::hours(1), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let report: app::model::EvalReport = serde_json::from_value(serde_json::json!({
        "generated_at": "2026-12-01T10:00:00Z",
        "summary": {"scenarios_run": 1, "avg_total_score": 4.5, "pass_rate": 1.0,
                    "pass_threshold": 3.5, "judge_model": "deterministic", "solved": 1, "harmful": 0},
        "dimension_stats": [], "results": []
    }))
    .unwrap();
    s.insert_eval_run("ev-1", &report).await.unwrap();
    assert_eq!(s.eval_runs(5).await.unwrap(), vec![report]);
}

async fn sessions_deliveries_and_notification_state(db: Db) {
    let s = Store::connect(&db.url).await.unwrap();
    s.insert_session("h1", "alice", "tag", Utc::now() + Dur::hours(1))
        .await
        .unwrap();
    s.insert_session("h2", "bob", "tag", Utc::now() + Dur::hours(1))
        .await
        .unwrap();
    s.insert_session("h3", "bob", "tag", Utc::now() - Dur::hours(1))
        .await
        .unwrap();
    assert_eq!(
        s.live_session("h1").await.unwrap(),
        Some(("alice".to_string(), "tag".to_string()))
    );
    assert_eq!(s.live_session("h3").await.unwrap(), None, "expired");
    assert_eq!(s.list_sessions(None).await.unwrap().len(), 2);
    assert_eq!(s.list_sessions(Some("bob")).await.unwrap().len(), 1);
    assert!(s.delete_session("h1").await.unwrap());
    assert!(!s.delete_session("h1").await.unwrap());
    assert_eq!(s.delete_sessions_of("bob").await.unwrap(), 2);

    assert!(s.record_delivery("pagerduty", "d1").await.unwrap());
    assert!(
        !s.record_delivery("pagerduty", "d1").await.unwrap(),
        "a replay"
    );
    s.forget_delivery("pagerduty", "d1").await.unwrap();
    assert!(s.record_delivery("pagerduty", "d1").await.unwrap());
    assert_eq!(
        s.prune_security_state(Utc::now() + Dur::seconds(5))
            .await
            .unwrap(),
        1
    );

    s.insert_incident(&record("inc-n", "api-gateway", None, 0))
        .await
        .unwrap();
    let seqs = s
        .append_events(&[event("inc-n", 1), event("inc-n", 2)])
        .await
        .unwrap();
    assert_eq!(
        s.notify_cursor("slack").await.unwrap(),
        seqs[1],
        "starts at the end"
    );
    s.set_notify_cursor("slack", seqs[1] + 5).await.unwrap();
    s.set_notify_cursor("slack", seqs[0]).await.unwrap();
    assert_eq!(
        s.notify_cursor("slack").await.unwrap(),
        seqs[1] + 5,
        "never backwards"
    );
    s.notify_cursor("slack-old").await.unwrap();
    assert_eq!(
        s.drop_notify_cursors_except("slack", &["slack".to_string()])
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.notify_state("inc-n", "slack").await.unwrap(), None);
    s.set_notify_state("inc-n", "slack", "ts-1").await.unwrap();
    s.set_notify_state("inc-n", "slack", "ts-2").await.unwrap();
    assert_eq!(
        s.notify_state("inc-n", "slack").await.unwrap().as_deref(),
        Some("ts-2")
    );
    s.insert_dead_letter("slack", "inc-n", "opened", "{}", "HTTP 500", 5)
        .await
        .unwrap();
    let dl = s.dead_letters(Some("inc-n")).await.unwrap();
    assert_eq!(dl.len(), 1);
    assert_eq!((dl[0].attempts, dl[0].error.as_str()), (5, "HTTP 500"));
    assert!(s.dead_letters(Some("inc-x")).await.unwrap().is_empty());
    assert_eq!(s.dead_letters(None).await.unwrap().len(), 1);
}

/// Two handles on one database, each with its own pool: two replicas.
async fn two(db: &Db) -> (Store, Store) {
    (
        Store::connect(&db.url).await.unwrap(),
        Store::connect(&db.url).await.unwrap(),
    )
}

async fn replicas_race_and_exactly_one_wins(db: Db) {
    let (a, b) = two(&db).await;
    a.insert_incident(&record("inc-r", "api-gateway", None, 60))
        .await
        .unwrap();
    let report = sentinel::agents::build_report(
        "inc-r",
        IncidentStatus::AwaitingApproval,
        &Default::default(),
    );
    a.suspend_for_approval(&approval("apr-r", "inc-r", 600), None, &report, None)
        .await
        .unwrap();
    let ttl = Duration::from_secs(30);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let lease = s
                .claim_lease("inc-r", &format!("owner-{i}"), ttl, None)
                .await
                .unwrap();
            let decided = s
                .decide_approval("apr-r", ApprovalOutcome::Approved, &format!("op-{i}"), "")
                .await
                .unwrap();
            let role = s
                .claim_role("periodic", &format!("owner-{i}"), ttl)
                .await
                .unwrap();
            let rec = record(&format!("inc-dup-{i}"), "api-gateway", Some("fp-storm"), 0);
            let opened = s.open_or_join(&rec).await.unwrap().is_none();
            (lease, decided, role, opened)
        }));
    }
    let mut won = [0; 4];
    for t in tasks {
        let (l, d, r, o) = t.await.unwrap();
        for (w, x) in won.iter_mut().zip([l, d, r, o]) {
            *w += x as usize;
        }
    }
    assert_eq!(
        won,
        [1, 1, 1, 1],
        "lease, decision, role, incident: one winner each"
    );
    let storm = a
        .list_incidents(&IncidentFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.fingerprint.as_deref() == Some("fp-storm"))
        .count();
    assert_eq!(storm, 1, "one incident for the alert group");
    // The role: its holder renews, the others wait for it to expire or be released.
    let holder = b.role_holder("periodic").await.unwrap().expect("held");
    assert!(a.claim_role("periodic", &holder, ttl).await.unwrap());
    assert!(!a.claim_role("periodic", "someone-else", ttl).await.unwrap());
    b.release_role("periodic", &holder).await.unwrap();
    assert_eq!(a.role_holder("periodic").await.unwrap(), None);
    assert!(a.claim_role("periodic", "someone-else", ttl).await.unwrap());
}

/// Appends from two replicas at once while a tail reads `seq > last` in pages: the tail sees
/// every event exactly once, in sequence order (on PostgreSQL this needs the append lock:
/// without it a sequence number taken early could commit after a later one was read).
async fn a_tail_reading_by_sequence_misses_no_append(db: Db) {
    let (a, b) = two(&db).await;
    a.insert_incident(&record("inc-t", "api-gateway", None, 0))
        .await
        .unwrap();
    const EACH: i64 = 60;
    let writers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|s| {
            tokio::spawn(async move {
                for n in 0..EACH / 3 {
                    s.append_events(&[event("inc-t", n), event("inc-t", n), event("inc-t", n)])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let tail = {
        let s = b.clone();
        tokio::spawn(async move {
            let mut last = 0;
            let mut seen = Vec::new();
            while (seen.len() as i64) < 2 * EACH {
                for ev in s.events_after(None, last, 7).await.unwrap() {
                    assert!(ev.seq > last);
                    last = ev.seq;
                    seen.push(ev.seq);
                }
                tokio::task::yield_now().await;
            }
            seen
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    let seen = tokio::time::timeout(Duration::from_secs(30), tail)
        .await
        .expect("the tail caught up")
        .unwrap();
    let all: Vec<i64> = a
        .events_after(None, 0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seen, all, "the tail saw the log as it is, in order");
}

/// Sixteen openers of one dedup key released at the same instant, half on each replica's
/// pool, twenty times: one incident per key (without the per-key lock two transactions both
/// find no incident and both insert one).
async fn simultaneous_openers_of_one_alert_group_open_one_incident(db: Db) {
    let (a, b) = two(&db).await;
    const ROUNDS: usize = 20;
    const OPENERS: usize = 16;
    for round in 0..ROUNDS {
        let gate = std::sync::Arc::new(tokio::sync::Barrier::new(OPENERS));
        let tasks: Vec<_> = (0..OPENERS)
            .map(|i| {
                let s = if i % 2 == 0 { a.clone() } else { b.clone() };
                let gate = gate.clone();
                tokio::spawn(async move {
                    let rec = record(
                        &format!("inc-{round}-{i}"),
                        "api-gateway",
                        Some(&format!("fp-{round}")),
                        0,
                    );
                    gate.wait().await;
                    s.open_or_join(&rec).await.unwrap().is_none()
                })
            })
            .collect();
        let mut opened = 0;
        for t in tasks {
            opened += t.await.unwrap() as usize;
        }
        assert_eq!(
            opened, 1,
            "round {round}: {opened} incidents opened for one key"
        );
    }
}
