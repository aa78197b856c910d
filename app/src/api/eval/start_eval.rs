use crate::model::EvalProgress;
use leptos::prelude::*;

/// Starts an evaluation of the named configured suites (empty: all) on the server; answers
/// at once with its progress. Needs an operator's session (it runs agents on every scenario).
#[server(endpoint = "start_eval")]
pub async fn start_eval(suites: Vec<String>) -> Result<EvalProgress, ServerFnError> {
    let backend = crate::backend::backend()?;
    let creds = crate::api::session::credentials().await;
    backend
        .start_eval(suites, creds)
        .await
        .map_err(crate::backend::to_sfn)
}
