use crate::model::{IncidentDetail, RunEvent};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What a live dashboard starts from; SSE continues after `last_seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSnapshot {
    pub incident: Option<IncidentDetail>,
    pub events: Vec<RunEvent>,
    /// The newest event sequence number of any incident at snapshot time.
    pub last_seq: i64,
}

#[server(endpoint = "live_snapshot")]
pub async fn get_live_snapshot(pin: Option<String>) -> Result<LiveSnapshot, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .live_snapshot(pin)
        .await
        .map_err(crate::backend::to_sfn)
}
