//! Decisions: priority from alert severity and service tier, the failure class, the remediation
//! action, and a calibrated confidence (weak evidence → low confidence → escalate).

use super::correlate::{self, Scored};
use super::params::P;
use super::signals::{Family, Signals};
use sentinel_model::{AlertSeverity, ChangeKind, FailureClass, Priority, RemediationAction};

/// Alert urgency, one step more urgent on a tier-1 service, one step less on tier 3+.
pub fn priority(sev: AlertSeverity, tier: Option<u8>) -> Priority {
    let base = sev.urgency() as i32;
    let adj = match tier {
        Some(1) => -1,
        Some(t) if t >= 3 => 1,
        _ => 0,
    };
    Priority::from_level((base + adj).clamp(1, 4))
}

/// The dominant failure family of the origin's evidence. Specific families outrank the
/// generic "a call failed" family, which is usually a symptom.
pub fn dominant_family(s: &Signals) -> Option<Family> {
    s.scores
        .iter()
        .filter(|(_, v)| **v >= P.family_min_score)
        .map(|(f, v)| (*f, v * family_weight(*f)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(f, _)| f)
}

/// How much a family's score counts when choosing the dominant one.
pub fn family_weight(f: Family) -> f64 {
    match f {
        Family::Certificate | Family::Dns | Family::Disk | Family::Platform => {
            P.family_weight_specific
        }
        Family::Memory | Family::Pool => P.family_weight_resource,
        Family::CodeError | Family::SlowQuery => P.family_weight_code,
        Family::CrashLoop => P.family_weight_crash_loop,
        Family::Upstream => P.family_weight_upstream,
        Family::Load => P.family_weight_load,
    }
}

/// A culprit only when it clearly beats the rest.
pub fn pick_culprit(scored: &[Scored]) -> Option<&Scored> {
    let best = scored.first()?;
    let second = scored.get(1).map(|s| s.score).unwrap_or(0.0);
    (best.score >= P.culprit_min_score && best.score - second >= P.culprit_min_margin)
        .then_some(best)
}

/// What the failure class is decided from.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassInput<'a> {
    pub origin_is_alert: bool,
    pub family: Option<Family>,
    pub culprit: Option<&'a Scored>,
    /// Pool saturation shows in the evidence (a slow query that starves a pool is `db_pool`).
    pub pool_evidence: bool,
    /// A traffic surge began when the symptoms did.
    pub surge: bool,
    /// The symptoms are back at their baseline.
    pub recovered: bool,
    /// Saturation shows in the evidence (threads or workers busy, a quota or limit reached).
    pub load_evidence: bool,
}

pub fn failure_class(i: ClassInput<'_>) -> FailureClass {
    let ClassInput {
        origin_is_alert,
        family,
        culprit,
        pool_evidence,
        surge,
        recovered,
        load_evidence,
    } = i;
    if let Some(c) = culprit {
        match c.candidate.kind {
            ChangeKind::FeatureFlag | ChangeKind::Config => {
                return FailureClass::ConfigRegression;
            }
            ChangeKind::Dependency => return FailureClass::DependencyRegression,
            _ => {}
        }
    }
    // Certificates, name resolution and the platform are their own class wherever they break.
    match family {
        Some(Family::Certificate) => return FailureClass::Certificate,
        Some(Family::Dns) => return FailureClass::Dns,
        Some(Family::Platform) if culprit.is_none() => return FailureClass::InfraFailure,
        _ => {}
    }
    // A traffic surge where the failure is, with no change to blame: capacity, wherever the
    // origin is (a dependency saturated by its callers' retries is the surge's victim too).
    // Errors of the code next to saturation under such a surge are what overload throws
    // (rejected work, quota refusals), not a defect.
    if surge
        && culprit.is_none()
        && (matches!(
            family,
            Some(Family::Load | Family::Upstream | Family::CrashLoop) | None
        ) || (family == Some(Family::CodeError) && load_evidence))
    {
        return FailureClass::TrafficSurge;
    }
    if !origin_is_alert {
        return FailureClass::DownstreamOutage;
    }
    match family {
        Some(Family::Memory) => FailureClass::MemoryLeak,
        Some(Family::Pool) => FailureClass::DbPool,
        Some(Family::SlowQuery) if pool_evidence => FailureClass::DbPool,
        Some(Family::SlowQuery) => FailureClass::SlowQuery,
        Some(Family::Disk) => FailureClass::DiskFull,
        Some(Family::Load | Family::Upstream | Family::CrashLoop) | None
            if surge && culprit.is_none() =>
        {
            FailureClass::TrafficSurge
        }
        Some(Family::CrashLoop) => FailureClass::CrashLoop,
        Some(Family::Certificate) => FailureClass::Certificate,
        Some(Family::Dns) => FailureClass::Dns,
        Some(Family::Upstream) if culprit.is_none() => FailureClass::DownstreamOutage,
        Some(Family::Load) if culprit.is_none() => FailureClass::Capacity,
        _ if culprit.is_some() => FailureClass::BadDeploy,
        Some(Family::CodeError) => FailureClass::ApplicationError,
        None if recovered => FailureClass::Transient,
        _ => FailureClass::Unknown,
    }
}

