//! The evidence model end to end on incidents built here: the version split clears a deploy
//! whose old-version instances fail the same way (no rollback, the hypothesis exonerated) and
//! confirms one whose errors come only from its own instances.

mod common;

use app::model::*;
use sentinel::agents::RunOutcome;
use sentinel::scenario::{Scenario, parse_scenario};
use serde_json::json;

const T0: &str = "2026-05-04T10:00:00Z";

fn at(min: i64) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(T0).unwrap() + chrono::Duration::minutes(min);
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// checkout runs 2.4.0; `deploy-co-77` ships 2.4.1 to half the instances at minute 0; errors
/// start at minute 8 on the versions `failing`.
fn incident(error: &str, failing: &[&str]) -> Scenario {
    let mut logs = vec![];
    for m in (-60..0).step_by(10) {
        logs.push(json!({ "ts": at(m), "level": "INFO", "service": "checkout", "message": format!("request served in 42ms version=2.4.0 pod=checkout-a{m}") }));
    }
    for m in 1..30 {
        logs.push(json!({ "ts": at(m), "level": "WARNING", "service": "checkout", "message": "slow request 900ms version=2.4.0 pod=checkout-a1" }));
        logs.push(json!({ "ts": at(m), "level": "INFO", "service": "checkout", "message": "request served in 40ms version=2.4.1 pod=checkout-b1" }));
    }
    for m in 8..30 {
        for v in failing {
            logs.push(json!({ "ts": at(m), "level": "ERROR", "service": "checkout", "message": format!("{error} version={v}") }));
        }
    }
    let text = json!({
        "scenario_id": "evidence-split", "failure_class": "other",
        "alert": { "source": "prometheus", "service": "checkout", "metric": "error_ratio", "threshold": 0.05,
                   "current_value": 0.3, "severity": "critical", "fired_at": at(31) },
        "known_root_cause": null,
        "ground_truth": { "severity": "P1", "affected_service": "checkout", "root_cause_summary": "x",
                          "recommended_action": "escalate", "deploy_id": null },
        "logs": logs,
        "deploys": [{ "id": "deploy-co-77", "service": "checkout", "ts": at(0), "author": "dev",
                      "commit": "9f1e2d3", "files_changed": ["src/cart/total.rs", "src/payments/client.rs"],
                      "description": "checkout 2.4.1: cart totals refactor, payments client retries" }]
    })
    .to_string();
    parse_scenario(&text, std::path::Path::new("evidence.json")).unwrap()
}

async fn run(s: &Scenario) -> RunReport {
    let dir = tempfile::tempdir().unwrap();
    let sentinel = sentinel::bootstrap::sentinel(common::test_config(dir.path()))
        .await
        .unwrap();
    let (id, telemetry) = sentinel.open_scenario(s).await.unwrap();
    let out = sentinel.run_incident(&id, Some(telemetry)).await.unwrap();
    if let RunOutcome::Suspended(_) = out {
        sentinel
            .decide(
                &id,
                ApprovalDecision::parse("approve", "t", "tester").unwrap(),
            )
            .await
            .unwrap();
    }
    sentinel
        .store
        .get_incident(&id)
        .await
        .unwrap()
        .unwrap()
        .report
}

