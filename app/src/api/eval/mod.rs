//! Evaluation server functions.

mod get_eval_history;
pub use get_eval_history::*;
