//! Tools against the real catalogue and memory: runbook selection by service and failure
//! class, with similarity as the fallback.

mod common;

use sentinel::tools::Registry;

/// Sentinel on `cfg` with the `db_pool_01` scenario's incident open: what a tool call needs.
async fn scenario_incident(
    cfg: sentinel::config::Config,
) -> (
    sentinel::service::Sentinel,
    sentinel::store::IncidentRecord,
    std::sync::Arc<sentinel::telemetry::Telemetry>,
) {
    let s = sentinel::bootstrap::sentinel(cfg).await.unwrap();
    let sc = s.scenario("db_pool_01").unwrap();
    let (id, telemetry) = s.open_scenario(&sc).await.unwrap();
    let rec = s.store.get_incident(&id).await.unwrap().unwrap();
    (s, rec, telemetry)
}

#[tokio::test]
async fn runbooks_by_class_then_by_similarity() {
    let dir = tempfile::tempdir().unwrap();
    let (s, rec, telemetry) = scenario_incident(common::test_config(dir.path())).await;
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
    let (s, rec, telemetry) = scenario_incident(common::test_config(dir.path())).await;
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

/// The user's own catalogue (`[catalog]`): Backstage descriptors and Markdown runbooks are
/// what the tools read, over the demo catalogue, and an edit is picked up without a restart.
#[tokio::test]
async fn own_catalogue_files_feed_the_tools_and_reload_on_change() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("catalog");
    std::fs::create_dir_all(&files).unwrap();
    let descriptor = |tier: u8| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger\n  annotations:\n    sentinel.io/tier: \"{tier}\"\n    slack.com/channel: \"#ledger\"\nspec:\n  type: service\n  owner: group:finance\n  dependsOn: [component:payment-service]\n"
        )
    };
    std::fs::write(files.join("catalog-info.yaml"), descriptor(1)).unwrap();
    std::fs::write(
        files.join("ledger-pool.md"),
        "---\nservice: ledger\nkind: db_pool\n---\n# Ledger pool exhaustion\n\nThe ledger's pool runs dry.\n\n1. Raise max_connections\n2. Find the slow query\n",
    )
    .unwrap();
    let mut cfg = common::test_config(dir.path());
    let toml = format!(
        "[catalog]\nbackstage = [\"{0}/*.yaml\"]\nrunbooks = [\"{0}/*.md\"]\nreload_secs = 1\n",
        files.display()
    );
    cfg.file = sentinel::config::FileConfig::parse(std::path::Path::new("s.toml"), &toml).unwrap();
    let (s, rec, telemetry) = scenario_incident(cfg).await;
    let reg = Registry::standard();
    let meta = |s: &sentinel::service::Sentinel| {
        let ctx = s.tool_context(&rec, telemetry.clone());
        let reg = &reg;
        async move {
            reg.call(
                &ctx,
                "get_service_metadata",
                serde_json::json!({ "service": "ledger" }),
            )
            .await
            .unwrap()
            .value
        }
    };
    let m = meta(&s).await;
    assert_eq!(m["tier"], 1, "{m}");
    assert_eq!(m["team"], "finance");
    assert_eq!(m["oncall_channel"], "#ledger");
    // The demo catalogue is still there.
    assert_eq!(meta(&s).await["known"], true);
    let ctx = s.tool_context(&rec, telemetry.clone());
    let rb = reg
        .call(
            &ctx,
            "get_runbook",
            serde_json::json!({ "service": "ledger", "failure_class": "db_pool" }),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(rb["runbook"]["id"], "ledger-pool", "{rb}");
    assert_eq!(rb["runbook"]["steps"].as_array().unwrap().len(), 2);
    let deps = reg
        .call(
            &ctx,
            "get_dependencies",
            serde_json::json!({ "service": "ledger", "transitive": false }),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(
        deps["depends_on"][0]["service"], "payment-service",
        "{deps}"
    );
    let demo = reg
        .call(
            &ctx,
            "get_service_metadata",
            serde_json::json!({ "service": "payment-service" }),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(
        demo["known"], true,
        "the demo catalogue stays under the user's"
    );

    // An edit is picked up; a broken edit keeps the last good catalogue.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(files.join("catalog-info.yaml"), descriptor(3)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while meta(&s).await["tier"] != 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the edit was not reloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    std::fs::write(files.join("catalog-info.yaml"), "apiVersion: [broken").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(meta(&s).await["tier"], 3);
}

/// The engine's analyzers as tools: `correlate_changes` reads the telemetry itself and ranks
/// every change with its evidence; `metric_onsets` dates the symptoms. What a model is offered
/// is what the built-in correlator concludes.
#[tokio::test]
async fn the_analyzers_are_tools_that_agree_with_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let s = sentinel::bootstrap::sentinel(common::test_config(dir.path()))
        .await
        .unwrap();
    let sc = s.scenario("bad_deploy_01").unwrap();
    let (id, telemetry) = s.open_scenario(&sc).await.unwrap();
    let rec = s.store.get_incident(&id).await.unwrap().unwrap();
    let ctx = s.tool_context(&rec, telemetry.clone());
    let reg = Registry::standard();
    let c = reg
        .call(&ctx, "correlate_changes", serde_json::json!({}))
        .await
        .unwrap()
        .value;
    assert_eq!(c["suspect"], "deploy-gw-4812", "{c}");
    let top = &c["hypotheses"][0];
    assert_eq!(top["target"], "deploy-gw-4812");
    assert!(!top["for"].as_array().unwrap().is_empty(), "{top}");
    assert!(c["changes_considered"].as_u64().unwrap() >= 1);
    assert!(c["unavailable"].as_array().unwrap().is_empty(), "{c}");
    // The built-in run names the same culprit.
    let out = s.run_incident(&id, Some(telemetry.clone())).await.unwrap();
    assert!(matches!(out, sentinel::agents::RunOutcome::Suspended(_)));
    let r = s.store.get_incident(&id).await.unwrap().unwrap().report;
    assert_eq!(
        r.diagnosis.unwrap().suspect_deploy.as_deref(),
        Some("deploy-gw-4812")
    );
    // Bad arguments are named.
    let e = reg
        .call(&ctx, "correlate_changes", serde_json::json!({ "hours": 3 }))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("hours"), "{e}");

    let m = reg
        .call(
            &ctx,
            "metric_onsets",
            serde_json::json!({ "service": "api-gateway", "hours_back": 6 }),
        )
        .await
        .unwrap()
        .value;
    let series = m["series"].as_array().unwrap();
    assert!(!series.is_empty(), "{m}");
    assert!(m["symptoms_changed_at"].is_string(), "{m}");
}
