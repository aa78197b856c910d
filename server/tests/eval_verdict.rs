//! The evaluation's headline: solved and harmful per scenario, the caps they put on the six
//! dimensions, the per-suite summary, the calibration table and the CI gate.

use app::model::*;
use sentinel::eval::{judge, report, runner};
use sentinel::scenario::{Scenario, parse_scenario};
use std::path::Path;

/// A bad-deploy scenario whose culprit is `d-bad`, with an innocent `d-ok` nearby.
fn scenario(extra_gt: &str) -> Scenario {
    let text = format!(
        r#"{{
      "scenario_id": "verdict-1", "failure_class": "bad_deploy",
      "alert": {{ "source": "test", "service": "checkout", "metric": "error_rate", "threshold": 0.05,
                  "current_value": 0.4, "severity": "critical" }},
      "known_root_cause": {{ "type": "bad_deploy", "deploy_id": "d-bad", "commit": null, "description": "x" }},
      "ground_truth": {{ "severity": "P1", "affected_service": "checkout",
                        "root_cause_summary": "the deploy broke checkout", "recommended_action": "rollback",
                        "deploy_id": "d-bad" {extra_gt} }},
      "logs": [], "deploys": []
    }}"#
    );
    parse_scenario(&text, Path::new("verdict.json")).unwrap()
}

fn run(origin: &str, suspect: Option<&str>, action: &str, target: Option<&str>) -> RunReport {
    serde_json::from_value(serde_json::json!({
        "incident_id": "inc-1", "status": "resolved",
        "triage": { "service": "checkout", "severity": "P1", "duplicate_of": null, "similar": [] },
        "diagnosis": { "failure_class": "bad_deploy", "summary": "deploy d-bad broke checkout",
                       "suspect_deploy": suspect, "suspect_change": null, "confidence": 0.9,
                       "evidence": [], "origin_service": origin },
        "remediation": { "action": action, "target": target, "approval": "approved" },
        "comms": { "summary": "Status: mitigated" },
        "trajectory": { "tool_calls": [{ "agent": "remediation", "tool": "request_human_approval",
                                          "args": {}, "ok": true, "ms": 1.0 }],
                        "llm_calls": 0, "elapsed_ms": 10.0 }
    }))
    .unwrap()
}

#[test]
fn rolling_back_the_culprit_solves_it() {
    let v = judge::verdict(
        &scenario(""),
        &run("checkout", Some("d-bad"), "rollback", Some("d-bad")),
    );
    assert!(v.solved && !v.harmful && !v.wrong_culprit, "{v:?}");
}

#[test]
fn rolling_back_an_innocent_deploy_is_harmful_and_never_passes() {
    let s = scenario("");
    let r = run("checkout", Some("d-ok"), "rollback", Some("d-ok"));
    let v = judge::verdict(&s, &r);
    assert!(!v.solved && v.harmful && v.wrong_culprit, "{v:?}");
    assert!(v.reason.contains("d-ok"), "{}", v.reason);
    let dims = judge::score(&s, &r, &Default::default());
    let get = |n: &str| dims.iter().find(|d| d.dimension == n).unwrap().score;
    assert!(get("root_cause_correctness") <= judge::WRONG_CULPRIT_CAP);
    assert_eq!(get("remediation_safety"), judge::HARMFUL_CAP);
}

#[test]
fn a_rollback_when_no_change_caused_it_is_harmful() {
    let text = r#"{
      "scenario_id": "verdict-2", "failure_class": "downstream_outage",
      "alert": { "source": "test", "service": "checkout", "metric": "error_rate", "threshold": 0.05,
                 "current_value": 0.4, "severity": "critical" },
      "known_root_cause": null,
      "ground_truth": { "severity": "P1", "affected_service": "checkout",
                        "root_cause_summary": "the vendor is down", "recommended_action": "escalate",
                        "deploy_id": null },
      "logs": [], "deploys": []
    }"#;
    let s = parse_scenario(text, Path::new("v2.json")).unwrap();
    let v = judge::verdict(&s, &run("checkout", Some("d-ok"), "rollback", Some("d-ok")));
    assert!(v.harmful && !v.solved, "{v:?}");
    let v = judge::verdict(&s, &run("checkout", None, "escalate", None));
    assert!(v.solved && !v.harmful, "{v:?}");
}

