//! Every weight and threshold that steers the built-in engine, in one place with its default
//! and why. The analyzers read [`P`]; the LLM prompts quote the same values, so a model and the
//! engine are told the same rules.

/// The engine's parameters (see each field for what it steers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    // ---- triage ----
    /// An open incident on the same service at least this similar is a duplicate.
    pub duplicate_similarity: f32,

    // ---- evidence families ----
    /// Least signal score for a family to count at all.
    pub family_min_score: f64,
    /// How much a family's score counts when choosing the dominant one: specific families
    /// (certificate, DNS, disk, platform) outrank a leak or pool, which outrank code errors,
    /// which outrank "a call failed" (usually a symptom) and load.
    pub family_weight_specific: f64,
    pub family_weight_resource: f64,
    pub family_weight_code: f64,
    pub family_weight_crash_loop: f64,
    pub family_weight_upstream: f64,
    pub family_weight_load: f64,

    // ---- change correlation ----
    /// Time constant (minutes) of a change's suspicion decay for failures that build up
    /// (leaks, pool exhaustion) and for those that show at once.
    pub tau_slow_minutes: f64,
    pub tau_fast_minutes: f64,
    /// A change landing up to this many minutes after the first error still counts (clock skew).
    pub landed_after_tolerance_minutes: f64,
    /// Another service that began failing this many minutes after a change of its own (or up
    /// to a minute before) broke because of it.
    pub broke_after_window_minutes: f64,
    /// Error lines within `broke_after_window_minutes` that make a service's errors a failure
    /// of its own rather than background (log_analyst `burst_onset`).
    pub burst_errors: usize,
    /// Weight of a change by where it landed: on the origin; on a service tied to it (the
    /// alerting one, a datastore it loads, one it reconfigures calls to, one the errors name,
    /// one that broke right after); on a dependency; anywhere else.
    pub scope_origin: f64,
    pub scope_tied: f64,
    pub scope_related: f64,
    pub scope_other: f64,
    /// Shared identifiers between a change and the errors that make its content fully
    /// suspect, and the weight of that share and of "the change type explains the family".
    pub shared_terms_full: f64,
    pub content_terms_weight: f64,
    pub content_family_weight: f64,
    /// A change on the origin this many minutes before its first error explains a code-level
    /// failure by proximity alone; a terse one (a version bump) within the longer window
    /// starts from `terse_content`.
    pub origin_proximity_minutes: f64,
    pub terse_window_minutes: f64,
    pub terse_content: f64,
    /// Content of a change tied to the origin by a reason in itself (broke right after, loads
    /// its datastore, reconfigures calls to it).
    pub reasoned_content: f64,
    /// Score = sqrt(time) × scope × (content_floor + (1 − content_floor) × content) × (1, or
    /// `unexplained_factor` when nothing the change did explains the errors) × metric verdict.
    pub content_floor: f64,
    pub unexplained_factor: f64,

    // ---- culprit and confidence ----
    /// A culprit must score at least this and beat the runner-up by the margin.
    pub culprit_min_score: f64,
    pub culprit_min_margin: f64,
    /// Confidence when no logs could be read.
    pub confidence_no_logs: f64,
    /// With a culprit: base + score_weight × score + margin_weight × (score − runner-up).
    pub confidence_culprit_base: f64,
    pub confidence_score_weight: f64,
    pub confidence_margin_weight: f64,
    /// Without one: base + per_strength × min(family strength, strength_cap).
    pub confidence_family_base: f64,
    pub confidence_per_strength: f64,
    pub confidence_strength_cap: f64,
    /// Confidence is kept within [floor, ceiling].
    pub confidence_floor: f64,
    /// With no culprit, the least confidence when the offered load rose by the surge factor
    /// at the onset: the surge is evidence in itself, however weak the log family.
    pub confidence_surge: f64,
    /// With no culprit, the least confidence in a certificate failure whose own lines date the
    /// expiry (`certificate expires soon`, `not_after=…`): the expiry is evidence in itself.
    pub confidence_expiry: f64,
    pub confidence_ceiling: f64,

    // ---- metrics and action ----
    /// Peak over baseline of offered load that counts as a traffic surge (and justifies scaling).
    pub surge_factor: f64,
    /// Metric verdict factors on a change: the symptom was already under way before it; a leak
    /// was already climbing steadily before it.
    pub verdict_already_under_way: f64,
    pub verdict_leak_under_way: f64,
    /// A change after which the symptoms stayed healthy this many minutes (a failure that
    /// shows at once) is doubted: its score is multiplied by `verdict_healthy_after`.
    pub healthy_after_change_minutes: i64,
    pub verdict_healthy_after: f64,
    /// Below this confidence Sentinel proposes nothing destructive and escalates to a human.
    pub min_action_confidence: f64,

    // ---- version split (engine/versions.rs) ----
    /// Least error lines on a side of the split for it to say anything.
    pub version_min_lines: usize,
    /// Share of the error lines on instances without the change that clears it.
    pub version_old_share_clears: f64,
    /// A version-split error series is bad when its peak after the change reaches this and
    /// three times its baseline.
    pub version_bad_floor: f64,
    /// The share of error lines old-version instances may log, all after the new version's
    /// first error (peers of a crashing instance fail their calls to it), while the split still
    /// points at the new version.
    pub version_old_share_follows: f64,
    /// Score factor for a dependency's change that altered what the origin cannot read.
    pub contract_factor: f64,
    /// Score factor for a change on the origin after which its memory began a steady climb
    /// to the failure (within `leak_start_window_minutes`).
    pub leak_start_factor: f64,
    pub leak_start_window_minutes: f64,
    /// A partial rollout reaching `r` of the traffic cannot explain a failing share above
    /// `reach_excess_factor * r + reach_slack`.
    pub reach_excess_factor: f64,
    pub reach_slack: f64,
    /// Score factor for a change cleared by the split (instances without it fail too).
    pub version_clears_factor: f64,
    /// Score factor for a change the split confirms (errors only where it runs).
    pub version_confirms_factor: f64,
    /// Words a new kind of line, begun right after a change, must share with it to be its
    /// precursor.
    pub precursor_min_terms: usize,

    // ---- onset alignment (engine/trend.rs change points) ----
    /// A symptom series has changed when it is off its baseline by this many times its
    /// baseline noise (robust: 1.4826 × MAD) …
    pub change_point_noise_multiple: f64,
    /// … and by at least this share of the baseline.
    pub change_point_min_relative: f64,
    /// A change on the origin whose symptoms' change point follows within this many minutes
    /// is aligned with the onset: evidence for it.
    pub onset_alignment_minutes: f64,
    /// A suspect change is set aside when an explanation without a change (a dependency, the
    /// platform, an expiry) outscores it by this much.
    pub hypothesis_margin: f64,
    /// When the alert's own metric turned more than this many minutes after the first error
    /// line, the failure the alert is about began at the metric's change point.
    pub alert_onset_lead_minutes: i64,
    /// Calls to at least this many unrelated parties failing the same way at once make the
    /// caller the common factor (engine/fanout.rs): its trust store, its network.
    pub common_factor_min_parties: usize,
    /// A change that touched only one of several unrelated dependencies failing together
    /// cannot explain the others: its score is multiplied by this.
    pub one_party_factor: f64,
    /// A change after which the symptoms stayed healthy, superseded by a later change they
    /// turned right after: its score is multiplied by this.
    pub superseded_factor: f64,
    /// When the failing lines carry an exact identifier one change names, the score of every
    /// change that does not is multiplied by this.
    pub id_elsewhere_factor: f64,
    /// A change on the origin while its datastore failed over on its own first: its score is
    /// multiplied by this.
    pub inherited_factor: f64,
}

