//! Remediation: reads the runbook, measures traffic when capacity is in question, chooses the
//! action, drafts it, and asks a human to approve. Escalation needs no approval.

use crate::agents::conclusions::{Conclusion, RemediationPlan};
use crate::agents::policy::*;
use crate::engine::correlate::{self, Candidate, Scored};
use crate::engine::decide::{self, ActionChoice};
use crate::engine::lexicon;
use crate::tools::Draft;
use crate::tools::{
    draft_flag_change::DraftFlagChange, draft_hotfix::DraftHotfix,
    draft_restart_plan::DraftRestartPlan, draft_rollback_pr::DraftRollbackPr,
    draft_scaling_plan::DraftScalingPlan, get_runbook::GetRunbook, query_metrics::QueryMetrics,
    request_human_approval::RequestHumanApproval,
};
use sentinel_model::{ChangeKind, RemediationAction};

#[derive(Default)]
pub struct Remediation {
    choice: Option<ActionChoice>,
}

#[async_trait::async_trait]
impl Policy for Remediation {
    async fn next(&mut self, b: &Brief, h: &[Exchange]) -> Result<Step, PolicyError> {
        let corr = b
            .correlation
            .as_ref()
            .ok_or_else(|| PolicyError::BadAnswer("no diagnosis to act on".into()))?;
        let d = &corr.diagnosis;
        let origin = d
            .origin_service
            .clone()
            .unwrap_or_else(|| b.alert.service.to_string());
        if !called::<GetRunbook>(h) {
            return Ok(Step::Call(vec![call_tool::<GetRunbook>(
                serde_json::json!({ "service": origin, "failure_class": d.failure_class, "symptoms": d.summary }),
                1,
            )]));
        }
        // The correlator read the origin's metrics already (unless an LLM played it).
        let needs_traffic = !corr.metrics_read
            && d.suspect_deploy.is_none()
            && d.suspect_change.is_none()
            && d.failure_class.is_saturation();
        if needs_traffic && !called::<QueryMetrics>(h) {
            return Ok(Step::Call(vec![call_tool::<QueryMetrics>(
                serde_json::json!({ "service": origin, "hours_back": 6 }),
                2,
            )]));
        }
        if self.choice.is_none() {
            let measured = output_of::<QueryMetrics>(h).and_then(|r| {
                r.series
                    .iter()
                    .filter(|s| lexicon::is_traffic_metric(&s.metric))
                    .map(|s| s.growth_ratio)
                    .max_by(f64::total_cmp)
            });
            let traffic_growth = if corr.metrics_read {
                corr.traffic_growth
            } else {
                measured
            };
            let culprit = culprit_of(corr);
            let outgrown = culprit.as_ref().and_then(|c| {
                let f = b.findings.as_ref()?;
                correlate::outgrown_number(
                    &c.candidate.description,
                    f.signatures
                        .iter()
                        .filter(|s| s.level.is_error())
                        .map(|s| s.example.as_str()),
                )
            });
            let failing_parties = b
                .findings
                .as_ref()
                .map(|f| f.failing_parties.clone())
                .unwrap_or_default();
            let mut choice = decide::choose_action(&decide::ActionInput {
                failing_parties: &failing_parties,
                failure_class: &d.failure_class,
                origin: &origin,
                confidence: d.confidence,
                culprit: culprit.as_ref(),
                traffic_growth,
                external_suspects: &b
                    .findings
                    .as_ref()
                    .map(|f| f.external_suspects.clone())
                    .unwrap_or_default(),
                healthy_dependency: corr.healthy_dependency.as_deref(),
                outgrown_number: outgrown.as_deref(),
                limit_exceeded: b
                    .findings
                    .as_ref()
                    .is_some_and(|f| f.mentions(lexicon::LIMIT_EXCEEDED)),
                serves_failing_certificate: b
                    .findings
                    .as_ref()
                    .is_some_and(|f| f.mentions(lexicon::SERVED_CERTIFICATE_REJECTED)),
            });
            if let Some(why) = crate::agents::safety::refuse_change(
                choice.action,
                choice.target.as_deref(),
                Some(d),
            ) {
                choice = ActionChoice {
                    action: RemediationAction::Escalate,
                    target: None,
                    rationale: format!("not proposing a {}: {why}", choice.action),
                    risk: "none: no production change proposed".into(),
                };
            }
            let draft = match choice.action {
                RemediationAction::Rollback if d.suspect_deploy.is_some() => {
                    Some(call_tool::<DraftRollbackPr>(
                        serde_json::json!({ "service": origin, "deploy_id": choice.target, "reason": d.summary }),
                        3,
                    ))
                }
                RemediationAction::Rollback | RemediationAction::DisableFlag => {
                    Some(call_tool::<DraftFlagChange>(
                        serde_json::json!({ "service": origin, "change_id": choice.target, "reason": d.summary }),
                        3,
                    ))
                }
                RemediationAction::Hotfix => Some(call_tool::<DraftHotfix>(
                    serde_json::json!({ "service": origin, "summary": d.summary, "deploy_id": choice.target, "why_not_rollback": choice.rationale }),
                    3,
                )),
                RemediationAction::Scale => Some(call_tool::<DraftScalingPlan>(
                    serde_json::json!({ "service": origin, "reason": choice.rationale, "resource": "replicas" }),
                    3,
                )),
                RemediationAction::Restart => Some(call_tool::<DraftRestartPlan>(
                    serde_json::json!({ "service": origin, "reason": choice.rationale }),
                    3,
                )),
                RemediationAction::Escalate => None,
            };
            self.choice = Some(choice.clone());
            if let Some(draft) = draft {
                return Ok(Step::Call(vec![draft]));
            }
        }
        let choice = self.choice.clone().unwrap_or_else(|| ActionChoice {
            action: RemediationAction::Escalate,
            target: None,
            rationale: "no plan".into(),
            risk: "none".into(),
        });
        let draft = h
            .iter()
            .rev()
            .find(|e| e.tool.starts_with("draft_") && e.ok)
            .and_then(|e| e.output.as_ref())
            .and_then(|o| o.downcast::<Draft>());
        if choice.action.is_destructive() && !called::<RequestHumanApproval>(h) {
            let mut evidence = vec![choice.rationale.clone()];
            evidence.extend(d.evidence.iter().take(6).cloned());
            evidence.push(format!("diagnosis confidence {:.2}", d.confidence));
            return Ok(Step::Call(vec![call_tool::<RequestHumanApproval>(
                serde_json::json!({ "action": choice.action.as_str(), "target": choice.target, "risk": choice.risk, "evidence": evidence }),
                4,
            )]));
        }
        let plan = RemediationPlan {
            action: choice.action,
            target: choice.target,
            rationale: choice.rationale,
            risk: choice.risk,
            draft_id: draft.map(|r| r.draft_id.clone()),
            draft: draft.map(|r| r.body.clone()),
        };
        Ok(Step::Conclude(Conclusion::Plan(plan)))
    }
}

/// The correlator's culprit as a scored candidate.
fn culprit_of(c: &crate::agents::conclusions::CorrelationFindings) -> Option<Scored> {
    let id = c
        .diagnosis
        .suspect_deploy
        .clone()
        .or_else(|| c.diagnosis.suspect_change.clone())?;
    Some(Scored {
        candidate: Candidate {
            id,
            kind: c.culprit_kind.clone().unwrap_or(ChangeKind::Deploy),
            service: c.diagnosis.origin_service.clone().unwrap_or_default(),
            ts: c.diagnosis.first_error_at.unwrap_or_default(),
            description: c.culprit_description.clone().unwrap_or_default(),
            files: vec![],
        },
        score: c.diagnosis.confidence,
        minutes_before_first_error: c.culprit_minutes_before.unwrap_or(0.0),
        shared_terms: vec![],
        why: String::new(),
        scope: Default::default(),
        explains: true,
        cleared: false,
        evidence_for: vec![],
        evidence_against: vec![],
        aligned_after: None,
        shared_ids: vec![],
        follows_version: false,
    })
}
