//! Deploy/change correlation. A change is a suspect when it landed shortly before the origin's
//! first error (timing), on the origin or on the path to it (scope of service), and what it
//! touched matches what is failing (scope of content: shared identifiers such as a config key,
//! a module or a library name, or a change class that explains the failure family).

use super::lexicon;
use super::params::P;
use super::signals::Family;
use super::text;
use chrono::{DateTime, Utc};
use sentinel_model::ChangeKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: String,
    /// `deploy` or the change kind (feature_flag, config, infra, dependency).
    pub kind: ChangeKind,
    pub service: String,
    pub ts: DateTime<Utc>,
    pub description: String,
    #[serde(default)]
    pub files: Vec<String>,
}

/// When a kind of warning or error line first appeared on the origin (one log signature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineOnset {
    pub first_seen: DateTime<Utc>,
    pub example: String,
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
    /// Positive evidence that it explains the failure (shared identifiers, a change type that
    /// explains the family, a reasoned scope, errors only where it runs, proximity on the
    /// origin for a defect). Without it nothing is rolled back.
    #[serde(default)]
    pub explains: bool,
    /// The failure also happens where the change is absent: it is exonerated.
    #[serde(default)]
    pub cleared: bool,
    /// The evidence for and against it, one phrase each.
    #[serde(default)]
    pub evidence_for: Vec<String>,
    #[serde(default)]
    pub evidence_against: Vec<String>,
    /// Minutes after this change (on the origin) that the origin's symptom metrics turned,
    /// when that is within the alignment window.
    #[serde(default)]
    pub aligned_after: Option<f64>,
    /// Exact identifiers it names that the failing lines carry.
    #[serde(default)]
    pub shared_ids: Vec<String>,
    /// The version split says the errors follow what it shipped (errors where it runs).
    #[serde(default)]
    pub follows_version: bool,
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
    /// A dependency of the origin whose change, just before, altered what it answers: the
    /// origin fails to read it (a type error on a field the change names).
    Contract,
    /// A caller whose change multiplied its calls: the origin's offered load stepped up right
    /// after it (retries, a lookup per request, a lost cache) and the origin drowned.
    Amplifies,
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
            Scope::Datastore
                | Scope::Targets
                | Scope::Named
                | Scope::BrokeAfter
                | Scope::Contract
                | Scope::Amplifies
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
    /// Versions per service from the log lines (the version split).
    pub versions: &'a [super::versions::VersionStat],
    /// Metric series (those split by `version` feed the version split).
    pub series: &'a [super::trend::Series],
    /// The categorical fields of the origin's error lines (the breadth test).
    pub spreads: &'a [super::breadth::FieldSpread],
    /// When each kind of warning/error line first appeared on the origin (precursors).
    pub onsets: &'a [LineOnset],
    /// When the origin's symptom metrics changed (their earliest change point).
    pub metric_onset: Option<DateTime<Utc>>,
    /// The unrelated parties the origin's failing calls name (engine/fanout.rs): when there
    /// are several, the caller's own platform or network is the common factor.
    pub failing_parties: &'a [String],
    /// Exact identifiers in the failure's warning-or-worse lines (`text::identifiers`).
    pub error_ids: &'a [String],
    /// A direct dependency that failed over on its own before the origin's first error.
    pub failed_over: Option<&'a (String, DateTime<Utc>)>,
    /// The origin's errors say it cannot read what it was given (a type or decoding error).
    pub shape_error: bool,
    /// The share of requests failing, when the alert measures one ([`failing_share`]).
    pub failing_share: Option<f64>,
    /// The services that call the alerting service.
    pub callers: &'a BTreeSet<String>,
}

/// Leaks, saturation and filling disks build up over hours; code errors show within minutes.
fn time_constant_minutes(f: Option<Family>) -> f64 {
    match f {
        Some(Family::Memory) | Some(Family::Pool) | Some(Family::Disk) => P.tau_slow_minutes,
        _ => P.tau_fast_minutes,
    }
}

/// Suspicion from timing: 1 for a change right before the first error, decaying with the
/// gap (minutes) at the family's time constant.
pub fn time_factor(gap_minutes: f64, tau: f64) -> f64 {
    (-gap_minutes.max(0.0) / tau).exp()
}

/// Suspicion from content: the share of identifiers the change has in common with the
/// errors, and whether its type explains the family.
pub fn content_factor(shared_terms: usize, family_hit: bool) -> f64 {
    ((shared_terms as f64) / P.shared_terms_full).min(1.0) * P.content_terms_weight
        + if family_hit {
            P.content_family_weight
        } else {
            0.0
        }
}

/// The weight of a change's scope.
pub fn scope_weight(scope: Scope) -> f64 {
    match scope {
        Scope::Origin => P.scope_origin,
        Scope::Alert
        | Scope::Datastore
        | Scope::Targets
        | Scope::Named
        | Scope::BrokeAfter
        | Scope::Contract
        | Scope::Amplifies => P.scope_tied,
        Scope::Related => P.scope_related,
        Scope::Other => P.scope_other,
    }
}

/// A change's score from its factors (`verdict`: what the metrics say of it, 1 if nothing).
pub fn combine(time: f64, scope: f64, content: f64, explains: bool, verdict: f64) -> f64 {
    time.sqrt()
        * scope
        * (P.content_floor + (1.0 - P.content_floor) * content)
        * if explains { 1.0 } else { P.unexplained_factor }
        * verdict
}

