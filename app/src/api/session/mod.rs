//! Who is looking: whether the browser holds an operator session.

mod session_status;
pub use session_status::*;
