//! A deploy or change as the changes list shows it (what CI/CD posted to `/webhooks/change`,
//! GitHub or Argo CD).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub id: String,
    pub service: String,
    /// `deploy`, `feature_flag`, `config`, `infra`, `dependency`.
    pub kind: String,
    pub ts: DateTime<Utc>,
    pub author: String,
    pub description: String,
    pub commit: Option<String>,
    pub version: Option<String>,
}
