//! The human-approval gate's records.

use super::{FieldError, RemediationAction};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    pub approval_id: String,
    pub incident_id: String,
    pub action: RemediationAction,
    pub target: Option<String>,
    pub risk: String,
    pub evidence: Vec<String>,
    pub proposer: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    /// Exactly `approve` or `reject`: a decision that changes production is not guessed from
    /// a near miss (`" approve"`, `"APPROVED"`, `"approved"` are refused).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "approve" => Ok(Self::Approve),
            "reject" => Ok(Self::Reject),
            other => Err(FieldError::new(
                "decision",
                format!(
                    "{:?} is not \"approve\" or \"reject\"",
                    other.chars().take(40).collect::<String>()
                ),
            )),
        }
    }
}

/// A validated decision: a rejection must say why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalDecision {
    pub decision: Decision,
    pub comment: String,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

impl ApprovalDecision {
    pub fn parse(decision: &str, comment: &str, decided_by: &str) -> Result<Self, FieldError> {
        let decision = Decision::parse(decision)?;
        let comment = comment.trim();
        if decision == Decision::Reject && comment.is_empty() {
            return Err(FieldError::new(
                "comment",
                "a rejection needs a comment saying why",
            ));
        }
        if comment.len() > 4000 {
            return Err(FieldError::new("comment", "longer than 4000 characters"));
        }
        Ok(Self {
            decision,
            comment: comment.to_string(),
            decided_by: decided_by.to_string(),
            decided_at: Utc::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_exact_words() {
        assert_eq!(Decision::parse("approve").unwrap(), Decision::Approve);
        assert_eq!(Decision::parse("reject").unwrap(), Decision::Reject);
        for near_miss in [
            " approve", "APPROVED", "approved", "Approve", "reject ", "yes", "",
        ] {
            let e = Decision::parse(near_miss).unwrap_err();
            assert_eq!(e.field, "decision", "{near_miss:?}");
        }
        assert!(ApprovalDecision::parse("reject", " ", "bob").is_err());
    }
}
