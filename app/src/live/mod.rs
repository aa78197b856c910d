//! Live incident state for the dashboard: [`state::LiveState`] folds run events into what the
//! agent cards, feed, counters and approval overlay show (pure, shared by SSR and the browser),
//! and [`stream`] follows the server's SSE stream in the browser.

pub mod state;
pub mod stream;
