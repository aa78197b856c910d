//! The lab end to end (README, "The lab"): `sentinel lab eval` with one bad deploy on a real
//! Prometheus and Alertmanager — the fleet's metrics scraped, the rule firing into Sentinel's
//! webhook, the agents reading Prometheus, the log files and the git history, the proposal
//! approved, the rollback carried out by the fleet's executor from Sentinel's signed
//! decision, and the alerts clearing. Needs Debian's `prometheus` and
//! `prometheus-alertmanager` (`scripts/setup.sh --test`); set `SENTINEL_SKIP_REAL_BACKENDS=1`
//! to skip on a machine without them. Plus the CLI's errors for a fault it does not know.

mod support;

use std::process::Command;

fn sentinel(data: &std::path::Path) -> Command {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_sentinel"));
    c.current_dir(root)
        .env("SENTINEL_DATA_DIR", data)
        .env_remove("SENTINEL_DATABASE_URL")
        .env_remove("SENTINEL_CONFIG")
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
fn a_bad_deploy_in_the_lab_is_caught_rolled_back_through_the_executor_and_clears() {
    if !support::fleet::require(&["prometheus", "prometheus-alertmanager", "git"]) {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let out_dir = data.path().join("out");
    let out = sentinel(data.path())
        .args([
            "lab",
            "eval",
            "--runs",
            "1",
            "--faults",
            "bad_deploy",
            "--seed",
            "3",
            "--min-solved",
            "1",
            "--max-harmful",
            "0",
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("seed 3"), "the seed is printed: {stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("eval_report.json")).unwrap())
            .unwrap();
    let r = &report["results"][0];
    assert_eq!(r["suite"], "lab");
    assert_eq!(r["solved"], true, "{r:#}");
    assert_eq!(r["harmful"], false);
    assert_eq!(r["trajectory"]["action"], "rollback", "{r:#}");
    let verdict = r["verdict"].as_str().unwrap();
    assert!(
        verdict.contains("recovered after the decision"),
        "{verdict}"
    );
    assert_eq!(report["summary"]["suites"][0]["suite"], "lab");
    let md = std::fs::read_to_string(out_dir.join("eval_report.md")).unwrap();
    assert!(md.contains("| bad_deploy | 1 | 1 | 0 |"), "{md}");
}

#[test]
fn lab_commands_name_what_is_wrong() {
    let data = tempfile::tempdir().unwrap();
    let out = sentinel(data.path())
        .args(["lab", "faults"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    assert_eq!(list.lines().count(), 15, "a header and 14 kinds: {list}");
    let out = sentinel(data.path())
        .args(["lab", "inject", "meteor"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("fault: unknown fault \"meteor\""));
    let out = sentinel(data.path())
        .args(["lab", "eval", "--runs", "1", "--faults", "meteor"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--faults: unknown fault"));
    // A fleet that is not running is named, not waited for.
    let port = support::fleet::free_port();
    let out = sentinel(data.path())
        .args([
            "lab",
            "inject",
            "bad_deploy",
            "--control",
            &format!("127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the fleet does not answer"));
}

#[test]
fn the_shipped_alert_rules_load_in_prometheus() {
    if !support::fleet::require(&["promtool"]) {
        return;
    }
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/deploy/rules.yml");
    let out = Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(&rules)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("SUCCESS: 4 rules found"), "{text}");
}