pub fn score_all(cands: &[Candidate], ctx: &Context<'_>) -> Vec<Scored> {
    let tau = time_constant_minutes(ctx.family);
    let earliest_failure = ctx.failing_since.values().min().copied();
    let mut out: Vec<Scored> = cands
        .iter()
        .filter_map(|c| {
            let gap = (ctx.first_error - c.ts).num_seconds() as f64 / 60.0;
            // Landed after the failure began: cannot have caused it.
            if gap < -P.landed_after_tolerance_minutes {
                return None;
            }
            let time = time_factor(gap, tau);
            let svc = c.service.to_lowercase();
            // Another service that began failing itself right after this change, no later
            // than the origin: the changed component broke (a resolver, a shared gateway).
            // It must also be the first thing that broke: a service failing only after
            // another had already failed is more likely that one's victim (name resolution
            // down for everyone, and every service's deploy "broke after" it).
            let broke_after = ctx.failing_since.get(&svc).and_then(|t| {
                let after = (*t - c.ts).num_seconds() as f64 / 60.0;
                // No later than `e` within the clock tolerance: services' log clocks (and a
                // second's race between two victims) do not order them finer.
                let not_after = |e: DateTime<Utc>| {
                    (*t - e).num_seconds() as f64 <= P.landed_after_tolerance_minutes * 60.0
                };
                let first_to_fail = earliest_failure.is_none_or(not_after);
                let before_origin = not_after(ctx.first_error);
                ((-P.landed_after_tolerance_minutes..=P.broke_after_window_minutes)
                    .contains(&after)
                    && before_origin
                    && first_to_fail)
                    .then_some(after)
            });
            let desc_lc = c.description.to_lowercase();
            let loads_store = ctx
                .datastores
                .iter()
                .find(|d| desc_lc.contains(d.as_str()))
                .filter(|_| matches!(ctx.family, Some(Family::Pool | Family::SlowQuery)));
            // An exact identifier the change names (a key id, a bundle version, an address)
            // in the failure's own lines: the strongest link words can make.
            let mut change_ids = text::identifiers(&c.description);
            for f in &c.files {
                change_ids.extend(text::identifiers(f));
            }
            // Only for a change that landed just before the failure: an address or id that has
            // been in the lines for an hour is how things are, not what just changed.
            let shared_ids: Vec<String> = if gap <= P.broke_after_window_minutes {
                ctx.error_ids
                    .iter()
                    .filter(|i| change_ids.contains(*i))
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            };
            let scope = if c.service.eq_ignore_ascii_case(ctx.origin) {
                Scope::Origin
            } else if c.service.eq_ignore_ascii_case(ctx.alert_service) {
                Scope::Alert
            } else if loads_store.is_some() {
                Scope::Datastore
            } else if ctx.origin.len() >= 4 && desc_lc.contains(&ctx.origin.to_lowercase()) {
                // It changed how another service talks to the origin (timeouts, retries).
                Scope::Targets
            } else if ctx.named.contains(&svc) || !shared_ids.is_empty() {
                Scope::Named
            } else if broke_after.is_some() {
                Scope::BrokeAfter
            } else if ctx.related.contains(&c.service) {
                Scope::Related
            } else {
                Scope::Other
            };
            let described: BTreeSet<String> = text::keywords(&c.description);
            // "v3.8.1", "misc fixes", "ramp to 100%": a description too terse to share words
            // with anything says nothing against the change.
            let terse = described.len() <= 2;
            let mut terms = described;
            for f in &c.files {
                terms.extend(text::keywords(f));
            }
            let mut shared: Vec<String> = terms.intersection(ctx.error_terms).cloned().collect();
            shared.extend(shared_ids.iter().cloned());
            // Precursors: lines of a new kind that began on the origin right after this change
            // and before the failure, sharing its words (the new endpoint's warnings before
            // the pool ran dry).
            let precursor = if scope == Scope::Origin {
                precursor(ctx, c.ts, &terms)
            } else {
                None
            };
            if let Some((words, _)) = &precursor {
                for w in words {
                    if !shared.contains(w) {
                        shared.push(w.clone());
                    }
                }
            }
            // The origin cannot read what a dependency answers (`prefs.locale.toLowerCase is not
            // a function`) right after that dependency changed, and the change names what the
            // errors are about: it changed the contract.
            let contract = ctx.shape_error
                && matches!(scope, Scope::Related | Scope::Named)
                && ctx.related.contains(&c.service)
                && !c.service.eq_ignore_ascii_case(ctx.origin)
                && (-P.landed_after_tolerance_minutes..=P.broke_after_window_minutes).contains(&gap)
                && !shared.is_empty();
            // The origin's offered load stepped up within minutes of a caller's change, and the
            // change shares words with the failing calls: the caller multiplied them.
            let step_after = ctx
                .metrics
                .and_then(|m| m.surge.as_ref())
                .filter(|s| s.growth >= P.surge_factor)
                .map(|s| (s.onset - c.ts).num_seconds() as f64 / 60.0)
                .filter(|after| {
                    (-P.landed_after_tolerance_minutes..=P.onset_alignment_minutes).contains(after)
                });
            let amplifies = c.kind == ChangeKind::Deploy
                && ctx.callers.contains(&svc)
                && !shared.is_empty()
                && step_after.is_some()
                && scope == Scope::Other;
            // Its effect began with the load step, not with the first error the load caused
            // later: time counts from there.
            let time = match step_after {
                Some(after) if amplifies => time_factor(after.max(0.0), tau),
                _ => time,
            };
            let scope = if contract {
                Scope::Contract
            } else if amplifies {
                Scope::Amplifies
            } else {
                scope
            };
            let service = scope_weight(scope);
            let desc = c.description.to_lowercase();
            let family_hit = ctx
                .family
                .is_some_and(|f| lexicon::change_terms(f).iter().any(|t| desc.contains(t)));
            // Calls to several unrelated dependencies time out together: a change to the
            // caller's own platform (its nodes, its cluster, its network) explains them all.
            let common_factor = ctx.family == Some(Family::Upstream)
                && super::fanout::common_factor(ctx.failing_parties);
            let common_platform = common_factor
                && scope == Scope::Origin
                && lexicon::change_terms(Family::Platform)
                    .iter()
                    .any(|t| desc.contains(t));
            let family_hit = family_hit || common_platform;
            // An exact identifier counts as much as a full set of shared words.
            let mut content = content_factor(
                shared.len() + shared_ids.len() * P.shared_terms_full as usize,
                family_hit,
            );
            // A change that shares nothing with the failure is only weakly suspect, however close in time.
            // Onset alignment: the origin's own metrics turned within minutes after it.
            // Not when it landed after the first error: symptoms that turned before a change
            // (within the clock tolerance) say nothing for it.
            let aligned = if scope == Scope::Origin && gap >= 0.0 {
                ctx.metric_onset.and_then(|o| {
                    let after = (o - c.ts).num_seconds() as f64 / 60.0;
                    (-P.landed_after_tolerance_minutes..=P.onset_alignment_minutes)
                        .contains(&after)
                        .then_some(after)
                })
            } else {
                None
            };
            let mut explains = family_hit
                || shared.len() >= 2
                || !shared_ids.is_empty()
                || precursor.is_some()
                || aligned.is_some();
            // On the origin, minutes before its first error: proximity is evidence enough not to
            // halve the score, and a terse change there starts from neutral content.
            // Only for failures a change of the service's own code or config explains at all
            // (a defect, a crash loop, nothing recognised); not when a certificate, DNS, a
            // dependency, load or the platform is the story.
            let own_kind = matches!(
                ctx.family,
                None | Some(Family::CodeError | Family::CrashLoop)
            );
            if own_kind
                && scope == Scope::Origin
                && (0.0..=P.origin_proximity_minutes).contains(&gap)
            {
                explains = true;
            }
            if own_kind && scope == Scope::Origin && terse && gap <= P.terse_window_minutes {
                content = content.max(P.terse_content);
                explains = true;
            }
            // Three reasons are evidence in themselves: the changed service broke right after
            // it, it loads the datastore the origin starves on, it reconfigures calls to the
            // origin.
            if matches!(
                scope,
                Scope::BrokeAfter
                    | Scope::Datastore
                    | Scope::Targets
                    | Scope::Contract
                    | Scope::Amplifies
            ) {
                content = content.max(P.reasoned_content);
                explains = true;
            }
            // A setting shows at once: symptoms that stayed healthy long after a configuration,
            // flag or infrastructure change doubt it (a deploy may carry a latent defect that a
            // later trigger sets off, and a change with a reason of its own is judged by it).
            let verdict = ctx.metrics.and_then(|m| {
                m.judge(c.ts, ctx.family).or_else(|| {
                    (c.kind != ChangeKind::Deploy
                        && matches!(
                            scope,
                            Scope::Origin
                                | Scope::Alert
                                | Scope::Related
                                | Scope::Other
                                | Scope::Targets
                        ))
                    .then(|| m.healthy_after(c.ts, ctx.family))
                    .flatten()
                })
            });
            // The version split: do the errors follow the version this change shipped?
            let texts = [c.id.as_str(), c.description.as_str()];
            let split = if c.kind == ChangeKind::Deploy {
                super::versions::judge_logs(ctx.versions, &c.service, c.ts, &texts).or_else(|| {
                    super::versions::judge_metrics(ctx.series, &c.service, c.ts, &texts)
                })
            } else {
                // A flag or config change: series split by the label of the flag it changed.
                super::versions::judge_flag_metrics(ctx.series, &c.service, c.ts, &texts)
            };
            // The breadth test: the errors also come from parts the change never touched.
            let files = c.files.join(" ");
            let split = split.or_else(|| {
                super::breadth::exonerates(
                    ctx.spreads,
                    &c.id,
                    &[c.description.as_str(), files.as_str()],
                )
                .map(|reason| super::versions::Split::AlsoOld { reason })
            });
            let split_factor = match &split {
                Some(super::versions::Split::OnlyNew { .. }) => {
                    explains = true;
                    P.version_confirms_factor
                }
                Some(super::versions::Split::AlsoOld { .. }) => P.version_clears_factor,
                None => 1.0,
            };
            // It touched a sibling of what fails (`shard-1` while the failing lines name
            // `shard-2`), and never the failing one.
            let sibling = sibling_only(&change_ids, ctx.error_ids);
            let split_factor = if sibling.is_some() {
                split_factor * P.version_clears_factor
            } else {
                split_factor
            };
            // A partial rollout cannot fail more of the traffic than it reaches.
            let short_reach = rollout_reach(c)
                .zip(ctx.failing_share)
                .filter(|(reach, share)| *share > P.reach_excess_factor * reach + P.reach_slack);
            let split_factor = if short_reach.is_some() {
                split_factor * P.version_clears_factor
            } else {
                split_factor
            };
            let cleared = matches!(split, Some(super::versions::Split::AlsoOld { .. }))
                || short_reach.is_some()
                || sibling.is_some();
            let follows_version = matches!(split, Some(super::versions::Split::OnlyNew { .. }));
            // Landed after the failure began (within the clock tolerance): words alone do not
            // make it the cause; only the version split or an exact identifier can.
            if gap < 0.0 && !follows_version && shared_ids.is_empty() {
                explains = false;
            }
            // Several unrelated dependencies fail together and this change touched one of
            // them: it cannot explain the others.
            let one_party = (common_factor && !common_platform)
                .then(|| {
                    let touched: Vec<&String> = ctx
                        .failing_parties
                        .iter()
                        .filter(|p| desc.contains(p.as_str()))
                        .collect();
                    (touched.len() == 1).then(|| touched[0].clone())
                })
                .flatten();
            let split_factor = if one_party.is_some() {
                split_factor * P.one_party_factor
            } else {
                split_factor
            };
            // The origin's datastore failed over on its own first: the origin inherits that
            // failure; a change of its own (not one to that dependency) did not cause it.
            let inherited = ctx.failed_over.filter(|(dep, _)| {
                !c.service.eq_ignore_ascii_case(dep)
                    && !desc.contains(&dep.to_lowercase())
                    && matches!(
                        scope,
                        Scope::Origin | Scope::Alert | Scope::Related | Scope::Other
                    )
            });
            let split_factor = if inherited.is_some() {
                split_factor * P.inherited_factor
            } else {
                split_factor
            };
            // A leak the change shipped: memory began its climb to the failure right after it.
            let leak_start = (scope == Scope::Origin && ctx.family == Some(Family::Memory))
                .then(|| {
                    ctx.metrics.and_then(|m| {
                        m.leak_began_after(
                            c.ts,
                            chrono::Duration::minutes(P.leak_start_window_minutes as i64),
                        )
                    })
                })
                .flatten();
            if leak_start.is_some() {
                explains = true;
                content = content.max(P.reasoned_content);
            }
            let split_factor = if leak_start.is_some() {
                split_factor * P.leak_start_factor
            } else {
                split_factor
            };
            let split_factor = if scope == Scope::Contract {
                split_factor * P.contract_factor
            } else {
                split_factor
            };
            let score = combine(
                time,
                service,
                content,
                explains,
                verdict.as_ref().map_or(1.0, |v| v.factor),
            ) * split_factor;
            let mut evidence_for = Vec::new();
            let mut evidence_against = Vec::new();
            if gap <= P.origin_proximity_minutes * 3.0 {
                evidence_for.push(format!("landed {gap:.0} min before the first error"));
            } else {
                evidence_against.push(format!("landed {gap:.0} min before the first error"));
            }
            if !shared.is_empty() {
                evidence_for.push(format!("shares {} with the errors", shared.join(", ")));
            } else if !terse {
                evidence_against.push("shares no identifier with the errors".into());
            }
            if common_platform {
                evidence_for.push(
                    "it changed the platform under the origin, whose calls to several unrelated dependencies fail at once"
                        .into(),
                );
            } else if family_hit {
                evidence_for.push("its type explains the failure".into());
            }
            if let Some(after) = aligned {
                evidence_for.push(format!(
                    "{}'s symptom metrics turned {after:.0} min after it",
                    c.service
                ));
            }
            if let Some((words, example)) = &precursor {
                evidence_for.push(format!(
                    "new lines sharing {} began right after it, before the failure: {}",
                    words.join(", "),
                    example.chars().take(120).collect::<String>()
                ));
            }
            if !shared_ids.is_empty() {
                evidence_for.push(format!(
                    "the failing lines carry {}, which it names",
                    shared_ids.join(", ")
                ));
            }
            if !matches!(
                scope,
                Scope::Origin | Scope::Alert | Scope::Other | Scope::Related
            ) {
                evidence_for.push(format!("in scope: {scope:?}").to_lowercase());
            }
            if scope == Scope::Other {
                evidence_against.push(format!("{} is not on the failing path", c.service));
            }
            if let Some(v) = &verdict {
                evidence_against.push(v.reason.clone());
            }
            if let Some((dep, at)) = inherited {
                evidence_against.push(format!(
                    "{dep} failed over on its own at {}, before the first error: the failure is inherited",
                    at.format("%H:%M:%S")
                ));
            }
            if let Some(why) = &leak_start {
                evidence_for.push(why.clone());
            }
            if let Some((touched, failing)) = &sibling {
                evidence_against.push(format!(
                    "it touched {touched}, but the failing lines name {failing}"
                ));
            }
            if let Some((reach, share)) = short_reach {
                evidence_against.push(format!(
                    "it reaches at most {:.0}% of the traffic, but {:.0}% of requests fail",
                    reach * 100.0,
                    share * 100.0
                ));
            }
            if let Some(p) = &one_party {
                evidence_against.push(format!(
                    "it touches {p} only, but calls to {} fail as well",
                    ctx.failing_parties
                        .iter()
                        .filter(|q| *q != p)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            match &split {
                Some(super::versions::Split::OnlyNew { reason }) => {
                    evidence_for.push(reason.clone())
                }
                Some(super::versions::Split::AlsoOld { reason }) => {
                    evidence_against.push(reason.clone())
                }
                None => {}
            }
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
                    .into_iter()
                    .chain(split.as_ref().map(|s| match s {
                        super::versions::Split::AlsoOld { reason } => format!("; but {reason}"),
                        super::versions::Split::OnlyNew { reason } => format!("; {reason}"),
                    }))
                    .collect::<String>()
            );
            let why = match scope {
                Scope::BrokeAfter => format!(
                    "{why}; {} itself began failing {:.0} min after it",
                    c.service,
                    broke_after.unwrap_or_default()
                ),
                Scope::Named if !shared_ids.is_empty() => {
                    format!("{why}; the errors carry {}, which it names", shared_ids.join(", "))
                }
                Scope::Named => format!("{why}; the errors name {}", c.service),
                Scope::Targets => {
                    format!("{why}; it changes how {} calls {}", c.service, ctx.origin)
                }
                Scope::Amplifies => format!(
                    "{why}; {}'s offered load stepped up right after it: {} multiplied its calls",
                    ctx.origin, c.service
                ),
                Scope::Contract => format!(
                    "{why}; it changed what {} answers just before {} failed to read it",
                    c.service, ctx.origin
                ),
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
                explains,
                cleared,
                evidence_for,
                evidence_against,
                aligned_after: aligned,
                shared_ids,
                follows_version,
            })
        })
        .collect();
    supersede(&mut out, ctx);
    below_the_version(&mut out);
    // The failure's own identifier points at one change: the others, linked by words alone,
    // are less likely.
    if out.iter().any(|s| !s.shared_ids.is_empty()) {
        let linked: Vec<String> = out
            .iter()
            .flat_map(|s| s.shared_ids.iter().cloned())
            .collect();
        for s in out.iter_mut().filter(|s| s.shared_ids.is_empty()) {
            s.score *= P.id_elsewhere_factor;
            s.evidence_against.push(format!(
                "the failing lines carry {}, which another change names",
                linked.join(", ")
            ));
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// Precedence: when the symptoms turned right after one change, an earlier change after which
/// they stayed healthy for longer than the alignment window did not start them on its own
/// (a certificate renewed at 03:58, a content bundle published at 04:09, errors from 04:09).
/// Failures that build up over hours (leaks, pools, disks) are left alone, and so is a change
/// with a reason of its own (its service broke first, the errors name it).
fn supersede(out: &mut [Scored], ctx: &Context<'_>) {
    if time_constant_minutes(ctx.family) > P.tau_fast_minutes {
        return;
    }
    let Some(onset) = ctx.metric_onset else {
        return;
    };
    let Some(latest) = out
        .iter()
        .filter(|s| s.aligned_after.is_some() && s.explains && !s.cleared)
        .max_by_key(|s| s.candidate.ts)
        .map(|s| (s.candidate.id.clone(), s.candidate.ts))
    else {
        return;
    };
    for s in out.iter_mut() {
        let quiet = (onset - s.candidate.ts).num_seconds() as f64 / 60.0;
        // Errors only where it runs say more than the moment the symptoms turned (a canary
        // fails as its share of traffic grows, not at the minute it shipped).
        if s.aligned_after.is_none()
            && !s.follows_version
            && s.candidate.ts < latest.1
            && quiet > P.onset_alignment_minutes
            && matches!(
                s.scope,
                Scope::Origin | Scope::Alert | Scope::Related | Scope::Other
            )
        {
            s.score *= P.superseded_factor;
            s.evidence_against.push(format!(
                "the symptoms turned {quiet:.0} min after it, right after {}",
                latest.0
            ));
        }
    }
}

/// The errors follow one version of a service: a change under every instance of it (a
/// setting, the nodes, the network) would have failed the old version's instances as well,
/// so it does not explain them.
fn below_the_version(out: &mut [Scored]) {
    let confirmed: Vec<(String, String)> = out
        .iter()
        .filter(|s| s.follows_version)
        .map(|s| (s.candidate.service.to_lowercase(), s.candidate.id.clone()))
        .collect();
    for s in out.iter_mut().filter(|s| !s.follows_version) {
        let svc = s.candidate.service.to_lowercase();
        let Some((_, by)) = confirmed.iter().find(|(c, _)| *c == svc) else {
            continue;
        };
        if s.candidate.kind == ChangeKind::Deploy {
            continue;
        }
        s.score *= P.version_clears_factor;
        s.cleared = true;
        s.evidence_against.push(format!(
            "the errors follow the version {by} shipped; a change under every instance of {svc} would have failed the others too"
        ));
    }
}

/// The origin is a datastore that several services lost at once (`blame::lost_by_callers`):
/// a change on one of them cannot have taken it from the others, which lose it without that
/// change. The failure happens where the change is absent, so the change is cleared — unless
/// it is the one that loads the datastore (a new workload on a shared cache). Scores are
/// re-sorted.
pub fn cleared_by_other_callers(out: &mut [Scored], lost_by: &[String], store: &str) {
    for s in out.iter_mut().filter(|s| s.scope != Scope::Datastore) {
        let svc = s.candidate.service.to_lowercase();
        if !lost_by.contains(&svc) {
            continue;
        }
        let others: Vec<&str> = lost_by
            .iter()
            .filter(|o| **o != svc)
            .map(String::as_str)
            .collect();
        if others.is_empty() {
            continue;
        }
        s.score *= P.version_clears_factor;
        s.cleared = true;
        s.evidence_against.push(format!(
            "{} lose {store} as well, without this change: the datastore is down, not {svc}",
            others.join(", ")
        ));
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
}

/// A kind of line that first appeared on the origin within the broke-after window after the
/// change (and no later than the first error) and shares at least two of its words.
fn precursor(
    ctx: &Context<'_>,
    ts: DateTime<Utc>,
    change_terms: &BTreeSet<String>,
) -> Option<(Vec<String>, String)> {
    let window = chrono::Duration::seconds((P.broke_after_window_minutes * 60.0) as i64);
    let tolerance = chrono::Duration::seconds((P.landed_after_tolerance_minutes * 60.0) as i64);
    ctx.onsets
        .iter()
        .filter(|o| {
            o.first_seen >= ts - tolerance
                && o.first_seen <= ts + window
                && o.first_seen <= ctx.first_error
        })
        .filter_map(|o| {
            let words: Vec<String> = text::keywords(&o.example)
                .intersection(change_terms)
                .cloned()
                .collect();
            (words.len() >= P.precursor_min_terms).then(|| (words, o.example.clone()))
        })
        .max_by_key(|(w, _)| w.len())
}

/// A change that names one member of a numbered family (`orders-db-shard-1`, `node-07`) while
/// the failing lines name only other members of it (`orders-db-shard-2`): it touched a sibling.
/// `(what it touched, what fails)`.
pub fn sibling_only(
    change_ids: &BTreeSet<String>,
    error_ids: &[String],
) -> Option<(String, String)> {
    let stem_of = |id: &str| {
        let (stem, suffix) = id.rsplit_once('-')?;
        (stem.len() >= 4 && !suffix.is_empty() && suffix.len() <= 3).then(|| stem.to_string())
    };
    if change_ids.iter().any(|c| error_ids.iter().any(|e| e == c)) {
        return None;
    }
    change_ids.iter().find_map(|c| {
        let stem = stem_of(c)?;
        error_ids
            .iter()
            .find(|e| *e != c && stem_of(e).as_deref() == Some(stem.as_str()))
            .map(|e| (c.clone(), e.clone()))
    })
}

/// The share of requests failing that an alert measures: a ratio of bad requests (`5xx_ratio`
/// 0.19, `http_401_ratio` 0.41, `error_percent` 12), not a count or a rate per second.
pub fn failing_share(metric: &str, value: f64) -> Option<f64> {
    let m = metric.to_lowercase();
    let bad = [
        "error", "5xx", "4xx", "401", "403", "fail", "reject", "declin",
    ]
    .iter()
    .any(|w| m.contains(w));
    if !bad || !value.is_finite() || value <= 0.0 {
        return None;
    }
    if ["percent", "pct"].iter().any(|w| m.contains(w)) {
        return (value <= 100.0).then_some(value / 100.0);
    }
    (["ratio", "share", "fraction"].iter().any(|w| m.contains(w)) && value <= 1.0).then_some(value)
}

static PERCENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(\d{1,3}(?:\.\d+)?)\s*%").expect("static regex")
});

/// How much of the traffic a partial rollout reaches: the last percentage a flag change or a
/// rollout names (`rollout 0% -> 10% of upstream routes` → 0.10). None for anything else.
pub fn rollout_reach(c: &Candidate) -> Option<f64> {
    let d = c.description.to_lowercase();
    let rollout = c.kind == ChangeKind::FeatureFlag
        || ["rollout", "roll out", "canary", "ramp"]
            .iter()
            .any(|w| d.contains(w));
    if !rollout {
        return None;
    }
    let last: f64 = PERCENT.captures_iter(&d).last()?[1].parse().ok()?;
    (last > 0.0 && last < 100.0).then_some(last / 100.0)
}

/// Phrases in a deploy description that make a plain rollback unsafe, or a drop of tables or
/// columns in any wording ("drops the QRTZ_* tables", "dropped the legacy columns").
pub fn rollback_unsafe(description: &str) -> bool {
    let d = description.to_lowercase();
    text::contains_any(&d, lexicon::ROLLBACK_UNSAFE) || drops_schema(&d)
}

/// The number a change introduced (a bundle version, a serial: eight digits or more) that the
/// failing lines cannot parse (`NumberFormatException: For input string: "2601010001"`,
/// `value out of range for type integer`). Such numbers are derived from the date or a
/// sequence and only grow: going back to the previous one lasts until the next update, so
/// the parser must be fixed forward. Returns the number.
pub fn outgrown_number<'a>(
    description: &str,
    failing: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let numbers: Vec<&str> = description
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| t.len() >= 8)
        .collect();
    if numbers.is_empty() {
        return None;
    }
    failing.into_iter().find_map(|line| {
        let l = line.to_lowercase();
        if !text::contains_any(&l, lexicon::NUMBER_UNPARSABLE) {
            return None;
        }
        numbers
            .iter()
            .find(|n| l.split(|c: char| !c.is_ascii_digit()).any(|t| t == **n))
            .map(|n| n.to_string())
    })
}

/// "drop…" followed within a few words by "table" or "column" (lower-cased text).
fn drops_schema(d: &str) -> bool {
    d.match_indices("drop").any(|(i, _)| {
        let word_start = d[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let tail: String = d[i..]
            .split_whitespace()
            .skip(1)
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        word_start && (tail.contains("table") || tail.contains("column"))
    })
}

/// A configuration or infrastructure change that reverting cannot undo (a rotated key, a
/// schema migration).
pub fn irreversible_change(c: &Candidate) -> bool {
    c.kind != ChangeKind::Deploy
        && c.kind != ChangeKind::FeatureFlag
        && (text::contains_any(&c.description.to_lowercase(), lexicon::IRREVERSIBLE_CHANGE)
            || text::has_word_stem(&c.description, lexicon::DESTRUCTIVE_STEMS))
}

/// An infrastructure operation (a restart, a failover, maintenance) rather than a new
/// setting: once over, nothing is left to revert.
pub fn operation_event(c: &Candidate) -> bool {
    c.kind == ChangeKind::Infra
        && text::contains_any(&c.description.to_lowercase(), lexicon::OPERATION_EVENTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_factor_is_one_at_once_and_decays_with_the_gap() {
        assert_eq!(time_factor(0.0, 90.0), 1.0);
        assert_eq!(
            time_factor(-0.5, 90.0),
            1.0,
            "a change seconds after counts as at once"
        );
        let hour = time_factor(60.0, P.tau_fast_minutes);
        let slow = time_factor(60.0, P.tau_slow_minutes);
        assert!(hour < 1.0 && slow > hour, "{hour} {slow}");
        assert!((time_factor(90.0, 90.0) - (-1.0f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn content_factor_grows_with_shared_terms_and_the_family() {
        assert_eq!(content_factor(0, false), 0.0);
        assert!(content_factor(1, false) < content_factor(2, false));
        assert_eq!(content_factor(3, false), P.content_terms_weight);
        assert_eq!(content_factor(9, false), P.content_terms_weight, "capped");
        assert_eq!(content_factor(3, true), 1.0);
    }

    #[test]
    fn scope_weights_rank_origin_then_tied_then_related_then_other() {
        let w = |s| scope_weight(s);
        assert!(w(Scope::Origin) > w(Scope::Alert));
        for tied in [
            Scope::Alert,
            Scope::Datastore,
            Scope::Targets,
            Scope::Named,
            Scope::BrokeAfter,
        ] {
            assert_eq!(w(tied), P.scope_tied);
        }
        assert!(w(Scope::Alert) > w(Scope::Related) && w(Scope::Related) > w(Scope::Other));
    }

    #[test]
    fn combine_halves_an_unexplained_change_and_applies_the_metric_verdict() {
        let explained = combine(1.0, 1.0, 1.0, true, 1.0);
        assert_eq!(explained, 1.0);
        assert_eq!(combine(1.0, 1.0, 1.0, false, 1.0), P.unexplained_factor);
        assert_eq!(combine(1.0, 1.0, 0.0, true, 1.0), P.content_floor);
        assert!((combine(0.25, 1.0, 1.0, true, 0.3) - 0.5 * 0.3).abs() < 1e-12);
    }

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
                kind: ChangeKind::Deploy,
                service: "api".into(),
                ts: at(-3000),
                description: "tweak rate limits".into(),
                files: vec![],
            },
            Candidate {
                id: "d-bad".into(),
                kind: ChangeKind::Deploy,
                service: "api".into(),
                ts: at(-12),
                description: "Refactor AuthMiddleware JWT secret lookup".into(),
                files: vec![],
            },
            Candidate {
                id: "d-other".into(),
                kind: ChangeKind::Deploy,
                service: "billing".into(),
                ts: at(-5),
                description: "copy change".into(),
                files: vec![],
            },
            Candidate {
                id: "d-late".into(),
                kind: ChangeKind::Deploy,
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
            versions: &[],
            series: &[],
            spreads: &[],
            onsets: &[],
            metric_onset: None,
            failing_parties: &[],
            error_ids: &[],
            failed_over: None,
            shape_error: false,
            failing_share: None,
            callers: &NO_CALLERS,
        };
        let s = score_all(&cands, &ctx);
        assert_eq!(s[0].candidate.id, "d-bad");
        assert!(s[0].score > 0.7, "{s:?}");
        assert!(s.iter().all(|x| x.candidate.id != "d-late"));
        assert!(s[1].score < 0.3);
    }

    #[test]
    fn a_platform_change_explains_timeouts_to_several_unrelated_dependencies() {
        let cands = vec![
            cand(
                "cache",
                "deploy",
                "users",
                -40,
                "Cache country list in redis-cache",
            ),
            cand(
                "upgrade",
                "infra",
                "users",
                -6,
                "Upgrade the users cluster node pools to 1.24",
            ),
        ];
        let terms = text::keywords(
            "redis TimeoutError redis-cache psycopg OperationalError timeout node=ip-10-20-6-14",
        );
        let related = BTreeSet::new();
        let empty = BTreeSet::new();
        let since = Default::default();
        let parties = ["10.20.14.7".to_string(), "redis-cache".to_string()];
        let ctx = |several: bool| Context {
            origin: "users",
            alert_service: "users",
            related: &related,
            first_error: at(0),
            error_terms: &terms,
            family: Some(Family::Upstream),
            metrics: None,
            named: &empty,
            failing_since: &since,
            datastores: &empty,
            versions: &[],
            series: &[],
            spreads: &[],
            onsets: &[],
            metric_onset: None,
            failing_parties: if several { &parties } else { &parties[..1] },
            error_ids: &[],
            failed_over: None,
            shape_error: false,
            failing_share: None,
            callers: &NO_CALLERS,
        };
        let s = score_all(&cands, &ctx(true));
        assert_eq!(s[0].candidate.id, "upgrade", "{s:?}");
        assert!(s[0].explains);
        assert!(
            s[0].evidence_for
                .iter()
                .any(|e| e.contains("several unrelated"))
        );
        let with = s[0].score;
        // One dependency failing: the platform change has no claim beyond its timing.
        let s = score_all(&cands, &ctx(false));
        let up = s.iter().find(|x| x.candidate.id == "upgrade").unwrap();
        assert!(
            !up.evidence_for
                .iter()
                .any(|e| e.contains("several unrelated"))
        );
        assert!(up.score < with, "{} vs {with}", up.score);
    }

    fn base_ctx<'a>(terms: &'a BTreeSet<String>, empty: &'a BTreeSet<String>) -> Context<'a> {
        static SINCE: std::sync::OnceLock<std::collections::BTreeMap<String, DateTime<Utc>>> =
            std::sync::OnceLock::new();
        Context {
            origin: "edge",
            alert_service: "edge",
            related: empty,
            first_error: at(0),
            error_terms: terms,
            family: Some(Family::CrashLoop),
            metrics: None,
            named: empty,
            failing_since: SINCE.get_or_init(Default::default),
            datastores: empty,
            versions: &[],
            series: &[],
            spreads: &[],
            onsets: &[],
            metric_onset: None,
            failing_parties: &[],
            error_ids: &[],
            failed_over: None,
            shape_error: false,
            failing_share: None,
            callers: &NO_CALLERS,
        }
    }

    #[test]
    fn a_change_the_symptoms_waited_out_is_superseded_by_the_one_they_followed() {
        let cands = vec![
            cand(
                "cert",
                "config",
                "edge",
                -12,
                "Renew certificate edge/www-tls (www.acme.example)",
            ),
            cand(
                "bundle",
                "config",
                "edge",
                -1,
                "publish bot-signature bundle",
            ),
        ];
        let terms = text::keywords("edge-lb www.acme.example status=502 panic index out of range");
        let empty = BTreeSet::new();
        let with_onset = |onset: Option<DateTime<Utc>>| Context {
            metric_onset: onset,
            ..base_ctx(&terms, &empty)
        };
        let plain = score_all(&cands, &with_onset(None));
        let cert_before = plain
            .iter()
            .find(|s| s.candidate.id == "cert")
            .unwrap()
            .score;
        // The metrics turned right after the bundle: the certificate, twelve quiet minutes
        // earlier, did not start it.
        let s = score_all(&cands, &with_onset(Some(at(0))));
        let cert = s.iter().find(|s| s.candidate.id == "cert").unwrap();
        let bundle = s.iter().find(|s| s.candidate.id == "bundle").unwrap();
        assert!(bundle.aligned_after.is_some());
        assert!(
            cert.score < cert_before * 0.5,
            "{} vs {cert_before}",
            cert.score
        );
        assert!(
            cert.evidence_against
                .iter()
                .any(|e| e.contains("right after bundle")),
            "{:?}",
            cert.evidence_against
        );
        // A slow failure (a leak) builds up over hours: no precedence.
        let slow = Context {
            family: Some(Family::Memory),
            ..with_onset(Some(at(0)))
        };
        let s = score_all(&cands, &slow);
        assert!(s.iter().all(|x| {
            x.evidence_against
                .iter()
                .all(|e| !e.contains("right after"))
        }));
    }

    #[test]
    fn an_exact_identifier_in_the_failing_lines_links_its_change_and_no_other() {
        let cands = vec![
            cand(
                "lib",
                "deploy",
                "edge",
                -20,
                "nimbus-jose-jwt 9.37 -> 9.40; cache JWKS",
            ),
            cand(
                "rotate",
                "config",
                "auth",
                -8,
                "Scheduled signing-key rotation: publish kid k-2026-03, retire kid k-2026-01",
            ),
        ];
        let terms = text::keywords("rejecting bearer token kid BadJOSEException jose jwt");
        let empty = BTreeSet::new();
        let ids = ["k-2026-01".to_string()];
        let ctx = Context {
            family: Some(Family::CodeError),
            error_ids: &ids,
            ..base_ctx(&terms, &empty)
        };
        let s = score_all(&cands, &ctx);
        assert_eq!(s[0].candidate.id, "rotate", "{s:?}");
        assert_eq!(s[0].shared_ids, vec!["k-2026-01".to_string()]);
        assert_eq!(s[0].scope, Scope::Named);
        assert!(
            s[1].evidence_against
                .iter()
                .any(|e| e.contains("another change names"))
        );
        // Without the identifier the library deploy on the origin leads.
        let s = score_all(
            &cands,
            &Context {
                error_ids: &[],
                failed_over: None,
                shape_error: false,
                failing_share: None,
                callers: &NO_CALLERS,
                ..ctx
            },
        );
        assert_eq!(s[0].candidate.id, "lib");
    }

    #[test]
    fn a_change_on_the_origin_is_set_aside_when_its_datastore_failed_over_first() {
        let cands = vec![
            cand(
                "batch",
                "deploy",
                "edge",
                -22,
                "wallet: raise auto top-up batch 200 -> 500",
            ),
            cand(
                "db",
                "infra",
                "edge",
                -30,
                "payments-db: resize payments-db volume",
            ),
        ];
        let terms =
            text::keywords("AutoTopUpJob failed to credit wallet batch read-only transaction");
        let empty = BTreeSet::new();
        let fo = ("payments-db".to_string(), at(-1));
        let plain = score_all(&cands, &base_ctx(&terms, &empty));
        let with = score_all(
            &cands,
            &Context {
                failed_over: Some(&fo),
                ..base_ctx(&terms, &empty)
            },
        );
        let score =
            |s: &[Scored], id: &str| s.iter().find(|x| x.candidate.id == id).unwrap().clone();
        let b = score(&with, "batch");
        assert!(b.score < score(&plain, "batch").score * 0.5);
        assert!(
            b.evidence_against
                .iter()
                .any(|e| e.contains("failed over on its own"))
        );
        // A change to that datastore itself is not set aside.
        assert_eq!(score(&with, "db").score, score(&plain, "db").score);
    }

    fn cand(id: &str, kind: &str, service: &str, min: i64, description: &str) -> Candidate {
        Candidate {
            id: id.into(),
            kind: ChangeKind::parse(kind),
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
            versions: &[],
            series: &[],
            spreads: &[],
            onsets: &[],
            metric_onset: None,
            failing_parties: &[],
            error_ids: &[],
            failed_over: None,
            shape_error: false,
            failing_share: None,
            callers: &NO_CALLERS,
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
            versions: &[],
            series: &[],
            spreads: &[],
            onsets: &[],
            metric_onset: None,
            failing_parties: &[],
            error_ids: &[],
            failed_over: None,
            shape_error: false,
            failing_share: None,
            callers: &NO_CALLERS,
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
    fn changes_that_destroy_state_are_irreversible() {
        let c = |kind: &str, d: &str| cand("c", kind, "orders", -5, d);
        assert!(irreversible_change(&c(
            "config",
            "Run purge_legacy_installs for the v1 sunset (412 ids)"
        )));
        assert!(irreversible_change(&c(
            "config",
            "Revoke the processor OAuth grant; store the replacement client in Vault"
        )));
        // A setting can be put back; a deploy or a flag is reverted the usual way.
        assert!(!irreversible_change(&c("config", "Raise pool size to 40")));
        assert!(!irreversible_change(&c("deploy", "Purge unused CSS")));
        // A stem counts only at the start of a word.
        assert!(!irreversible_change(&c(
            "config",
            "Enable unpurged-cache metrics"
        )));
    }

    #[test]
    fn irreversible_migrations_are_detected() {
        assert!(rollback_unsafe(
            "adds migration 0042 dropping column legacy_status (irreversible)"
        ));
        assert!(!rollback_unsafe("Add pagination to /users/list"));
        assert!(rollback_unsafe(
            "V87__migrate_jobstore copies the job definitions and drops the QRTZ_* tables"
        ));
        assert!(rollback_unsafe(
            "migration 12 dropped the legacy_flags columns"
        ));
        assert!(rollback_unsafe("rewrites the index (no undo migration)"));
        assert!(rollback_unsafe(
            "migration 0142 (partition retention 36 months; forward-only, down() not implemented)"
        ));
        assert!(!rollback_unsafe(
            "drop the retry limit from 5 to 3 for table lookups"
        ));
        assert!(!rollback_unsafe("raindrop icons in the mobile table view"));
    }

    #[test]
    fn a_new_kind_of_line_right_after_a_change_is_its_precursor() {
        let cands = vec![cand(
            "bulk",
            "deploy",
            "users",
            -30,
            "Add bulk address validation endpoint POST /v1/users/{id}/addresses:validate",
        )];
        let terms = text::keywords("psycopg_pool.PoolTimeout couldn't get a connection");
        let empty = BTreeSet::new();
        let failing = Default::default();
        let onsets = |min: i64| {
            vec![LineOnset {
                first_seen: at(min),
                example: "POST /v1/users/8/addresses:validate 422 AddressValidationError".into(),
            }]
        };
        let ctx_with = |onsets: &'static [LineOnset]| Context {
            origin: "users",
            alert_service: "users",
            related: &empty,
            first_error: at(0),
            error_terms: &terms,
            family: Some(Family::Pool),
            metrics: None,
            named: &empty,
            failing_since: &failing,
            datastores: &empty,
            versions: &[],
            series: &[],
            spreads: &[],
            onsets,
            metric_onset: None,
            failing_parties: &[],
            error_ids: &[],
            failed_over: None,
            shape_error: false,
            failing_share: None,
            callers: &NO_CALLERS,
        };
        let after: &'static [LineOnset] = Box::leak(onsets(-24).into_boxed_slice());
        let s = score_all(&cands, &ctx_with(after));
        assert!(s[0].explains, "{:?}", s[0]);
        assert!(
            s[0].evidence_for
                .iter()
                .any(|e| e.starts_with("new lines sharing")),
            "{:?}",
            s[0].evidence_for
        );
        // The same lines already there before the change say nothing about it.
        let before: &'static [LineOnset] = Box::leak(onsets(-90).into_boxed_slice());
        let s2 = score_all(&cands, &ctx_with(before));
        assert!(!s2[0].explains && s2[0].score < s[0].score, "{:?}", s2[0]);
    }

    #[test]
    fn only_the_first_service_to_fail_broke_after_its_change() {
        let cands = vec![
            cand(
                "corefile",
                "infra",
                "resolver",
                -3,
                "forward zones consolidated",
            ),
            cand(
                "pay",
                "deploy",
                "payments",
                -2,
                "reconciliation metrics panel",
            ),
        ];
        let terms = BTreeSet::new();
        let empty = BTreeSet::new();
        let failing_since = [
            ("resolver".to_string(), at(-2)),
            ("payments".to_string(), at(0)),
        ]
        .into_iter()
        .collect();
        let ctx = Context {
            origin: "gateway",
            alert_service: "gateway",
            related: &empty,
            first_error: at(1),
            error_terms: &terms,
            family: Some(Family::Dns),
            metrics: None,
            named: &empty,
            failing_since: &failing_since,
            datastores: &empty,
            versions: &[],
            series: &[],
            spreads: &[],
            onsets: &[],
            metric_onset: None,
            failing_parties: &[],
            error_ids: &[],
            failed_over: None,
            shape_error: false,
            failing_share: None,
            callers: &NO_CALLERS,
        };
        let s = score_all(&cands, &ctx);
        let scope = |id: &str| s.iter().find(|x| x.candidate.id == id).unwrap().scope;
        assert_eq!(scope("corefile"), Scope::BrokeAfter);
        assert_ne!(
            scope("pay"),
            Scope::BrokeAfter,
            "payments failed after the resolver did"
        );
        assert_eq!(s[0].candidate.id, "corefile");
    }

    fn ctx_for<'a>(
        related: &'a BTreeSet<String>,
        callers: &'a BTreeSet<String>,
        terms: &'a BTreeSet<String>,
        empty: &'a BTreeSet<String>,
    ) -> Context<'a> {
        Context {
            origin: "orders",
            alert_service: "orders",
            related,
            first_error: at(0),
            error_terms: terms,
            family: Some(Family::CodeError),
            metrics: None,
            named: empty,
            failing_since: &EMPTY_SINCE,
            datastores: empty,
            versions: &[],
            series: &[],
            spreads: &[],
            onsets: &[],
            metric_onset: None,
            failing_parties: &[],
            error_ids: &[],
            failed_over: None,
            shape_error: false,
            failing_share: None,
            callers,
        }
    }

    static NO_CALLERS: std::sync::LazyLock<BTreeSet<String>> =
        std::sync::LazyLock::new(BTreeSet::new);

    static EMPTY_SINCE: std::sync::LazyLock<std::collections::BTreeMap<String, DateTime<Utc>>> =
        std::sync::LazyLock::new(Default::default);

    fn change(id: &str, kind: ChangeKind, service: &str, min: i64, description: &str) -> Candidate {
        Candidate {
            id: id.into(),
            kind,
            service: service.into(),
            ts: at(min),
            description: description.into(),
            files: vec![],
        }
    }

    #[test]
    fn the_failing_share_is_read_from_ratios_and_percentages_only() {
        assert_eq!(failing_share("http_401_ratio", 0.41), Some(0.41));
        assert_eq!(failing_share("error_percent", 12.0), Some(0.12));
        assert_eq!(failing_share("request_rate", 300.0), None);
        assert_eq!(failing_share("error_rate", 12.0), None, "a rate per second");
        assert_eq!(
            failing_share("availability", 0.03),
            None,
            "not a bad-request share"
        );
    }

    #[test]
    fn a_rollout_reaches_the_last_share_it_names() {
        let c = |kind, d: &str| change("c", kind, "orders", -10, d);
        assert_eq!(
            rollout_reach(&c(
                ChangeKind::FeatureFlag,
                "checkout.v2 rollout 0% -> 10% of routes"
            )),
            Some(0.10)
        );
        assert_eq!(
            rollout_reach(&c(ChangeKind::FeatureFlag, "enable for everyone")),
            None
        );
        assert_eq!(
            rollout_reach(&c(ChangeKind::Config, "pool size 10% larger")),
            None,
            "not a rollout"
        );
        assert_eq!(
            rollout_reach(&c(ChangeKind::FeatureFlag, "ramp 50% -> 100%")),
            None
        );
    }

    #[test]
    fn a_partial_rollout_is_cleared_when_more_requests_fail_than_it_reaches() {
        let (related, callers, empty) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let terms = text::keywords("checkout http3 upstream handshake timeout");
        let cands = vec![change(
            "flag-h3",
            ChangeKind::FeatureFlag,
            "orders",
            -5,
            "checkout http3 upstream rollout 0% -> 10%",
        )];
        let mut ctx = ctx_for(&related, &callers, &terms, &empty);
        ctx.failing_share = Some(0.41);
        let s = &score_all(&cands, &ctx)[0];
        assert!(s.cleared, "{s:?}");
        assert!(
            s.evidence_against.iter().any(|e| e.contains("at most 10%")),
            "{s:?}"
        );
        ctx.failing_share = Some(0.08);
        let s = &score_all(&cands, &ctx)[0];
        assert!(!s.cleared, "a share it can reach: {s:?}");
    }

    #[test]
    fn a_dependencys_change_before_a_type_error_on_what_it_names_is_a_contract_change() {
        let related = BTreeSet::from(["users".to_string()]);
        let (callers, empty) = (BTreeSet::new(), BTreeSet::new());
        let terms = text::keywords(
            "TypeError: prefs.locale.toLowerCase is not a function; kafkajs consumer crashed",
        );
        let cands = vec![
            change(
                "d-own",
                ChangeKind::Deploy,
                "orders",
                -26,
                "kafkajs 2.2.4; consumer session timeout 45s",
            ),
            change(
                "d-users",
                ChangeKind::Deploy,
                "users",
                -4,
                "preferences API returns structured locale",
            ),
        ];
        let mut ctx = ctx_for(&related, &callers, &terms, &empty);
        ctx.shape_error = true;
        let s = score_all(&cands, &ctx);
        assert_eq!(s[0].candidate.id, "d-users", "{s:?}");
        assert_eq!(s[0].scope, Scope::Contract);
        assert!(s[0].scope.moves_origin());
        // Without a reader's type error the dependency's change is only related.
        ctx.shape_error = false;
        let s = score_all(&cands, &ctx);
        let users = s.iter().find(|x| x.candidate.id == "d-users").unwrap();
        assert_ne!(users.scope, Scope::Contract);
    }

    #[test]
    fn a_callers_deploy_followed_by_a_load_step_on_the_origin_amplifies_it() {
        let (related, empty) = (BTreeSet::new(), BTreeSet::new());
        let callers = BTreeSet::from(["gateway".to_string()]);
        let terms = text::keywords("GET /internal/entitlements 503 caller=gateway rt=5.0");
        let points = |f: &dyn Fn(i64) -> f64| -> Vec<(DateTime<Utc>, f64)> {
            (-150..=0).step_by(2).map(|m| (at(m), f(m))).collect()
        };
        let series = vec![
            super::super::trend::Series {
                service: "orders".into(),
                metric: "request_rate".into(),
                points: points(&|m| if m < -76 { 400.0 } else { 1300.0 }),
            },
            super::super::trend::Series {
                service: "orders".into(),
                metric: "error_rate".into(),
                points: points(&|m| if m < -2 { 0.01 } else { 0.3 }),
            },
        ];
        let picture = super::super::trend::Picture::new(series);
        let cands = vec![change(
            "d-gw",
            ChangeKind::Deploy,
            "gateway",
            -78,
            "resolve account entitlements at the edge; retry on entitlement fetch",
        )];
        let mut ctx = ctx_for(&related, &callers, &terms, &empty);
        ctx.metrics = Some(&picture);
        let s = &score_all(&cands, &ctx)[0];
        assert_eq!(s.scope, Scope::Amplifies, "{s:?}");
        assert!(s.explains);
        // A service that does not call the origin did not multiply its calls.
        let nobody = BTreeSet::new();
        ctx.callers = &nobody;
        assert_ne!(score_all(&cands, &ctx)[0].scope, Scope::Amplifies);
    }

    #[test]
    fn a_confirmed_version_split_clears_changes_under_every_instance() {
        let (related, callers, empty) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let terms = text::keywords("fatal error: concurrent map writes shard table");
        let stat = |version: &str, errors: Vec<DateTime<Utc>>, seen: Vec<DateTime<Utc>>| {
            super::super::versions::VersionStat {
                service: "orders".into(),
                version: version.into(),
                first_seen: seen[0],
                errors,
                seen,
                error_families: Default::default(),
            }
        };
        let versions = vec![
            stat("1.0.0", vec![], vec![at(-60), at(1), at(3)]),
            stat(
                "1.1.0",
                vec![at(0), at(1), at(2)],
                vec![at(-20), at(0), at(1), at(2)],
            ),
        ];
        let cands = vec![
            change(
                "d-110",
                ChangeKind::Deploy,
                "orders",
                -21,
                "Release 1.1.0: shard table sync",
            ),
            change(
                "c-node",
                ChangeKind::Infra,
                "orders",
                0,
                "node scale-down; pods rescheduled",
            ),
        ];
        let mut ctx = ctx_for(&related, &callers, &terms, &empty);
        ctx.versions = &versions;
        let s = score_all(&cands, &ctx);
        assert_eq!(s[0].candidate.id, "d-110", "{s:?}");
        assert!(s[0].follows_version);
        let node = s.iter().find(|x| x.candidate.id == "c-node").unwrap();
        assert!(node.cleared, "{node:?}");
    }

    #[test]
    fn symptoms_that_turned_before_a_change_are_not_its_alignment() {
        let (related, callers, empty) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let terms = text::keywords("merchant export query timeout");
        let mut late = change(
            "d-late",
            ChangeKind::Deploy,
            "orders",
            0,
            "merchant export column",
        );
        late.ts += chrono::Duration::seconds(30);
        let early = change(
            "d-early",
            ChangeKind::Deploy,
            "orders",
            -3,
            "merchant export column",
        );
        let mut ctx = ctx_for(&related, &callers, &terms, &empty);
        ctx.metric_onset = Some(at(0));
        let s = score_all(&[late, early], &ctx);
        let get = |id: &str| s.iter().find(|x| x.candidate.id == id).unwrap();
        assert_eq!(
            get("d-late").aligned_after,
            None,
            "landed after the first error"
        );
        assert!(get("d-early").aligned_after.is_some());
    }

    #[test]
    fn a_change_to_a_sibling_of_what_fails_is_told_apart() {
        let ids = |t: &str| text::identifiers(t);
        let failing = vec!["orders-db-shard-2".to_string()];
        assert_eq!(
            sibling_only(&ids("orders-db-shard-1: Postgres minor upgrade"), &failing),
            Some(("orders-db-shard-1".into(), "orders-db-shard-2".into()))
        );
        assert_eq!(
            sibling_only(&ids("orders-db-shard-2: resize"), &failing),
            None
        );
        assert_eq!(
            sibling_only(&ids("resize every orders shard"), &failing),
            None
        );
    }

    #[test]
    fn a_change_on_one_caller_of_a_datastore_its_callers_all_lost_is_cleared() {
        let related: BTreeSet<String> = ["users", "redis-cache"].map(String::from).into();
        let (callers, empty) = (BTreeSet::new(), BTreeSet::new());
        let terms = text::keywords("session cache unavailable redis-cache connection");
        let cands = vec![
            change(
                "dep-users",
                ChangeKind::Deploy,
                "users",
                -15,
                "session cache keys get a tenant prefix",
            ),
            change(
                "dep-redis-load",
                ChangeKind::Deploy,
                "analytics",
                -15,
                "nightly export reads every session key",
            ),
        ];
        let mut ctx = ctx_for(&related, &callers, &terms, &empty);
        ctx.origin = "redis-cache";
        let mut out = score_all(&cands, &ctx);
        let before = out
            .iter()
            .find(|s| s.candidate.id == "dep-users")
            .unwrap()
            .score;
        let lost_by = vec![
            "gateway".to_string(),
            "orders".to_string(),
            "users".to_string(),
        ];
        cleared_by_other_callers(&mut out, &lost_by, "redis-cache");
        let users = out.iter().find(|s| s.candidate.id == "dep-users").unwrap();
        assert!(users.cleared, "{users:?}");
        assert!(users.score < before * 0.2, "{} vs {before}", users.score);
        assert!(
            users
                .evidence_against
                .iter()
                .any(|e| e.contains("gateway, orders lose redis-cache as well")),
            "{:?}",
            users.evidence_against
        );
        // A service that did not lose it is not cleared by the others.
        assert!(
            !out.iter()
                .find(|s| s.candidate.id == "dep-redis-load")
                .unwrap()
                .cleared
        );
        // Nobody else lost it: nothing clears the change.
        let mut alone = score_all(&cands, &ctx);
        cleared_by_other_callers(&mut alone, &["users".to_string()], "redis-cache");
        assert!(alone.iter().all(|s| !s.cleared));
    }

    #[test]
    fn a_number_the_change_introduced_that_the_code_cannot_parse_has_outgrown_it() {
        let d = "Automatic rules bundle update 2512312301 -> 2601010001 (scheduled pull)";
        let failing = [
            "RuleEngine - bundle activation failed\njava.lang.NumberFormatException: For input string: \"2601010001\"",
        ];
        assert_eq!(outgrown_number(d, failing), Some("2601010001".to_string()));
        // Another number fails to parse: not the change's.
        assert_eq!(
            outgrown_number(
                d,
                ["NumberFormatException: For input string: \"99999999999\""]
            ),
            None
        );
        // The change's number in a line that is not a parse failure.
        assert_eq!(
            outgrown_number(d, ["bundle 2601010001 activated in 41 ms"]),
            None
        );
        // No long number in the change at all.
        assert_eq!(
            outgrown_number(
                "bump rules bundle",
                ["NumberFormatException: For input string: \"12345678\""]
            ),
            None
        );
    }
}
