//! Episodic memory with the real local embedding model (all-MiniLM-L6-v2 on ONNX Runtime, no
//! fake): a repeated incident is found as similar with what was done about it, a different
//! failure class scores clearly lower, an open incident's twin is flagged as its duplicate, and
//! memory survives a restart. Needs the model files: `scripts/setup.sh` fetches them.

mod common;

use app::model::*;
use sentinel::agents::RunOutcome;
use sentinel::memory::embed::Embedder;
use sentinel::memory::minilm::{MINILM_NAME, MiniLmEmbedder, ModelPaths};
use sentinel::scenario::Scenario;
use sentinel::service::Sentinel;

/// Fails (never skips) when the model is missing: these tests are about the real model.
fn require_model() -> ModelPaths {
    let paths = ModelPaths::from_config(
        &sentinel::config::Config::load(&sentinel::config::Env::from_process(), None)
            .unwrap()
            .embedding,
    );
    let missing = paths.missing();
    assert!(
        missing.is_empty(),
        "the local embedding model is missing: {missing:?}. Run scripts/setup.sh (it calls \
         scripts/fetch-model.sh, which fetches it into models/all-MiniLM-L6-v2), or set \
         SENTINEL_MODEL_DIR / ORT_DYLIB_PATH"
    );
    paths
}

/// Opens and runs a scenario to its end, approving the remediation when the gate asks.
async fn run_to_end(sentinel: &Sentinel, s: &Scenario) -> (String, RunReport) {
    let (id, telemetry) = sentinel.open_scenario(s).await.unwrap();
    let outcome = sentinel.run_incident(&id, Some(telemetry)).await.unwrap();
    if matches!(outcome, RunOutcome::Suspended(_)) {
        sentinel
            .decide(
                &id,
                ApprovalDecision::parse("approve", "memory test", "tester").unwrap(),
            )
            .await
            .unwrap();
    }
    let rec = sentinel.store.get_incident(&id).await.unwrap().unwrap();
    assert!(
        matches!(
            rec.status,
            IncidentStatus::Resolved | IncidentStatus::Escalated
        ),
        "{}: {:?}",
        s.scenario_id,
        rec.status
    );
    (id, rec.report)
}

#[test]
fn the_model_embeds_meaning() {
    let model = MiniLmEmbedder::load(&require_model()).unwrap();
    assert_eq!(model.name(), MINILM_NAME);
    assert_eq!(model.dim(), 384);
    let v = model
        .embed(&[
            "database connection pool exhausted",
            "Postgres is out of connections",
            "the cat sat on the mat",
        ])
        .unwrap();
    let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    for x in &v {
        assert!((cos(x, x) - 1.0).abs() < 1e-4, "unit vectors");
    }
    let related = cos(&v[0], &v[1]);
    let unrelated = cos(&v[0], &v[2]);
    assert!(
        related > unrelated + 0.25,
        "related {related} vs unrelated {unrelated}"
    );
    // Batching gives the same vectors as one at a time.
    let one = model.embed(&["Postgres is out of connections"]).unwrap();
    assert!(cos(&one[0], &v[1]) > 0.999);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_incident_is_remembered_and_survives_a_restart() {
    require_model();
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::test_config(dir.path());
    let sentinel = sentinel::bootstrap::sentinel(cfg.clone()).await.unwrap();
    assert_eq!(sentinel.embedder_name(), Some(MINILM_NAME));
    let pool = sentinel.scenario("db_pool_01").unwrap();
    let leak = sentinel.scenario("memory_leak_01").unwrap();

    let (first, first_report) = run_to_end(&sentinel, &pool).await;
    assert_eq!(sentinel.memory.as_ref().unwrap().len(), 1);
    let first_action = first_report
        .remediation
        .as_ref()
        .unwrap()
        .action
        .to_string();

    // The same failure again: triage lists the first run as similar, with what was done.
    let (second, report) = run_to_end(&sentinel, &pool).await;
    let triage = report.triage.as_ref().unwrap();
    let hit = triage
        .similar
        .iter()
        .find(|s| s.incident_id == first)
        .unwrap_or_else(|| panic!("first run not in similar: {:?}", triage.similar));
    assert!(hit.similarity >= 0.85, "similarity {}", hit.similarity);
    assert_eq!(hit.service.as_deref(), Some("payment-service"));
    assert_eq!(hit.action.as_deref(), Some(first_action.as_str()));
    assert!(!hit.summary.clone().unwrap_or_default().is_empty());
    assert_eq!(hit.outcome.as_deref(), Some("approved"));
    assert_eq!(
        triage.duplicate_of, None,
        "the first run is resolved, not open"
    );

    // A different failure class (memory leak on another service) scores clearly lower.
    let (_, leak_report) = run_to_end(&sentinel, &leak).await;
    let leak_triage = leak_report.triage.as_ref().unwrap();
    for s in &leak_triage.similar {
        assert!(
            s.similarity < hit.similarity - 0.3 && s.similarity < 0.6,
            "db-pool memory {} scored {} for a memory leak",
            s.incident_id,
            s.similarity
        );
    }

    // Restart: a new Sentinel on the same database file finds the same memories.
    let query = sentinel
        .store
        .get_incident(&second)
        .await
        .unwrap()
        .unwrap()
        .alert_text();
    drop(sentinel);
    let restarted = sentinel::bootstrap::sentinel(cfg).await.unwrap();
    let memory = restarted.memory.as_ref().unwrap();
    assert_eq!(memory.len(), 3);
    let hits = memory.search(&query, 5).unwrap();
    assert_eq!(hits.len(), 3);
    let top: Vec<&str> = hits[..2]
        .iter()
        .map(|h| h.record.incident_id.as_str())
        .collect();
    assert!(
        top.contains(&first.as_str()) && top.contains(&second.as_str()),
        "{top:?}"
    );
    assert!(hits[1].similarity >= 0.85, "{}", hits[1].similarity);
    assert_eq!(hits[2].record.failure_class, "memory_leak");
    assert!(hits[2].similarity < 0.6, "{}", hits[2].similarity);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twin_of_an_open_incident_is_its_duplicate() {
    require_model();
    let dir = tempfile::tempdir().unwrap();
    let sentinel = sentinel::bootstrap::sentinel(common::test_config(dir.path()))
        .await
        .unwrap();
    let pool = sentinel.scenario("db_pool_01").unwrap();
    let leak = sentinel.scenario("memory_leak_01").unwrap();
    // Opened, not yet run: an open incident on payment-service.
    let (open_id, _) = sentinel.open_scenario(&pool).await.unwrap();
    // An alert on another service is no duplicate.
    let (_, leak_report) = run_to_end(&sentinel, &leak).await;
    assert_eq!(leak_report.triage.unwrap().duplicate_of, None);
    // The same alert again while the first is open is its duplicate.
    let (id, telemetry) = sentinel.open_scenario(&pool).await.unwrap();
    sentinel.run_incident(&id, Some(telemetry)).await.unwrap();
    let report = sentinel
        .store
        .get_incident(&id)
        .await
        .unwrap()
        .unwrap()
        .report;
    assert_eq!(
        report.triage.unwrap().duplicate_of.as_deref(),
        Some(open_id.as_str())
    );
    // Its status update names the incident that carries the investigation and claims only
    // the stages that ran.
    let comms = report.comms.unwrap().summary;
    assert!(
        comms.contains(&format!("investigated under {open_id}")),
        "{comms}"
    );
    assert!(comms.contains("Sentinel investigated: triage\n"), "{comms}");
}
