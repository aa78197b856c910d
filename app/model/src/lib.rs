//! Wire types shared by the server and the browser: what incidents, run events, approvals,
//! scenarios and evaluation reports look like on the wire. They are plain serde data with
//! validating `parse` constructors for everything that arrives from outside.

mod alert;
mod approval;
mod change;
mod event;
mod incident;
mod postmortem;
mod report;
mod role;
mod scenario;
mod settings;
mod trajectory;
mod vocab;

pub use alert::*;
pub use approval::*;
pub use change::*;
pub use event::*;
pub use incident::*;
pub use postmortem::postmortem;
pub use report::*;
pub use role::*;
pub use scenario::*;
pub use settings::*;
pub use trajectory::*;
pub use vocab::*;

/// A validation failure at the edge: which field was wrong and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
