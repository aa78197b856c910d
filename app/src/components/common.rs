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

// Times are formatted by hand rather than with chrono's `format`: its strftime machinery
// would otherwise be compiled into the browser's WebAssembly for three fixed layouts.

/// "2026-03-24 21:47:42 UTC".
pub fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Datelike;
    format!(
        "{:04}-{:02}-{:02} {} UTC",
        t.year(),
        t.month(),
        t.day(),
        fmt_clock(t)
    )
}

/// "21:47:42".
pub fn fmt_clock(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// "21:47:42.035".
pub fn fmt_clock_ms(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}.{:03}", fmt_clock(t), t.timestamp_subsec_millis() % 1000)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_chronos_layouts() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:07.089Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(fmt_time(t), t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
        assert_eq!(fmt_clock(t), t.format("%H:%M:%S").to_string());
        assert_eq!(fmt_clock_ms(t), t.format("%H:%M:%S%.3f").to_string());
    }
}
