//! Comms: drafts the structured status update from the conclusions of the other agents.

use crate::agents::conclusions::Conclusion;
use crate::agents::policy::*;
use crate::tools::draft_slack_summary::DraftSlackSummary;
use sentinel_model::{ApprovalOutcome, CommsReport, RemediationAction};

pub struct Comms;

#[async_trait::async_trait]
impl Policy for Comms {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        if succeeded::<DraftSlackSummary>(h) {
            let summary = output_of::<DraftSlackSummary>(h)
                .map(|r| r.text.clone())
                .unwrap_or_default();
            return Ok(Step::Conclude(Conclusion::Comms(CommsReport { summary })));
        }
        if called::<DraftSlackSummary>(h) {
            return Err(PolicyError::BadAnswer("draft_slack_summary failed".into()));
        }
        Ok(Step::Call(vec![call_tool::<DraftSlackSummary>(
            summary_args(b),
            1,
        )]))
    }
}

pub fn summary_args(b: &Brief) -> serde_json::Value {
    let a = &b.alert;
    let severity = b
        .triage
        .as_ref()
        .map(|t| t.severity.as_str())
        .unwrap_or("P?");
    let d = b.correlation.as_ref().map(|c| &c.diagnosis);
    let r = b.remediation.as_ref();
    let impact = format!(
        "{} on {} is {} (threshold {}); {} alert from {}",
        a.metric, a.service, a.current_value, a.threshold, a.severity, a.source
    );
    let duplicate_of = b.triage.as_ref().and_then(|t| t.duplicate_of.clone());
    let root_cause = d
        .map(|d| format!("{} (confidence {:.0}%)", d.summary, d.confidence * 100.0))
        .unwrap_or_else(|| match &duplicate_of {
            Some(id) => format!("investigated under {id}, which this alert duplicates"),
            None => "under investigation".into(),
        });
    let mut timeline = Vec::new();
    if let Some(c) = b.correlation.as_ref() {
        if let Some(id) = c
            .diagnosis
            .suspect_deploy
            .as_ref()
            .or(c.diagnosis.suspect_change.as_ref())
        {
            timeline.push(format!(
                "{id} landed ({})",
                c.culprit_description.clone().unwrap_or_default()
            ));
        }
        if let Some(t) = c.diagnosis.first_error_at {
            timeline.push(format!(
                "{} first error on {}",
                t.format("%H:%M:%S UTC"),
                c.diagnosis.origin_service.clone().unwrap_or_default()
            ));
        }
    }
    if let Some(t) = a.fired_at {
        timeline.push(format!(
            "{} alert fired ({} {})",
            t.format("%H:%M:%S UTC"),
            a.metric,
            a.current_value
        ));
    }
    // Only the stages that ran (a duplicate stops after triage).
    let stages: Vec<&str> = [
        Some("triage"),
        b.findings.is_some().then_some("log analysis"),
        b.correlation.is_some().then_some("deploy correlation"),
    ]
    .into_iter()
    .flatten()
    .collect();
    timeline.push(format!("Sentinel investigated: {}", stages.join(", ")));
    let (status, eta, mut items) = match r {
        Some(r) => {
            let target = r.target.clone().unwrap_or_default();
            match (r.action, r.approval) {
                (RemediationAction::Escalate, _) => (
                    format!("Escalated to the owning team: {}", r.rationale),
                    "unknown until the owning team responds".to_string(),
                    vec!["Owning team to take over the investigation".to_string()],
                ),
                (act, ApprovalOutcome::Approved) => {
                    timeline.push(format!(
                        "{act} {target} approved by {}",
                        r.decided_by.clone().unwrap_or_default()
                    ));
                    (
                        format!("Mitigating: {act} of {target} approved and in progress"),
                        "~15 minutes to recovery after the change rolls out".to_string(),
                        vec![format!(
                            "Execute the approved {act} ({target}) and watch {} for 15 minutes",
                            a.metric
                        )],
                    )
                }
                (act, ApprovalOutcome::Rejected) => {
                    timeline.push(format!(
                        "{act} {target} rejected by {}",
                        r.decided_by.clone().unwrap_or_default()
                    ));
                    (
                        format!(
                            "Escalated: the proposed {act} was rejected ({})",
                            r.decision_comment.clone().unwrap_or_default()
                        ),
                        "unknown; on-call is investigating manually".to_string(),
                        vec!["On-call to choose an alternative mitigation".to_string()],
                    )
                }
                (act, ApprovalOutcome::TimedOut) => (
                    format!("Escalated: nobody approved the proposed {act} in time"),
                    "unknown; paging the secondary on-call".to_string(),
                    vec!["Secondary on-call to review the pending proposal".to_string()],
                ),
                (act, _) => (
                    format!("Awaiting approval for {act} {target}"),
                    "pending a human decision".to_string(),
                    vec![],
                ),
            }
        }
        None => ("Investigating".to_string(), "unknown".to_string(), vec![]),
    };
    items.push("Write the post-incident review and add a regression test/alert".to_string());
    serde_json::json!({
        "service": d.and_then(|d| d.origin_service.clone()).unwrap_or_else(|| a.service.to_string()),
        "severity": severity,
        "impact": impact,
        "root_cause": root_cause,
        "timeline": timeline,
        "current_status": status,
        "action_items": items,
        "eta": eta,
    })
}
