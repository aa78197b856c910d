//! Deploy/change correlation. A change is a suspect when it landed shortly before the origin's
//! first error (timing), on the origin or on the path to it (scope of service), and what it
//! touched matches what is failing (scope of content: shared identifiers such as a config key,
//! a module or a library name, or a change class that explains the failure family).

use super::signals::Family;
use super::text;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: String,
    /// "deploy" or the change kind (feature_flag, config, infra, dependency).
    pub kind: String,
    pub service: String,
    pub ts: DateTime<Utc>,
    pub description: String,
    #[serde(default)]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub candidate: Candidate,
    pub score: f64,
    pub minutes_before_first_error: f64,
    pub shared_terms: Vec<String>,
    pub why: String,
    /// Why the change's service is in scope at all.
    #[serde(default)]
    pub scope: Scope,
}

/// Why a change's service is a place to look for the cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The service where the failure originates.
    Origin,
    /// The service that alerted.
    Alert,
    /// Another service's change that loads the origin's datastore, during a database failure.
    Datastore,
    /// Another service's change that reconfigures its calls to the origin.
    Targets,
    /// A service the errors name (a caller, a datastore).
    Named,
    /// A service that began failing on its own right after its change.
    BrokeAfter,
    /// A service on the dependency path.
    Related,
    /// Anywhere else.
    #[default]
    Other,
}

impl Scope {
    /// A culprit found through this scope is where the failure starts: the origin moves there.
    pub fn moves_origin(self) -> bool {
        matches!(
            self,
            Scope::Datastore | Scope::Targets | Scope::Named | Scope::BrokeAfter
        )
    }
}

pub struct Context<'a> {
    pub origin: &'a str,
    pub alert_service: &'a str,
    /// Services on the path between them (upstream closure of the alerting service).
    pub related: &'a BTreeSet<String>,
    pub first_error: DateTime<Utc>,
    /// Identifiers from the origin's error signatures.
    pub error_terms: &'a BTreeSet<String>,
    /// The dominant failure family.
    pub family: Option<Family>,
    /// The origin's metrics, when they were read: onsets that clear or doubt a change.
    pub metrics: Option<&'a super::trend::Picture>,
    /// Services the errors name (lowercase).
    pub named: &'a BTreeSet<String>,
    /// First error per service (lowercase names).
    pub failing_since: &'a std::collections::BTreeMap<String, DateTime<Utc>>,
    /// The alerting service's own datastores (upstream, neither catalogue services nor
    /// vendors), lowercase: another service's change that loads one of them is in scope when
    /// the failure is the database's (pool starvation, statement timeouts).
    pub datastores: &'a BTreeSet<String>,
}

/// Words in a change description that explain a failure family.
fn family_terms(f: Family) -> &'static [&'static str] {
    match f {
        Family::Pool => &[
            "pool",
            "connection",
            "cursor",
            "query",
            "transaction",
            "session",
            "database",
            "db",
            "orm",
            "repository",
        ],
        Family::Memory => &[
            "cache",
            "memory",
            "buffer",
            "listener",
            "subscriber",
            "heap",
            "retain",
            "in-memory",
            "memo",
            "batch",
        ],
        Family::SlowQuery => &["query", "index", "table", "join", "lookup", "sql", "schema"],
        Family::CodeError => &[
            "refactor",
            "upgrade",
            "bump",
            "driver",
            "config",
            "env",
            "secret",
            "serializer",
            "migrate",
            "rewrite",
            "library",
            "major",
        ],
        Family::Upstream => &["timeout", "client", "retry", "endpoint", "vendor"],
        Family::CrashLoop => &["startup", "probe", "entrypoint", "resources", "limits"],
        Family::Certificate => &["cert", "tls", "ssl", "certificate"],
        Family::Dns => &["dns", "resolver", "hostname", "domain"],
        Family::Load => &["autoscal", "replica", "capacity", "limit"],
        Family::Disk => &[
            "retention",
            "log level",
            "logging",
            "volume",
            "disk",
            "storage",
            "spill",
        ],
        Family::Platform => &["node", "cluster", "zone", "instance", "kubelet", "taint"],
    }
}

