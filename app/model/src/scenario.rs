//! What the dashboard knows of a scenario: enough to pick one, never its ground truth.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    pub id: String,
    pub failure_class: String,
    pub service: String,
    pub metric: String,
    pub alert_severity: String,
}
