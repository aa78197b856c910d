//! Tools against the real catalogue and memory: runbook selection by service and failure
//! class, with similarity as the fallback.

mod common;

use sentinel::tools::Registry;

#[tokio::test]
async fn runbooks_by_class_then_by_similarity() {
    let dir = tempfile::tempdir().unwrap();
    let s = sentinel::bootstrap::sentinel(common::test_config(dir.path()))
        .await
        .unwrap();
    let sc = s.scenario("db_pool_01").unwrap();
    let (id, telemetry) = s.open_scenario(&sc).await.unwrap();
    let rec = s.store.get_incident(&id).await.unwrap().unwrap();
    let ctx = s.tool_context(&rec, telemetry);
    let reg = Registry::standard();

    let exact = reg
        .call(
            &ctx,
            "get_runbook",
            serde_json::json!({ "service": "payment-service", "failure_class": "db_pool" }),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(exact["matched_by"], "service and failure class");
    assert_eq!(exact["runbook"]["service"], "payment-service");

    let generic = reg
        .call(
            &ctx,
            "get_runbook",
            serde_json::json!({ "service": "search-indexer", "failure_class": "memory_leak" }),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(generic["runbook"]["service"], "*");
    assert_eq!(generic["runbook"]["failure_class"], "memory_leak");

    // No runbook is written for "slow_query": the closest one by meaning is chosen.
    let similar = reg
        .call(
            &ctx,
            "get_runbook",
            serde_json::json!({ "service": "auth-service", "failure_class": "slow_query",
                                "symptoms": "database connection pool saturated by slow queries; connections exhausted" }),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(similar["matched_by"], "similarity", "{similar}");
    assert_eq!(similar["runbook"]["failure_class"], "db_pool", "{similar}");

    // Bad arguments name the field.
    let err = reg
        .call(&ctx, "get_runbook", serde_json::json!({ "service": "x" }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("failure_class"), "{err}");
}
