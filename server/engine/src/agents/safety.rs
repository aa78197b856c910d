//! The safety rule, for every brain: no rollback or flag change of a change without positive
//! evidence that it explains the failure, and never of a change the evidence exonerates (the
//! failure also happens where the change is absent). Rolling back an innocent deploy during a
//! vendor outage or a failover is the most harmful thing an incident agent can do: it adds a
//! second change to a broken system and burns the time a human needed.
//!
//! Checked where a plan can reach a human: before `request_human_approval` runs (a model that
//! asks is told why not), when a remediation plan is concluded (it becomes an escalation), and
//! by the built-in remediation before it chooses.

use sentinel_model::{Diagnosis, RemediationAction};

/// Why an action aimed at `target` may not be proposed, or `None` when it may.
pub fn refuse_change(
    action: RemediationAction,
    target: Option<&str>,
    diagnosis: Option<&Diagnosis>,
) -> Option<String> {
    if !action.targets_change() {
        return None;
    }
    let Some(target) = target.filter(|t| !t.trim().is_empty()) else {
        return Some(format!("a {action} must name the change it undoes"));
    };
    let Some(d) = diagnosis else {
        return Some(format!(
            "no diagnosis names {target}: a {action} needs evidence that it explains the failure"
        ));
    };
    let is = |x: &Option<String>| x.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(target));
    if let Some(h) = d.hypotheses.iter().find(|h| {
        h.target
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(target))
    }) {
        if h.exonerated {
            return Some(format!(
                "{target} is exonerated: {}",
                h.against
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "the failure also happens where it is absent".into())
            ));
        }
        if !h.explains {
            return Some(format!(
                "no positive evidence that {target} explains the failure (only timing); a human should decide"
            ));
        }
        return None;
    }
    if !d.hypotheses.is_empty() && !is(&d.suspect_deploy) && !is(&d.suspect_change) {
        return Some(format!(
            "{target} is not among the changes the investigation found"
        ));
    }
    if is(&d.suspect_deploy) || is(&d.suspect_change) {
        return None;
    }
    Some(format!(
        "{target} is not the diagnosis's suspect: a {action} needs evidence that it explains the failure"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_model::Hypothesis;

    fn diag(hyps: Vec<Hypothesis>, suspect: Option<&str>) -> Diagnosis {
        serde_json::from_value::<Diagnosis>(serde_json::json!({
            "failure_class": "bad_deploy", "summary": "s", "suspect_deploy": suspect,
            "suspect_change": null, "confidence": 0.8, "evidence": []
        }))
        .map(|mut d| {
            d.hypotheses = hyps;
            d
        })
        .unwrap()
    }

    fn hyp(target: &str, explains: bool, exonerated: bool) -> Hypothesis {
        Hypothesis {
            kind: "deploy".into(),
            target: Some(target.into()),
            score: 0.5,
            evidence_for: vec![],
            against: vec!["instances still on 2.4.0 failed too".into()],
            explains,
            exonerated,
        }
    }

    #[test]
    fn only_actions_that_undo_a_change_are_checked() {
        assert_eq!(refuse_change(RemediationAction::Restart, None, None), None);
        assert_eq!(refuse_change(RemediationAction::Escalate, None, None), None);
        assert!(refuse_change(RemediationAction::Rollback, None, None).is_some());
    }

    #[test]
    fn an_exonerated_change_is_never_rolled_back() {
        let d = diag(vec![hyp("d-1", true, true)], Some("d-1"));
        let why = refuse_change(RemediationAction::Rollback, Some("d-1"), Some(&d)).unwrap();
        assert!(why.contains("exonerated") && why.contains("2.4.0"), "{why}");
    }

    #[test]
    fn timing_alone_is_not_enough() {
        let d = diag(vec![hyp("d-1", false, false)], Some("d-1"));
        let why = refuse_change(RemediationAction::DisableFlag, Some("d-1"), Some(&d)).unwrap();
        assert!(why.contains("no positive evidence"), "{why}");
        let d = diag(vec![hyp("d-1", true, false)], Some("d-1"));
        assert_eq!(
            refuse_change(RemediationAction::Rollback, Some("d-1"), Some(&d)),
            None
        );
    }

    #[test]
    fn a_change_nobody_found_is_refused() {
        let d = diag(vec![hyp("d-1", true, false)], Some("d-1"));
        assert!(refuse_change(RemediationAction::Rollback, Some("d-9"), Some(&d)).is_some());
        // Without hypotheses (a model wrote the diagnosis), only the named suspect.
        let d = diag(vec![], Some("d-1"));
        assert_eq!(
            refuse_change(RemediationAction::Rollback, Some("d-1"), Some(&d)),
            None
        );
        assert!(refuse_change(RemediationAction::Rollback, Some("d-2"), Some(&d)).is_some());
        assert!(refuse_change(RemediationAction::Rollback, Some("d-1"), None).is_some());
    }
}