pub fn confidence(
    culprit: Option<&Scored>,
    scored: &[Scored],
    family_strength: f64,
    logs_seen: bool,
) -> f64 {
    if !logs_seen {
        return P.confidence_no_logs;
    }
    let c = match culprit {
        Some(best) => {
            let second = scored
                .iter()
                .find(|s| s.candidate.id != best.candidate.id)
                .map(|s| s.score)
                .unwrap_or(0.0);
            P.confidence_culprit_base
                + P.confidence_score_weight * best.score
                + P.confidence_margin_weight * (best.score - second)
        }
        None => {
            P.confidence_family_base
                + P.confidence_per_strength * family_strength.min(P.confidence_strength_cap)
        }
    };
    (c.clamp(P.confidence_floor, P.confidence_ceiling) * 100.0).round() / 100.0
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionChoice {
    pub action: RemediationAction,
    pub target: Option<String>,
    pub rationale: String,
    pub risk: String,
}

pub struct ActionInput<'a> {
    pub failure_class: &'a FailureClass,
    pub origin: &'a str,
    pub confidence: f64,
    pub culprit: Option<&'a Scored>,
    /// Peak/baseline of request rate on the origin, if measured.
    pub traffic_growth: Option<f64>,
    pub external_suspects: &'a [String],
    /// The certificate failing is the one this service serves (its peers reject it).
    pub serves_failing_certificate: bool,
    /// The unrelated parties whose calls fail the same way (engine/fanout.rs).
    pub failing_parties: &'a [String],
    /// The failing lines say a size or count limit was hit (`lexicon::LIMIT_EXCEEDED`).
    pub limit_exceeded: bool,
    /// The dependency the failing calls name is itself healthy.
    pub healthy_dependency: Option<&'a str>,
    /// The number the culprit introduced that the failing code cannot parse
    /// ([`correlate::outgrown_number`]).
    pub outgrown_number: Option<&'a str>,
}

/// A hotfix of the size or count limit `origin` hit; `why` says why nothing else is proposed.
fn fix_the_limit(origin: &str, why: &str) -> ActionChoice {
    ActionChoice {
        action: RemediationAction::Hotfix,
        target: Some(origin.to_string()),
        rationale: format!(
            "{why}: {origin} hits a size limit its data has outgrown; raise the limit or shrink the data, forward"
        ),
        risk:
            "medium: a configuration change of the limit, or a clean-up of the data, under pressure"
                .into(),
    }
}

