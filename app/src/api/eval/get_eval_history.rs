use crate::model::EvalReport;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Evaluation runs, newest first (the newest is the one the page details).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalHistory {
    pub runs: Vec<EvalReport>,
}

#[server(endpoint = "get_eval_history")]
pub async fn get_eval_history() -> Result<EvalHistory, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend.eval_history().await.map_err(crate::backend::to_sfn)
}
