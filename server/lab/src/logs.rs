//! Log lines as the fleet's stacks write them: logback text with Java stack traces
//! (`java`), structlog-style JSON lines with Python tracebacks (`python`), JSON lines from
//! Node (`typescript`) and logfmt (`go`). One file per service (`<service>.log`), so the file
//! name names the service, with background noise between the lines that matter.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn upper(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
    fn lower(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

/// One line (a stack trace joins it on following lines), for `language`.
pub struct Line<'a> {
    pub ts: DateTime<Utc>,
    pub level: Level,
    pub logger: &'a str,
    pub msg: &'a str,
    pub pod: &'a str,
    pub version: &'a str,
    /// An exception: its first line and frames (`"java.lang.X: m", ["at a.b(C.java:1)"]`).
    pub exception: Option<(&'a str, &'a [&'a str])>,
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

pub fn format(language: &str, l: &Line<'_>) -> String {
    let ts_iso = l.ts.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    match language {
        "java" => {
            let mut out = format!(
                "{} {:<5} [{}] {} - {} pod={} version={}",
                l.ts.format("%Y-%m-%d %H:%M:%S%.3f"),
                l.level.upper(),
                if l.level == Level::Info {
                    "main"
                } else {
                    "http-nio-8443-exec-7"
                },
                l.logger,
                l.msg,
                l.pod,
                l.version
            );
            if let Some((head, frames)) = l.exception {
                out.push('\n');
                out.push_str(head);
                for f in frames {
                    out.push_str("\n\tat ");
                    out.push_str(f);
                }
            }
            out
        }
        "go" => {
            let mut out = format!(
                "ts={ts_iso} level={} logger={} msg={} pod={} version={}",
                l.level.lower(),
                l.logger,
                json_str(l.msg),
                l.pod,
                l.version
            );
            if let Some((head, _)) = l.exception {
                out.push_str(&format!(" err={}", json_str(head)));
            }
            out
        }
        // python (structlog) and typescript (JSON lines): one JSON object per line.
        _ => {
            let mut obj = serde_json::json!({
                "ts": ts_iso,
                "level": l.level.lower(),
                "msg": l.msg,
                "logger": l.logger,
                "pod": l.pod,
                "version": l.version,
            });
            if let Some((head, frames)) = l.exception {
                let trace = if language == "python" {
                    let mut t = String::from("Traceback (most recent call last):\n");
                    for f in frames {
                        t.push_str("  ");
                        t.push_str(f);
                        t.push('\n');
                    }
                    t.push_str(head);
                    t
                } else {
                    let mut t = head.to_string();
                    for f in frames {
                        t.push_str("\n    at ");
                        t.push_str(f);
                    }
                    t
                };
                obj["exc_info"] = serde_json::Value::String(trace);
            }
            obj.to_string()
        }
    }
}

/// Background lines every service writes, by logger.
pub const NOISE: &[(&str, &str)] = &[
    ("http.access", "request completed"),
    ("cache", "cache refresh finished"),
    ("scheduler", "periodic job ran"),
    ("health", "readiness probe ok"),
    ("config", "configuration unchanged after reload check"),
];

/// Occasional warnings that mean nothing.
pub const NOISE_WARN: &[(&str, &str)] = &[
    (
        "http.client",
        "slow response from a dependency (812 ms), within budget",
    ),
    ("gc", "GC pause 120 ms"),
    ("auth", "token near expiry refreshed early"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stack_writes_its_own_format_with_the_trace_attached() {
        let ts = DateTime::parse_from_rfc3339("2026-12-04T10:00:01.250Z")
            .unwrap()
            .with_timezone(&Utc);
        let frames = ["com.acme.Pay.rate(Pay.java:41)"];
        let l = Line {
            ts,
            level: Level::Error,
            logger: "c.a.payments.Rules",
            msg: "authorization failed",
            pod: "payment-service-1",
            version: "v2.1.0",
            exception: Some(("java.lang.NullPointerException: rule is null", &frames)),
        };
        let java = format("java", &l);
        assert!(java.starts_with("2026-12-04 10:00:01.250 ERROR [http-nio-8443-exec-7] c.a.payments.Rules - authorization failed pod=payment-service-1 version=v2.1.0\njava.lang.NullPointerException"), "{java}");
        assert!(java.ends_with("\tat com.acme.Pay.rate(Pay.java:41)"));
        let py: serde_json::Value = serde_json::from_str(&format("python", &l)).unwrap();
        assert_eq!(py["level"], "error");
        assert_eq!(py["ts"], "2026-12-04T10:00:01.250Z");
        assert!(py["exc_info"].as_str().unwrap().starts_with("Traceback"));
        let go = format("go", &l);
        assert!(go.starts_with("ts=2026-12-04T10:00:01.250Z level=error logger=c.a.payments.Rules msg=\"authorization failed\""), "{go}");
        assert!(!go.contains('\n'));
    }
}
