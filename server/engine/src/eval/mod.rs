//! Trajectory evaluation: runs scenarios end to end (auto-approving, each in its own
//! database), scores every trajectory on six dimensions against the scenario's ground truth
//! ([`judge`]), and writes `eval_report.json`, `eval_report.md` and the trajectories
//! ([`report`]). This is the only module that reads ground truth.

pub mod job;
pub mod judge;
pub mod llm_judge;
pub mod report;
pub mod runner;

pub use runner::{EvalArgs, check_suite_name, parse_suite, run_cli};
