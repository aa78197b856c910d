//! Black-box tests of the real `sentinel` binary: the CLI contract of CONTRACTS.md §3.

use std::process::Command;

fn sentinel(data: &std::path::Path) -> Command {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_sentinel"));
    c.current_dir(root)
        .env("SENTINEL_DATA_DIR", data)
        .env_remove("SENTINEL_DATABASE_URL")
        .env("RUST_LOG", "error");
    for k in [
        "SENTINEL_TRIAGE_MODEL",
        "SENTINEL_ANALYSIS_MODEL",
        "SENTINEL_JUDGE_MODEL",
    ] {
        c.env_remove(k);
    }
    c
}

#[test]
fn run_json_prints_exactly_one_contract_object() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentinel(dir.path())
        .args(["run", "bad_deploy_01", "--auto-approve", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim().lines().count(),
        1,
        "one JSON object on one line: {text}"
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert!(v["incident_id"].as_str().unwrap().starts_with("inc-"));
    assert_eq!(v["status"], "resolved");
    assert_eq!(v["triage"]["service"], "api-gateway");
    assert_eq!(v["triage"]["severity"], "P1");
    assert!(v["triage"]["duplicate_of"].is_null());
    assert!(v["triage"]["similar"].is_array());
    assert_eq!(v["diagnosis"]["suspect_deploy"], "deploy-gw-4812");
    assert!(v["diagnosis"]["suspect_change"].is_null());
    let c = v["diagnosis"]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c));
    assert!(v["diagnosis"]["evidence"].as_array().unwrap().len() >= 2);
    assert_eq!(v["remediation"]["action"], "rollback");
    assert_eq!(v["remediation"]["target"], "deploy-gw-4812");
    assert_eq!(v["remediation"]["approval"], "approved");
    assert!(
        v["comms"]["summary"]
            .as_str()
            .unwrap()
            .contains("Root Cause")
    );
    let calls = v["trajectory"]["tool_calls"].as_array().unwrap();
    assert!(!calls.is_empty() && calls.len() <= 15);
    for c in calls {
        assert!(
            c["agent"].is_string()
                && c["tool"].is_string()
                && c["args"].is_object()
                && c["ok"].is_boolean()
                && c["ms"].is_number()
        );
    }
    assert!(v["trajectory"]["llm_calls"].is_number());
    assert!(v["trajectory"]["elapsed_ms"].is_number());
}

#[test]
fn auto_reject_escalates_and_a_path_works_as_well_as_an_id() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let path = root.join("server/tests/fixtures/seed_bad_deploy_01.json");
    let out = sentinel(dir.path())
        .args(["run", path.to_str().unwrap(), "--auto-reject", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "escalated");
    assert_eq!(v["remediation"]["approval"], "rejected");
    assert_eq!(v["diagnosis"]["suspect_deploy"], "deploy-abc123");
}

#[test]
fn without_a_terminal_the_approval_stays_pending() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentinel(dir.path())
        .args(["run", "db_pool_02", "--json"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "awaiting_approval");
    assert_eq!(v["remediation"]["approval"], "pending");
}

#[test]
fn scenarios_lists_every_public_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentinel(dir.path()).arg("scenarios").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() > 10);
    assert!(text.contains("downstream_outage_02") && text.contains("api-gateway"));
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentinel(dir.path())
        .args(["run", "no_such_scenario"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no_such_scenario") && !err.contains("panicked"),
        "{err}"
    );

    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        r#"{"scenario_id": "x", "failure_class": "bad_deploy", "alert": {"source": "x"}}"#,
    )
    .unwrap();
    let out = sentinel(dir.path())
        .args(["run", broken.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.json") && err.contains("alert.service"),
        "{err}"
    );

    let out = sentinel(dir.path())
        .args(["run", "bad_deploy_01", "--auto-approve", "--auto-reject"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn postmortem_prints_the_draft_of_a_finished_incident() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentinel(dir.path())
        .args(["run", "bad_deploy_01", "--auto-approve", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = run["incident_id"].as_str().unwrap();
    let out = sentinel(dir.path())
        .args(["postmortem", id])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# Postmortem (draft): "), "{md}");
    for section in [
        "## Summary",
        "## Impact",
        "## Timeline (UTC)",
        "## Root cause",
        "## What helped",
        "## What hurt",
        "## Action items",
    ] {
        assert!(md.contains(section), "{section} missing:\n{md}");
    }
    // The decision and the suspect deploy the run found are in it.
    let culprit = run["diagnosis"]["suspect_deploy"].as_str().unwrap();
    assert!(md.contains(culprit), "{culprit} not named:\n{md}");
    assert!(md.contains("approved by"), "{md}");
    assert!(md.contains("- [ ] "), "no action items:\n{md}");
    // An unknown incident is an error naming the argument.
    let out = sentinel(dir.path())
        .args(["postmortem", "inc-nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("incident_id") && err.contains("inc-nope"),
        "{err}"
    );
}
