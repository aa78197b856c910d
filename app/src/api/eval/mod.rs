//! Evaluation server functions: the stored runs, and starting and watching one.

mod get_eval_history;
mod get_eval_status;
mod start_eval;
pub use get_eval_history::*;
pub use get_eval_status::*;
pub use start_eval::*;