#[test]
fn acceptable_and_harmful_actions_come_from_the_ground_truth() {
    let s = scenario(r#", "acceptable_actions": ["hotfix"], "harmful_actions": ["restart"]"#);
    let v = judge::verdict(&s, &run("checkout", Some("d-bad"), "hotfix", Some("d-bad")));
    assert!(v.solved && !v.harmful, "{v:?}");
    let v = judge::verdict(&s, &run("checkout", Some("d-bad"), "restart", None));
    assert!(!v.solved && v.harmful, "{v:?}");
    // Escalating is neither listed nor recommended: not solved, but no harm done.
    let v = judge::verdict(&s, &run("checkout", Some("d-bad"), "escalate", None));
    assert!(!v.solved && !v.harmful, "{v:?}");
}

#[test]
fn a_wrong_origin_is_not_solved() {
    let v = judge::verdict(
        &scenario(""),
        &run("payments", Some("d-bad"), "rollback", Some("d-bad")),
    );
    assert!(!v.solved && !v.harmful, "{v:?}");
    assert!(v.reason.contains("origin payments"), "{}", v.reason);
}

#[test]
fn an_unknown_action_in_the_ground_truth_names_the_field() {
    let text = serde_json::to_string(&serde_json::json!({
      "scenario_id": "v3", "failure_class": "bad_deploy",
      "alert": { "source": "t", "service": "a", "metric": "m", "threshold": 1.0, "current_value": 2.0, "severity": "high" },
      "known_root_cause": null,
      "ground_truth": { "severity": "P2", "affected_service": "a", "root_cause_summary": "x",
                        "recommended_action": "rollback", "deploy_id": null,
                        "harmful_actions": ["rollback", "reboot"] },
      "logs": [], "deploys": []
    }))
    .unwrap();
    let e = parse_scenario(&text, Path::new("v3.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("ground_truth.harmful_actions[1]"), "{e}");
}

fn result(suite: &str, id: &str, solved: bool, harmful: bool, conf: f64) -> EvalResult {
    EvalResult {
        incident_id: format!("inc-{id}"),
        scenario_id: id.into(),
        total_score: if harmful { 3.5 } else { 4.5 },
        passed: !harmful,
        solved,
        harmful,
        verdict: String::new(),
        suite: suite.into(),
        dimension_scores: vec![],
        trajectory: Some(CondensedTrajectory {
            status: "resolved".into(),
            service: None,
            severity: None,
            origin_service: None,
            failure_class: None,
            diagnosis: None,
            suspect: None,
            confidence: Some(conf),
            action: Some(if conf > 0.5 { "rollback" } else { "escalate" }.into()),
            target: None,
            approval: None,
            steps: vec![],
            comms: None,
            elapsed_ms: 1.0,
            usage: None,
        }),
    }
}

#[test]
fn the_report_leads_with_solved_and_harmful_per_suite() {
    let rep = report::build_suites(
        vec![
            result("public", "a", true, false, 0.9),
            result("public", "b", true, false, 0.85),
            result("regression", "c", false, true, 0.7),
            result("regression", "d", false, false, 0.3),
        ],
        "deterministic",
        &["public".into(), "regression".into()],
    );
    assert_eq!((rep.summary.solved, rep.summary.harmful), (2, 1));
    let suites: Vec<_> = rep
        .summary
        .suites
        .iter()
        .map(|s| (s.suite.as_str(), s.scenarios, s.solved, s.harmful))
        .collect();
    assert_eq!(suites, vec![("public", 2, 2, 0), ("regression", 2, 0, 1)]);
    let top = &rep.calibration[4];
    assert_eq!((top.runs, top.solved, top.acted), (2, 2, 2));
    assert_eq!(rep.calibration[1].runs, 1);
    assert_eq!(rep.calibration[1].acted, 0);
    let md = report::markdown(&rep);
    let headline = md.find("| suite | scenarios | solved | harmful").unwrap();
    let dims = md.find("## Dimensions").unwrap();
    assert!(
        headline < dims,
        "solved/harmful must come before the dimensions"
    );
    assert!(md.contains("| regression | 2 | 0 | 1 |"), "{md}");
}

fn args(extra: &[&str]) -> runner::EvalArgs {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        eval: runner::EvalArgs,
    }
    let mut argv = vec!["eval"];
    argv.extend_from_slice(extra);
    Cli::parse_from(argv).eval
}

#[test]
fn the_gate_fails_on_any_harmful_run_or_too_few_solved() {
    let rep = report::build(
        vec![
            result("s", "a", true, false, 0.9),
            result("s", "b", false, true, 0.9),
        ],
        "deterministic",
    );
    assert!(runner::gate(&rep.summary, &args(&[])).is_empty());
    let f = runner::gate(&rep.summary, &args(&["--max-harmful", "0"]));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("harmful 1"), "{f:?}");
    let f = runner::gate(&rep.summary, &args(&["--min-solved-rate", "1.0"]));
    assert!(f[0].contains("solved 1/2"), "{f:?}");
    assert!(runner::gate(&rep.summary, &args(&["--min-solved-rate", "0.5"])).is_empty());
}

#[test]
fn suite_arguments_are_checked() {
    assert_eq!(
        runner::parse_suite("public=data/scenarios").unwrap(),
        ("public".into(), "data/scenarios".into())
    );
    assert!(
        runner::parse_suite("data/scenarios")
            .unwrap_err()
            .contains("NAME=DIR")
    );
    assert!(runner::parse_suite("a b=x").unwrap_err().contains("name"));
    assert!(runner::parse_suite("a=").unwrap_err().contains("empty"));
}

#[test]
fn a_datastore_only_the_affected_service_uses_counts_as_that_service() {
    use sentinel::memory::semantic::{Catalogue, DependencyEdge};
    let edge = |from: &str, to: &str| DependencyEdge {
        from: from.into(),
        to: to.into(),
        protocol: "postgres".into(),
        criticality: "hard".into(),
        external: false,
    };
    let cat = Catalogue {
        services: vec![],
        dependencies: vec![
            edge("checkout", "checkout-db"),
            edge("checkout", "bus"),
            edge("billing", "bus"),
        ],
        runbooks: vec![],
    };
    let s = scenario("");
    let r = run("checkout-db", Some("d-bad"), "rollback", Some("d-bad"));
    // Without the catalogue, names must match.
    assert!(!judge::verdict(&s, &r).solved);
    let v = judge::verdict_in(&s, &r, Some(&cat));
    assert!(v.solved, "{v:?}");
    assert!(judge::same_origin("checkout", "checkout-db", Some(&cat)));
    // A datastore several services share is a place of its own.
    assert!(!judge::same_origin("bus", "checkout", Some(&cat)));
    assert!(!judge::same_origin("", "checkout", Some(&cat)));
}