pub fn choose_action(i: &ActionInput<'_>) -> ActionChoice {
    let escalate = |why: String| ActionChoice {
        action: RemediationAction::Escalate,
        target: None,
        rationale: why,
        risk: "none: no production change proposed".into(),
    };
    if i.confidence < P.min_action_confidence {
        return escalate(format!(
            "confidence {:.2} is below {}: a human should investigate before any change",
            i.confidence, P.min_action_confidence
        ));
    }
    if let Some(c) = i.culprit {
        let cand = &c.candidate;
        return match cand.kind {
            ChangeKind::FeatureFlag => ActionChoice {
                action: RemediationAction::DisableFlag,
                target: Some(cand.id.clone()),
                rationale: format!(
                    "flag change {} preceded the errors by {:.0} min",
                    cand.id, c.minutes_before_first_error
                ),
                risk: "low: returns the flag to its previous state; users lose the new behaviour"
                    .into(),
            },
            // The operation only surfaced a limit the data had outgrown (a controller
            // re-reading an oversized node after a restart): restarting again hits it again.
            _ if correlate::operation_event(cand) && i.limit_exceeded => fix_the_limit(
                i.origin,
                &format!(
                    "{} (\"{}\") is an operation that only surfaced it",
                    cand.id, cand.description
                ),
            ),
            _ if correlate::operation_event(cand) => ActionChoice {
                action: RemediationAction::Restart,
                target: Some(i.origin.to_string()),
                rationale: format!(
                    "{} (\"{}\") is an operation, not a new setting: there is nothing to revert, and {} did not recover from it; restart it so it reconnects",
                    cand.id, cand.description, i.origin
                ),
                risk: "low: rolling restart of the service that did not recover".into(),
            },
            _ if correlate::irreversible_change(cand) => ActionChoice {
                action: RemediationAction::Escalate,
                target: None,
                rationale: format!(
                    "{} (\"{}\") cannot be undone by reverting it; the owning team must complete it (propagate the new credential, repair forward)",
                    cand.id, cand.description
                ),
                risk: "none: no production change proposed".into(),
            },
            // The data outgrew the code: the next update brings a larger number still.
            _ if i.outgrown_number.is_some() => ActionChoice {
                action: RemediationAction::Hotfix,
                target: Some(cand.id.clone()),
                rationale: format!(
                    "{} introduced {}, which the failing code cannot parse; such numbers only grow, so going back to the previous one lasts until the next update: fix the parsing forward (and hold the updater meanwhile)",
                    cand.id,
                    i.outgrown_number.unwrap_or_default()
                ),
                risk: "medium: a forward fix of the parser under pressure; pausing the updater keeps the service on the last good data meanwhile".into(),
            },
            ChangeKind::Deploy if correlate::rollback_unsafe(&cand.description) => ActionChoice {
                action: RemediationAction::Hotfix,
                target: Some(cand.id.clone()),
                rationale: format!(
                    "{} introduced the failure but ships an irreversible change (\"{}\"), so rolling back is unsafe; fix forward",
                    cand.id, cand.description
                ),
                risk: "medium: a forward fix must be written and shipped under pressure".into(),
            },
            _ => ActionChoice {
                action: RemediationAction::Rollback,
                target: Some(cand.id.clone()),
                rationale: format!(
                    "{} ({}) on {} preceded the errors by {:.0} min",
                    cand.id, cand.description, cand.service, c.minutes_before_first_error
                ),
                risk: "low to medium: reverts the change and anything else it shipped".into(),
            },
        };
    }
    match i.failure_class {
        c if c.is_saturation() && i.traffic_growth.is_some_and(|g| g >= P.surge_factor) => ActionChoice {
            action: RemediationAction::Scale,
            target: Some(i.origin.to_string()),
            rationale: format!(
                "no change correlates; traffic is {:.1}x its baseline and {} is saturated",
                i.traffic_growth.unwrap_or_default(),
                if *i.failure_class == FailureClass::DbPool {
                    "the connection pool"
                } else {
                    "the service"
                }
            ),
            risk: "low: more replicas/connections; check database connection headroom".into(),
        },
        _ if i.limit_exceeded => fix_the_limit(i.origin, "no change correlates"),
        FailureClass::MemoryLeak | FailureClass::CrashLoop => ActionChoice {
            action: RemediationAction::Restart,
            target: Some(i.origin.to_string()),
            rationale:
                "no change correlates; a rolling restart relieves the leak while the cause is found"
                    .into(),
            risk: "low: rolling restart; the leak will come back".into(),
        },
        // Several unrelated parties' certificates fail verification at once: they did not
        // all expire together; what they share is our side of the handshake (a CA bundle, an
        // old TLS library in the base image). Fix it forward; there is nothing to roll back.
        FailureClass::Certificate
            if super::fanout::common_factor(i.failing_parties) =>
        {
            ActionChoice {
                action: RemediationAction::Hotfix,
                target: Some(i.origin.to_string()),
                rationale: format!(
                    "the certificates of {} unrelated hosts ({}) fail verification from {} at once: they did not all expire together, so the common factor is {}'s trust store or TLS client; update its CA bundle or base image",
                    i.failing_parties.len(),
                    i.failing_parties.join(", "),
                    i.origin,
                    i.origin
                ),
                risk: "low to medium: a new CA bundle or base image for the calling service; test the handshake to each host before rolling it out".into(),
            }
        }
        // Our own certificate expired (not a vendor's): renewing it is the fix, forward.
        FailureClass::Certificate
            if i.external_suspects.is_empty() && i.serves_failing_certificate =>
        {
            ActionChoice {
            action: RemediationAction::Hotfix,
            target: Some(i.origin.to_string()),
            rationale: format!(
                "{}'s certificate is expired or invalid and no change correlates: renew or re-issue it and reload {}; nothing to roll back",
                i.origin, i.origin
            ),
            risk: "low: a new certificate for the same names; check the issuer's renewal failure too".into(),
            }
        }
        FailureClass::DownstreamOutage
            if i.external_suspects.is_empty() && i.healthy_dependency.is_some() =>
        {
            let dep = i.healthy_dependency.unwrap_or_default();
            ActionChoice {
                action: RemediationAction::Restart,
                target: Some(i.origin.to_string()),
                rationale: format!(
                    "no change correlates; {}'s calls to {dep} fail while {dep} is healthy: {}'s view of it is stale (endpoints, pooled connections, a cached address); a rolling restart of {} rebuilds it",
                    i.origin, i.origin, i.origin
                ),
                risk: "low: rolling restart of the caller; if the calls still fail, the network between them is next".into(),
            }
        }
        FailureClass::DownstreamOutage if !i.external_suspects.is_empty() => escalate(format!(
            "the failure is in an external dependency ({}); nothing internal to roll back: page the vendor and enable fallbacks",
            i.external_suspects.join(", ")
        )),
        FailureClass::InfraFailure => escalate(
            "the platform under the services is failing (nodes not ready, no capacity to reschedule) and no change correlates: page the platform / cloud on-call; nothing in the services to roll back"
                .into(),
        ),
        FailureClass::DiskFull => escalate(
            "storage is exhausted and no change correlates: freeing or growing the volume needs a human (a restart does not free a persistent volume)"
                .into(),
        ),
        FailureClass::Transient => escalate(
            "the symptoms are already back at their baseline and nothing correlates: no change proposed; the owning team should review the blip"
                .into(),
        ),
        other => escalate(format!(
            "no change correlates with the {other} failure; escalating to the owning team"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A confident suspect that explains the failure, `minutes` before the first error.
    fn scored(candidate: correlate::Candidate, minutes: f64) -> Scored {
        Scored {
            candidate,
            score: 0.9,
            minutes_before_first_error: minutes,
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
        }
    }

    #[test]
    fn tier_shifts_priority() {
        assert_eq!(priority(AlertSeverity::Critical, Some(1)), Priority::P1);
        assert_eq!(priority(AlertSeverity::High, Some(1)), Priority::P1);
        assert_eq!(priority(AlertSeverity::High, Some(2)), Priority::P2);
        assert_eq!(priority(AlertSeverity::High, Some(3)), Priority::P3);
        assert_eq!(priority(AlertSeverity::Info, Some(3)), Priority::P4);
        assert_eq!(priority(AlertSeverity::Warning, None), Priority::P3);
    }

    #[test]
    fn platform_failures_are_their_own_class_and_escalate() {
        let class = failure_class(ClassInput {
            origin_is_alert: false,
            family: Some(Family::Platform),
            ..Default::default()
        });
        assert_eq!(class, "infra_failure");
        let a = choose_action(&ActionInput {
            failure_class: &class,
            origin: "gw",
            confidence: 0.8,
            culprit: None,
            traffic_growth: None,
            external_suspects: &[],
            serves_failing_certificate: false,
            limit_exceeded: false,
            healthy_dependency: None,
            outgrown_number: None,
            failing_parties: &[],
        });
        assert_eq!(a.action, RemediationAction::Escalate);
        assert!(a.rationale.contains("platform"), "{}", a.rationale);
    }

    #[test]
    fn low_confidence_escalates() {
        let a = choose_action(&ActionInput {
            failure_class: &FailureClass::DbPool,
            origin: "x",
            confidence: 0.2,
            culprit: None,
            traffic_growth: Some(4.0),
            external_suspects: &[],
            serves_failing_certificate: false,
            limit_exceeded: false,
            healthy_dependency: None,
            outgrown_number: None,
            failing_parties: &[],
        });
        assert_eq!(a.action, RemediationAction::Escalate);
        let b = choose_action(&ActionInput {
            failure_class: &FailureClass::DbPool,
            origin: "x",
            confidence: 0.7,
            culprit: None,
            traffic_growth: Some(4.0),
            external_suspects: &[],
            serves_failing_certificate: false,
            limit_exceeded: false,
            healthy_dependency: None,
            outgrown_number: None,
            failing_parties: &[],
        });
        assert_eq!(b.action, RemediationAction::Scale);
    }

    #[test]
    fn a_certificate_we_serve_is_renewed_one_we_call_is_escalated() {
        let input = |serves: bool| ActionInput {
            failure_class: &FailureClass::Certificate,
            origin: "edge",
            confidence: 0.8,
            culprit: None,
            traffic_growth: None,
            external_suspects: &[],
            serves_failing_certificate: serves,
            limit_exceeded: false,
            healthy_dependency: None,
            outgrown_number: None,
            failing_parties: &[],
        };
        let a = choose_action(&input(true));
        assert_eq!(a.action, RemediationAction::Hotfix);
        assert_eq!(a.target.as_deref(), Some("edge"));
        assert_eq!(
            choose_action(&input(false)).action,
            RemediationAction::Escalate
        );
    }

    #[test]
    fn certificates_of_several_unrelated_hosts_failing_at_once_fix_our_trust_store() {
        fn input(parties: &[String]) -> ActionInput<'_> {
            ActionInput {
                failure_class: &FailureClass::Certificate,
                origin: "auth",
                confidence: 0.8,
                culprit: None,
                traffic_growth: None,
                external_suspects: &[],
                serves_failing_certificate: false,
                limit_exceeded: false,
                healthy_dependency: None,
                outgrown_number: None,
                failing_parties: parties,
            }
        }
        let two = [
            "fabrikam.example".to_string(),
            "northwind.example".to_string(),
        ];
        let a = choose_action(&input(&two));
        assert_eq!(a.action, RemediationAction::Hotfix);
        assert_eq!(a.target.as_deref(), Some("auth"));
        assert!(a.rationale.contains("trust store"), "{}", a.rationale);
        // One host failing may be that host's own certificate: a human asks its owner.
        let one = ["fabrikam.example".to_string()];
        assert_eq!(
            choose_action(&input(&one)).action,
            RemediationAction::Escalate
        );
    }

    #[test]
    fn a_size_limit_hit_is_fixed_forward_even_after_an_operation() {
        let op = scored(
            correlate::Candidate {
                id: "ops-1".into(),
                kind: ChangeKind::Infra,
                service: "kafka".into(),
                ts: chrono::Utc::now(),
                description: "scheduled maintenance: rolling restart of brokers".into(),
                files: vec![],
            },
            8.0,
        );
        fn input(limit: bool, culprit: Option<&Scored>) -> ActionInput<'_> {
            ActionInput {
                failure_class: &FailureClass::DownstreamOutage,
                origin: "kafka",
                confidence: 0.9,
                culprit,
                traffic_growth: None,
                external_suspects: &[],
                serves_failing_certificate: false,
                failing_parties: &[],
                limit_exceeded: limit,
                healthy_dependency: None,
                outgrown_number: None,
            }
        }
        assert_eq!(
            choose_action(&input(false, Some(&op))).action,
            RemediationAction::Restart
        );
        assert_eq!(
            choose_action(&input(true, Some(&op))).action,
            RemediationAction::Hotfix
        );
        assert_eq!(
            choose_action(&input(true, None)).action,
            RemediationAction::Hotfix
        );
        assert_eq!(
            choose_action(&input(false, None)).action,
            RemediationAction::Escalate
        );
    }

    #[test]
    fn a_culprit_whose_number_outgrew_the_parser_is_fixed_forward() {
        let bundle = scored(
            correlate::Candidate {
                id: "chg-rules-7".into(),
                kind: ChangeKind::Dependency,
                service: "payments".into(),
                ts: chrono::Utc::now(),
                description: "rules bundle update to 2601010001".into(),
                files: vec![],
            },
            0.5,
        );
        let input = |n: Option<&'static str>| ActionInput {
            failure_class: &FailureClass::DependencyRegression,
            origin: "payments",
            confidence: 0.8,
            culprit: Some(&bundle),
            traffic_growth: None,
            external_suspects: &[],
            serves_failing_certificate: false,
            failing_parties: &[],
            limit_exceeded: false,
            healthy_dependency: None,
            outgrown_number: n,
        };
        let a = choose_action(&input(Some("2601010001")));
        assert_eq!(a.action, RemediationAction::Hotfix);
        assert_eq!(a.target.as_deref(), Some("chg-rules-7"));
        assert!(a.rationale.contains("2601010001"), "{}", a.rationale);
        assert_eq!(
            choose_action(&input(None)).action,
            RemediationAction::Rollback
        );
    }

    #[test]
    fn calls_failing_to_a_healthy_dependency_restart_the_caller() {
        let input = |dep: Option<&'static str>, vendors: &'static [String]| ActionInput {
            failure_class: &FailureClass::DownstreamOutage,
            origin: "edge",
            confidence: 0.8,
            culprit: None,
            traffic_growth: None,
            external_suspects: vendors,
            serves_failing_certificate: false,
            failing_parties: &[],
            limit_exceeded: false,
            healthy_dependency: dep,
            outgrown_number: None,
        };
        let a = choose_action(&input(Some("gateway"), &[]));
        assert_eq!(a.action, RemediationAction::Restart);
        assert_eq!(a.target.as_deref(), Some("edge"));
        assert_eq!(
            choose_action(&input(None, &[])).action,
            RemediationAction::Escalate
        );
    }

    #[test]
    fn code_errors_next_to_saturation_under_a_surge_are_the_surges() {
        let class = |load_evidence| {
            failure_class(ClassInput {
                origin_is_alert: true,
                family: Some(Family::CodeError),
                surge: true,
                load_evidence,
                ..Default::default()
            })
        };
        assert_eq!(class(true), FailureClass::TrafficSurge);
        assert_ne!(class(false), FailureClass::TrafficSurge);
    }
}
