//! What each specialist concludes. These are the handoff documents between agents.

use crate::engine::blame::Upstream;
use crate::engine::signals::{self, Family};
use crate::telemetry::LogLevel;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Dominant evidence family (pool, memory, upstream, crash_loop, certificate, dns, code_error, slow_query, load).
    pub family: Option<String>,
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
}

impl LogFindings {
    /// The dominant family, parsed (`None` if absent or not one the engine knows).
    pub fn family(&self) -> Option<Family> {
        let name = self.family.as_deref()?;
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }

    /// The signature that carries the dominant family, else the most frequent one.
    pub fn telling_signature(&self) -> Option<&SignatureBrief> {
        signals::telling(&self.signatures, self.family(), |s| &s.example)
    }

    /// Whether the evidence shows `family`: it is the dominant family with some strength, or
    /// one of the reported signatures belongs to it.
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
    /// "deploy", "feature_flag", "config", … of the suspect, if any.
    pub culprit_kind: Option<String>,
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
}

/// The remediation agent's plan (before the human decision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RemediationPlan {
    /// rollback | hotfix | scale | restart | disable_flag | escalate
    pub action: String,
    pub target: Option<String>,
    pub rationale: String,
    pub risk: String,
    pub draft_id: Option<String>,
    pub draft: Option<String>,
}