fn hypothesis<'a>(r: &'a RunReport, target: &str) -> &'a Hypothesis {
    r.diagnosis
        .as_ref()
        .unwrap()
        .hypotheses
        .iter()
        .find(|h| h.target.as_deref() == Some(target))
        .unwrap_or_else(|| panic!("no hypothesis for {target}: {:?}", r.diagnosis))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_on_the_old_version_too_exonerate_the_deploy() {
    let r = run(&incident(
        "payments client: POST /v1/charges upstream timeout after 3 retries (payments-provider 504)",
        &["2.4.0", "2.4.1"],
    ))
    .await;
    let h = hypothesis(&r, "deploy-co-77");
    assert!(h.exonerated && !h.explains, "{h:?}");
    assert!(
        h.against.iter().any(|a| a.contains("2.4.0")),
        "the reason names the old version: {h:?}"
    );
    let d = r.diagnosis.as_ref().unwrap();
    assert_eq!(d.suspect_deploy, None, "{d:?}");
    let m = r.remediation.unwrap();
    assert_ne!(m.action, RemediationAction::Rollback, "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_only_on_the_new_version_convict_it() {
    let r = run(&incident(
        "panic in cart totals: attempt to divide by zero at src/cart/total.rs:88",
        &["2.4.1"],
    ))
    .await;
    let h = hypothesis(&r, "deploy-co-77");
    assert!(h.explains && !h.exonerated, "{h:?}");
    assert!(
        h.evidence_for
            .iter()
            .any(|e| e.contains("errors only on instances running 2.4.1")),
        "{h:?}"
    );
    let m = r.remediation.unwrap();
    assert_eq!(m.action, RemediationAction::Rollback, "{m:?}");
    assert_eq!(m.target.as_deref(), Some("deploy-co-77"));
}

/// A weak suspect next to errors that are plainly a cloud provider's is set aside: the
/// explanation without a change outscores it, and nothing is rolled back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_outage_outscores_a_weak_suspect() {
    let mut logs = vec![];
    for m in 0..30 {
        logs.push(json!({ "ts": at(m), "level": "ERROR", "service": "checkout",
            "message": format!("Uploader: PutObject s3://receipts/{m}.pdf failed after 4 attempts: AmazonS3Exception: Service Unavailable (Service: Amazon S3; Status Code: 503)") }));
    }
    let text = json!({
        "scenario_id": "evidence-vendor", "failure_class": "other",
        "alert": { "source": "prometheus", "service": "checkout", "metric": "error_ratio", "threshold": 0.05,
                   "current_value": 0.6, "severity": "critical", "fired_at": at(31) },
        "known_root_cause": null,
        "ground_truth": { "severity": "P1", "affected_service": "checkout", "root_cause_summary": "x",
                          "recommended_action": "escalate", "deploy_id": null },
        "logs": logs, "deploys": [],
        "changes": [{ "id": "chg-up-1", "kind": "config", "service": "checkout", "ts": at(-70), "author": "ops",
                      "description": "Raise receipts uploader concurrency from 8 to 12" }]
    })
    .to_string();
    let s = parse_scenario(&text, std::path::Path::new("vendor.json")).unwrap();
    let r = run(&s).await;
    let d = r.diagnosis.as_ref().unwrap();
    assert_eq!(d.suspect_change, None, "{d:?}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.starts_with("not blamed: chg-up-1")),
        "{:?}",
        d.evidence
    );
    assert_eq!(r.remediation.unwrap().action, RemediationAction::Escalate);
}

/// Calls to a dependency time out and the errors name it; the dependency logs nothing but its
/// metrics show it saturated under a surge of requests: the failure is its capacity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_dependency_behind_failing_calls_is_scaled() {
    let mut logs = vec![];
    for m in 1..30 {
        logs.push(json!({ "ts": at(m), "level": "ERROR", "service": "api-gateway",
            "message": format!("GET /api/v1/users/me 503 rt=1.2s upstream=auth-service error=DEADLINE_EXCEEDED attempt={}/5", m % 5 + 1) }));
    }
    let mut metrics = vec![];
    for m in (-60..30).step_by(3) {
        let surging = m >= 0;
        metrics.push(json!({ "ts": at(m), "service": "auth-service", "metric": "request_rate", "value": if surging { 14_000.0 } else { 3_000.0 } }));
        metrics.push(json!({ "ts": at(m), "service": "auth-service", "metric": "cpu_percent", "value": if surging { 99.0 } else { 40.0 } }));
    }
    let text = json!({
        "scenario_id": "evidence-surge", "failure_class": "other",
        "alert": { "source": "prometheus", "service": "api-gateway", "metric": "error_rate", "threshold": 0.05,
                   "current_value": 0.5, "severity": "critical", "fired_at": at(31) },
        "known_root_cause": null,
        "ground_truth": { "severity": "P1", "affected_service": "auth-service", "root_cause_summary": "x",
                          "recommended_action": "scale", "deploy_id": null },
        "logs": logs, "deploys": [], "metrics": metrics
    })
    .to_string();
    let s = parse_scenario(&text, std::path::Path::new("surge.json")).unwrap();
    let r = run(&s).await;
    let d = r.diagnosis.as_ref().unwrap();
    assert_eq!(d.origin_service.as_deref(), Some("auth-service"), "{d:?}");
    assert_eq!(d.failure_class.to_string(), "traffic_surge");
    let m = r.remediation.unwrap();
    assert_eq!(m.action, RemediationAction::Scale, "{m:?}");
    assert_eq!(m.target.as_deref(), Some("auth-service"));
}
