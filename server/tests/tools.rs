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

/// Every tool's typed output is what its JSON says; a result cut for size is read back from
/// the cut JSON, so a built-in policy sees exactly what a model would.
#[tokio::test]
async fn typed_outputs_match_their_json_even_when_cut() {
    use sentinel::tools::fetch_logs::FetchLogs;
    use sentinel::tools::get_dependencies::GetDependencies;
    use sentinel::tools::list_recent_deploys::ListRecentDeploys;
    use sentinel::tools::registry::MAX_RESULT_BYTES;

    let dir = tempfile::tempdir().unwrap();
    let s = sentinel::bootstrap::sentinel(common::test_config(dir.path()))
        .await
        .unwrap();
    let sc = s.scenario("db_pool_01").unwrap();
    let (id, telemetry) = s.open_scenario(&sc).await.unwrap();
    let rec = s.store.get_incident(&id).await.unwrap().unwrap();
    let ctx = s.tool_context(&rec, telemetry);
    let reg = Registry::standard();

    let deploys = reg
        .call(
            &ctx,
            "list_recent_deploys",
            serde_json::json!({ "hours_back": 72 }),
        )
        .await
        .unwrap();
    let typed = deploys
        .typed
        .as_ref()
        .and_then(|t| t.get::<ListRecentDeploys>())
        .expect("typed deploys");
    assert!(!typed.deploys.is_empty());
    assert_eq!(serde_json::to_value(typed).unwrap(), deploys.value);
    assert!(deploys.value["deploys"][0]["minutes_before_alert"].is_number());
    // A typed output of one tool is not another's.
    assert!(
        deploys
            .typed
            .as_ref()
            .unwrap()
            .get::<GetDependencies>()
            .is_none()
    );

    let logs = reg
        .call(
            &ctx,
            "fetch_logs",
            serde_json::json!({ "limit": 500, "hours_back": 24 }),
        )
        .await
        .unwrap();
    let typed = logs
        .typed
        .as_ref()
        .and_then(|t| t.get::<FetchLogs>())
        .expect("typed logs");
    assert_eq!(
        typed.lines.len(),
        logs.value["lines"].as_array().unwrap().len()
    );
    if logs.value.get("truncated").is_some() && logs.value.to_string().len() <= MAX_RESULT_BYTES {
        assert!(typed.truncated.is_some());
    }
    assert!(logs.value.to_string().len() <= MAX_RESULT_BYTES);

    // The gate's output carries the request for the runner, never into the JSON.
    let gate = reg
        .call(
            &ctx,
            "request_human_approval",
            serde_json::json!({ "action": "Rollback", "target": "d-1", "risk": "low", "evidence": ["e"] }),
        )
        .await
        .unwrap();
    let req = gate.suspend.expect("the gate suspends");
    assert_eq!(req.action, app::model::RemediationAction::Rollback);
    assert_eq!(gate.value["approval_id"], req.approval_id.as_str());
    assert!(gate.value.get("request").is_none(), "{}", gate.value);
}