/// Leaks and saturation build up over hours; code errors show within minutes.
fn time_constant_minutes(f: Option<Family>) -> f64 {
    match f {
        Some(Family::Memory) | Some(Family::Pool) => 360.0,
        _ => 90.0,
    }
}

pub fn score_all(cands: &[Candidate], ctx: &Context<'_>) -> Vec<Scored> {
    let tau = time_constant_minutes(ctx.family);
    let mut out: Vec<Scored> = cands
        .iter()
        .filter_map(|c| {
            let gap = (ctx.first_error - c.ts).num_seconds() as f64 / 60.0;
            // Landed after the failure began: cannot have caused it.
            if gap < -1.0 {
                return None;
            }
            let time = (-gap.max(0.0) / tau).exp();
            let svc = c.service.to_lowercase();
            // Another service that began failing itself right after this change, no later
            // than the origin: the changed component broke (a resolver, a shared gateway).
            let broke_after = ctx.failing_since.get(&svc).and_then(|t| {
                let after = (*t - c.ts).num_seconds() as f64 / 60.0;
                ((-1.0..=15.0).contains(&after) && *t <= ctx.first_error).then_some(after)
            });
            let desc_lc = c.description.to_lowercase();
            let loads_store = ctx
                .datastores
                .iter()
                .find(|d| desc_lc.contains(d.as_str()))
                .filter(|_| matches!(ctx.family, Some(Family::Pool | Family::SlowQuery)));
            let (service, scope) = if c.service.eq_ignore_ascii_case(ctx.origin) {
                (1.0, Scope::Origin)
            } else if c.service.eq_ignore_ascii_case(ctx.alert_service) {
                (0.6, Scope::Alert)
            } else if loads_store.is_some() {
                (0.6, Scope::Datastore)
            } else if ctx.origin.len() >= 4 && desc_lc.contains(&ctx.origin.to_lowercase()) {
                // It changed how another service talks to the origin (timeouts, retries).
                (0.6, Scope::Targets)
            } else if ctx.named.contains(&svc) {
                (0.6, Scope::Named)
            } else if broke_after.is_some() {
                (0.6, Scope::BrokeAfter)
            } else if ctx.related.contains(&c.service) {
                (0.35, Scope::Related)
            } else {
                (0.08, Scope::Other)
            };
            let described: BTreeSet<String> = text::keywords(&c.description);
            // "v3.8.1", "misc fixes", "ramp to 100%": a description too terse to share words
            // with anything says nothing against the change.
            let terse = described.len() <= 2;
            let mut terms = described;
            for f in &c.files {
                terms.extend(text::keywords(f));
            }
            let shared: Vec<String> = terms.intersection(ctx.error_terms).cloned().collect();
            let desc = c.description.to_lowercase();
            let family_hit = ctx
                .family
                .is_some_and(|f| family_terms(f).iter().any(|t| desc.contains(t)));
            let mut content =
                ((shared.len() as f64) / 3.0).min(1.0) * 0.75 + if family_hit { 0.25 } else { 0.0 };
            // A change that shares nothing with the failure is only weakly suspect, however close in time.
            let mut explains = family_hit || shared.len() >= 2;
            // On the origin, minutes before its first error: proximity is evidence enough not to
            // halve the score, and a terse change there starts from neutral content.
            // Only for failures a change of the service's own code or config explains at all
            // (a defect, a crash loop, nothing recognised); not when a certificate, DNS, a
            // dependency, load or the platform is the story.
            let own_kind = matches!(
                ctx.family,
                None | Some(Family::CodeError | Family::CrashLoop)
            );
            if own_kind && scope == Scope::Origin && (0.0..=10.0).contains(&gap) {
                explains = true;
            }
            if own_kind && scope == Scope::Origin && terse && gap <= 30.0 {
                content = content.max(0.5);
                explains = true;
            }
            // Three reasons are evidence in themselves: the changed service broke right after
            // it, it loads the datastore the origin starves on, it reconfigures calls to the
            // origin.
            if matches!(scope, Scope::BrokeAfter | Scope::Datastore | Scope::Targets) {
                content = content.max(0.75);
                explains = true;
            }
            let verdict = ctx.metrics.and_then(|m| m.judge(c.ts, ctx.family));
            let score = time.sqrt()
                * service
                * (0.3 + 0.7 * content)
                * if explains { 1.0 } else { 0.5 }
                * verdict.as_ref().map_or(1.0, |v| v.factor);
            let why = format!(
                "{} on {} {:.0} min before the first error; {}{}{}",
                c.id,
                c.service,
                gap,
                if shared.is_empty() {
                    "no shared identifiers with the errors".to_string()
                } else {
                    format!("shares {} with the errors", shared.join(", "))
                },
                if family_hit {
                    "; the change type explains the failure"
                } else {
                    ""
                },
                verdict
                    .as_ref()
                    .map(|v| format!("; but {}", v.reason))
                    .unwrap_or_default()
            );
            let why = match scope {
                Scope::BrokeAfter => format!(
                    "{why}; {} itself began failing {:.0} min after it",
                    c.service,
                    broke_after.unwrap_or_default()
                ),
                Scope::Named => format!("{why}; the errors name {}", c.service),
                Scope::Targets => {
                    format!("{why}; it changes how {} calls {}", c.service, ctx.origin)
                }
                Scope::Datastore => format!(
                    "{why}; it loads {}, the datastore {} is starving on",
                    loads_store.map(String::as_str).unwrap_or_default(),
                    ctx.origin
                ),
                _ => why,
            };
            Some(Scored {
                candidate: c.clone(),
                score,
                minutes_before_first_error: gap,
                shared_terms: shared,
                why,
                scope,
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// Phrases in a deploy description that make a plain rollback unsafe.
pub fn rollback_unsafe(description: &str) -> bool {
    text::contains_any(
        &description.to_lowercase(),
        &[
            "irreversible",
            "cannot be rolled back",
            "can't be rolled back",
            "not reversible",
            "one-way migration",
            "destructive migration",
            "drops column",
            "drop column",
            "dropping column",
            "drops table",
            "drop table",
            "dropping table",
            "non-reversible",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(min)
    }

    #[test]
    fn recent_same_service_change_with_shared_terms_wins() {
        let cands = vec![
            Candidate {
                id: "d-old".into(),
                kind: "deploy".into(),
                service: "api".into(),
                ts: at(-3000),
                description: "tweak rate limits".into(),
                files: vec![],
            },
            Candidate {
                id: "d-bad".into(),
                kind: "deploy".into(),
                service: "api".into(),
                ts: at(-12),
                description: "Refactor AuthMiddleware JWT secret lookup".into(),
                files: vec![],
            },
            Candidate {
                id: "d-other".into(),
                kind: "deploy".into(),
                service: "billing".into(),
                ts: at(-5),
                description: "copy change".into(),
                files: vec![],
            },
            Candidate {
                id: "d-late".into(),
                kind: "deploy".into(),
                service: "api".into(),
                ts: at(10),
                description: "AuthMiddleware".into(),
                files: vec![],
            },
        ];
        let terms = text::keywords("NullPointerException in AuthMiddleware.validate jwt_secret");
        let related = BTreeSet::new();
        let ctx = Context {
            origin: "api",
            alert_service: "api",
            related: &related,
            first_error: at(0),
            error_terms: &terms,
            family: Some(Family::CodeError),
            metrics: None,
            named: &BTreeSet::new(),
            failing_since: &Default::default(),
            datastores: &BTreeSet::new(),
        };
        let s = score_all(&cands, &ctx);
        assert_eq!(s[0].candidate.id, "d-bad");
        assert!(s[0].score > 0.7, "{s:?}");
        assert!(s.iter().all(|x| x.candidate.id != "d-late"));
        assert!(s[1].score < 0.3);
    }

    fn cand(id: &str, kind: &str, service: &str, min: i64, description: &str) -> Candidate {
        Candidate {
            id: id.into(),
            kind: kind.into(),
            service: service.into(),
            ts: at(min),
            description: description.into(),
            files: vec![],
        }
    }

    #[test]
    fn changes_outside_the_origin_come_into_scope_only_with_a_reason() {
        let cands = vec![
            cand(
                "flag",
                "feature_flag",
                "orders",
                -1,
                "checkout_intent_v2 rollout 0% -> 50%",
            ),
            cand("dns", "infra", "resolver", -2, "forwarder address changed"),
            cand(
                "batch",
                "deploy",
                "analytics",
                -20,
                "full refresh with 16 readers against users-db",
            ),
            cand("quiet", "deploy", "billing", -3, "copy change"),
        ];
        let terms = text::keywords("payment failed flag.checkout_intent_v2=on");
        let related = BTreeSet::new();
        let named: BTreeSet<String> = ["orders".to_string()].into();
        let failing_since = [
            ("resolver".to_string(), at(-1)),
            ("billing".to_string(), at(5)),
        ]
        .into_iter()
        .collect();
        let datastores: BTreeSet<String> = ["users-db".to_string()].into();
        let ctx = Context {
            origin: "payments",
            alert_service: "payments",
            related: &related,
            first_error: at(0),
            error_terms: &terms,
            family: Some(Family::SlowQuery),
            metrics: None,
            named: &named,
            failing_since: &failing_since,
            datastores: &datastores,
        };
        let s = score_all(&cands, &ctx);
        let scope = |id: &str| s.iter().find(|x| x.candidate.id == id).unwrap().scope;
        assert_eq!(scope("flag"), Scope::Named);
        // A change elsewhere that configures calls to the origin is in scope too.
        let retry = cand(
            "retry",
            "config",
            "gateway",
            -9,
            "routes.payments upstream timeout 2000ms -> 200ms, retries 0 -> 3",
        );
        assert_eq!(score_all(&[retry], &ctx)[0].scope, Scope::Targets);
        assert_eq!(
            scope("dns"),
            Scope::BrokeAfter,
            "its own service failed a minute after it"
        );
        assert_eq!(
            scope("batch"),
            Scope::Datastore,
            "it loads the origin's datastore"
        );
        // billing failed only after the origin did: no reason to suspect its change.
        assert_eq!(scope("quiet"), Scope::Other);
        let score = |id: &str| s.iter().find(|x| x.candidate.id == id).unwrap().score;
        assert!(score("flag") > 0.4 && score("quiet") < 0.1, "{s:?}");
        // Without a database failure the datastore is no reason.
        let ctx = Context {
            family: Some(Family::CodeError),
            ..ctx
        };
        let s = score_all(&cands, &ctx);
        assert_eq!(
            s.iter().find(|x| x.candidate.id == "batch").unwrap().scope,
            Scope::Other
        );
    }

    #[test]
    fn a_terse_change_on_the_origin_minutes_before_a_defect_is_suspect() {
        let cands = vec![cand("d", "deploy", "auth", -1, "v3.8.1")];
        let terms = text::keywords("jwt kid not found in jwks");
        let (related, named, datastores) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let failing_since = Default::default();
        let ctx = Context {
            origin: "auth",
            alert_service: "auth",
            related: &related,
            first_error: at(0),
            error_terms: &terms,
            family: Some(Family::CodeError),
            metrics: None,
            named: &named,
            failing_since: &failing_since,
            datastores: &datastores,
        };
        assert!(score_all(&cands, &ctx)[0].score > 0.5);
        // Not when the story is a certificate: the change has nothing to say about it.
        let ctx = Context {
            family: Some(Family::Certificate),
            ..ctx
        };
        assert!(score_all(&cands, &ctx)[0].score < 0.3);
    }

    #[test]
    fn irreversible_migrations_are_detected() {
        assert!(rollback_unsafe(
            "adds migration 0042 dropping column legacy_status (irreversible)"
        ));
        assert!(!rollback_unsafe("Add pagination to /users/list"));
    }
}
