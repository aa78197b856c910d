//! The agents and the runner that drives them. Each specialist (triage, log analyst, deploy
//! correlator, remediation, comms) is a [`policy::Policy`]: given its brief and the results of
//! the tool calls it asked for, it asks for more calls or concludes. The built-in engine and an
//! LLM are two implementations of the same trait, so the runner enforces the same tool-call
//! cap, approval gate, events and trajectory whichever brain is used.

pub mod builtin;
mod calls;
pub mod conclusions;
pub mod delayed;
pub mod events;
pub mod llm_policy;
mod persist;
pub mod policy;
pub mod roles;
pub mod runner;
pub mod safety;
pub mod state;

pub use events::EventSink;
pub use persist::build_report;
pub use runner::{RunOutcome, Runner};
