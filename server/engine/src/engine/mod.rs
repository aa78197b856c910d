//! The built-in offline analysis engine: the analyzers behind the `builtin/…` model. They work
//! on what tools return (log lines, deploys, changes, metrics, the dependency graph), never on
//! scenario files, ids or ground truth, so they solve incidents they have never seen.
//!
//! - [`templates`]: log template mining (group messages by shape, count signatures).
//! - [`signals`]: failure-class recognition from evidence.
//! - [`blame`]: which service is the origin, following the dependency graph upstream.
//! - [`correlate`]: deploy/change correlation by timing, service and scope.
//! - [`trend`]: when the metrics say the trouble began (leaks under way, traffic surges).
//! - [`breadth`]: errors from values of a field a change never touched clear it.
//! - [`versions`]: the version split (errors only where a change runs, or also where it does not).
//! - [`decide`]: severity, action and confidence.
//! - [`params`]: every weight and threshold; [`lexicon`]: every phrase list.

pub mod blame;
pub mod breadth;
pub mod correlate;
pub mod decide;
pub mod fanout;
pub mod lexicon;
pub mod params;
pub mod signals;
pub mod templates;
pub mod text;
pub mod trend;
pub mod versions;
