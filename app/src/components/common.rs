//! Small shared pieces: badges and formatting.

use crate::model::*;
use leptos::prelude::*;

#[component]
pub fn StatusBadge(status: IncidentStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str()) data-testid="status-badge">{status.as_str().replace('_', " ")}</span> }
}

#[component]
pub fn SeverityBadge(severity: Option<Priority>) -> impl IntoView {
    let text = severity.map(|p| p.as_str()).unwrap_or("—");
    view! { <span class=format!("badge sev-{}", text.to_lowercase())>{text}</span> }
}

/// "1m 05s", "350 ms".
pub fn fmt_duration_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        let s = (ms / 1000.0) as u64;
        format!("{}m {:02}s", s / 60, s % 60)
    }
}

pub fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Pretty JSON, cut to `max` characters.
pub fn pretty(v: &serde_json::Value, max: usize) -> String {
    let s = serde_json::to_string_pretty(v).unwrap_or_default();
    if s.chars().count() > max {
        format!(
            "{}\n… ({} more characters)",
            s.chars().take(max).collect::<String>(),
            s.chars().count() - max
        )
    } else {
        s
    }
}