impl Params {
    pub const DEFAULT: Params = Params {
        duplicate_similarity: 0.85,
        family_min_score: 0.5,
        family_weight_specific: 1.5,
        family_weight_resource: 1.2,
        family_weight_code: 1.0,
        family_weight_crash_loop: 0.9,
        family_weight_upstream: 0.7,
        family_weight_load: 0.5,
        tau_slow_minutes: 360.0,
        tau_fast_minutes: 90.0,
        landed_after_tolerance_minutes: 1.0,
        broke_after_window_minutes: 15.0,
        burst_errors: 3,
        scope_origin: 1.0,
        scope_tied: 0.6,
        scope_related: 0.35,
        scope_other: 0.08,
        shared_terms_full: 3.0,
        content_terms_weight: 0.75,
        content_family_weight: 0.25,
        origin_proximity_minutes: 10.0,
        terse_window_minutes: 30.0,
        terse_content: 0.5,
        reasoned_content: 0.75,
        content_floor: 0.3,
        unexplained_factor: 0.5,
        culprit_min_score: 0.4,
        culprit_min_margin: 0.08,
        confidence_no_logs: 0.1,
        confidence_culprit_base: 0.35,
        confidence_score_weight: 0.5,
        confidence_margin_weight: 0.3,
        confidence_family_base: 0.3,
        confidence_per_strength: 0.08,
        confidence_strength_cap: 6.0,
        confidence_floor: 0.05,
        confidence_surge: 0.6,
        confidence_expiry: 0.6,
        confidence_ceiling: 0.97,
        surge_factor: 1.8,
        verdict_already_under_way: 0.3,
        verdict_leak_under_way: 0.15,
        healthy_after_change_minutes: 15,
        verdict_healthy_after: 0.5,
        min_action_confidence: 0.45,
        version_min_lines: 2,
        version_old_share_clears: 0.25,
        version_bad_floor: 0.02,
        version_old_share_follows: 0.2,
        contract_factor: 1.5,
        leak_start_factor: 2.0,
        leak_start_window_minutes: 60.0,
        reach_excess_factor: 2.0,
        reach_slack: 0.05,
        version_clears_factor: 0.1,
        version_confirms_factor: 1.5,
        precursor_min_terms: 2,
        change_point_noise_multiple: 6.0,
        change_point_min_relative: 0.02,
        onset_alignment_minutes: 5.0,
        hypothesis_margin: 0.2,
        alert_onset_lead_minutes: 10,
        common_factor_min_parties: 2,
        one_party_factor: 0.5,
        superseded_factor: 0.4,
        id_elsewhere_factor: 0.6,
        inherited_factor: 0.3,
    };
}

impl Default for Params {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The parameters the engine runs with.
pub const P: Params = Params::DEFAULT;
