//! What each specialist concludes. These are the handoff documents between agents.

use crate::engine::blame::Upstream;
use crate::engine::signals::{self, Family};
use crate::telemetry::LogLevel;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sentinel_model::{ApprovalOutcome, ChangeKind, RemediationAction, RemediationReport};
use serde::{Deserialize, Serialize};

/// What an agent concludes: the typed hand-off document of its role. On the wire (run
/// events, the checkpoint) it is the inner document, exactly as before.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Conclusion {
    Triage(sentinel_model::TriageReport),
    Logs(LogFindings),
    Correlation(CorrelationFindings),
    Plan(RemediationPlan),
    Comms(sentinel_model::CommsReport),
}

impl Conclusion {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// A mined error signature, as reported by the log analyst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SignatureBrief {
    pub template: String,
    pub example: String,
    pub count: usize,
    #[schemars(with = "String")]
    pub level: LogLevel,
    pub services: Vec<String>,
    #[schemars(with = "String")]
    pub first_seen: DateTime<Utc>,
}

/// The log analyst's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogFindings {
    /// The service where the failure originates (may differ from the alerting service).
    pub origin_service: String,
    pub origin_reason: String,
    /// Dominant evidence family (pool, memory, upstream, crash_loop, certificate, dns,
    /// code_error, slow_query, load, disk, platform); a name the engine does not know reads
    /// as none.
    #[serde(default, deserialize_with = "lenient_family")]
    #[schemars(with = "Option<String>")]
    pub family: Option<Family>,
    pub hypothesis: String,
    #[schemars(with = "Option<String>")]
    pub first_error_at: Option<DateTime<Utc>>,
    pub signatures: Vec<SignatureBrief>,
    /// Identifiers from the error messages (config keys, modules, libraries).
    pub error_terms: Vec<String>,
    /// External dependencies the errors point at.
    pub external_suspects: Vec<String>,
    /// Whether any logs could be read at all.
    pub logs_available: bool,
    #[serde(default)]
    #[schemars(skip)]
    pub upstream: Vec<Upstream>,
    /// Other services the origin's or the alerting service's errors name (a caller, a
    /// datastore): changes there are in scope.
    #[serde(default)]
    pub named_services: Vec<String>,
    /// When each service that logged errors logged its first one.
    #[serde(default)]
    #[schemars(skip)]
    pub failing_since: std::collections::BTreeMap<String, DateTime<Utc>>,
    /// Evidence lines for the diagnosis.
    pub evidence: Vec<String>,
    /// Strength of the dominant family's evidence (0 = none).
    #[serde(default)]
    pub family_strength: f64,
    /// Which versions each service's lines came from (the version split).
    #[serde(default)]
    #[schemars(skip)]
    pub versions: Vec<crate::engine::versions::VersionStat>,
    /// The categorical fields of the origin's error lines (template, route, queue …).
    #[serde(default)]
    #[schemars(skip)]
    pub error_fields: Vec<crate::engine::breadth::FieldSpread>,
    /// When each kind of warning/error line first appeared on the origin.
    #[serde(default)]
    #[schemars(skip)]
    pub onsets: Vec<crate::engine::correlate::LineOnset>,
    /// The unrelated remote parties (domains, cluster services, addresses) the origin's error
    /// lines of the dominant family name (engine/fanout.rs).
    #[serde(default)]
    pub failing_parties: Vec<String>,
    /// Exact identifiers (key ids, bundle and build versions, addresses) in the warning-or-worse
    /// lines of the failure (`text::identifiers`): a change naming one of them is linked to it.
    #[serde(default)]
    pub error_ids: Vec<String>,
    /// A direct dependency that failed over on its own (a leader lost, a demotion) before the
    /// origin's first error: (its name, when).
    #[serde(default)]
    #[schemars(skip)]
    pub failed_over: Option<(String, chrono::DateTime<chrono::Utc>)>,
    /// The services that call the alerting service (from the dependency graph).
    #[serde(default)]
    #[schemars(skip)]
    pub callers: Vec<String>,
    /// When the origin is a datastore that several services lost at once: those services
    /// (lowercase). A change on one of them is cleared by the others.
    #[serde(default)]
    #[schemars(skip)]
    pub lost_by: Vec<String>,
}

impl LogFindings {
    /// The dominant family (`None` if absent or not one the engine knows).
    pub fn family(&self) -> Option<Family> {
        self.family
    }

    /// The signature that carries the dominant family, else the most frequent one.
    pub fn telling_signature(&self) -> Option<&SignatureBrief> {
        signals::telling(&self.signatures, self.family(), |s| &s.example)
    }

    /// Whether the evidence shows `family`: it is the dominant family with some strength, or
    /// one of the reported signatures belongs to it.
    /// Whether an example line of its signatures contains one of `needles` (a lexicon list).
    pub fn mentions(&self, needles: &[&str]) -> bool {
        self.signatures
            .iter()
            .any(|s| crate::engine::text::contains_any(&s.example.to_lowercase(), needles))
    }

    pub fn shows(&self, family: Family) -> bool {
        if self.family() == Some(family) {
            self.family_strength > 0.0
        } else {
            self.signatures
                .iter()
                .any(|s| signals::families_of(&s.example).contains(&family))
        }
    }
}

/// The deploy correlator's findings: the diagnosis plus what was weighed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationFindings {
    pub diagnosis: sentinel_model::Diagnosis,
    /// deploy, feature_flag, config, … of the suspect, if any.
    pub culprit_kind: Option<ChangeKind>,
    pub culprit_description: Option<String>,
    pub rollback_unsafe: bool,
    pub candidates_considered: usize,
    /// Top candidates with scores and reasons.
    pub ranking: Vec<String>,
    /// Minutes between the culprit and the first error.
    #[serde(default)]
    pub culprit_minutes_before: Option<f64>,
    /// Whether the origin's metrics were read (then `traffic_growth` is what they showed).
    #[serde(default)]
    pub metrics_read: bool,
    /// Peak over baseline of the origin's offered load, when it surged.
    #[serde(default)]
    pub traffic_growth: Option<f64>,
    /// The dependency the origin's failing calls name, itself healthy (its symptom metrics at
    /// their baseline, no errors of its own): the origin's view of it is stale.
    #[serde(default)]
    pub healthy_dependency: Option<String>,
}

/// The remediation agent's plan (before the human decision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RemediationPlan {
    /// rollback | hotfix | scale | restart | disable_flag | escalate
    #[schemars(with = "String")]
    pub action: RemediationAction,
    pub target: Option<String>,
    pub rationale: String,
    pub risk: String,
    pub draft_id: Option<String>,
    pub draft: Option<String>,
}

impl RemediationPlan {
    /// The plan as the run's remediation, with the decision on it so far.
    pub fn report(
        &self,
        outcome: ApprovalOutcome,
        by: Option<&str>,
        comment: Option<&str>,
    ) -> RemediationReport {
        RemediationReport {
            action: self.action,
            target: self.target.clone(),
            approval: outcome,
            rationale: self.rationale.clone(),
            risk: self.risk.clone(),
            draft: self.draft.clone(),
            decided_by: by.map(String::from),
            decision_comment: comment.map(String::from).filter(|c| !c.is_empty()),
        }
    }
}

/// A family name, or none when it is missing, null or not one the engine knows (a model may
/// name a family of its own).
fn lenient_family<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Family>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    Ok(raw.and_then(|name| serde_json::from_value(serde_json::Value::String(name)).ok()))
}
