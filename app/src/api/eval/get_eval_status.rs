use crate::model::EvalStatus;
use leptos::prelude::*;

/// The suites the server can evaluate and the evaluation it runs or ran last (the eval
/// page polls this while one runs).
#[server(endpoint = "get_eval_status")]
pub async fn get_eval_status() -> Result<EvalStatus, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend.eval_status().await.map_err(crate::backend::to_sfn)
}
