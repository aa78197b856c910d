//! Logs from files (`[logs] kind = "files"`): globs of JSON-lines or text files. Each line is
//! read in the format it is in — JSON (`ts|time|timestamp|@timestamp`, `level|severity|lvl`,
//! `msg|message`, `service`), logfmt, klog (`E1201 10:00:00.123 …] msg`), nginx/envoy access
//! logs (the status code gives the level) or plain text with a leading timestamp and level;
//! continuation lines (stack traces) join the line they belong to. The service comes from a
//! field, else the file name. Only the tail of a large file is read ([`TAIL_BYTES`]).

use super::{LogEntry, LogLevel, LogQuery, LogSource, TelemetryError};
use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};

/// The zone of timestamps that carry no offset (`2026-12-01 10:00:00`, klog lines).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    Fixed(chrono::FixedOffset),
    Named(chrono_tz::Tz),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("zero offset"))
    }
}

impl Zone {
    /// `UTC`, `Z`, `+02:00`, `-0530`, or an IANA name such as `Europe/Berlin`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let r = raw.trim();
        if r.eq_ignore_ascii_case("utc") || r == "Z" {
            return Ok(Zone::default());
        }
        if let Some(sign) = r.chars().next().filter(|c| *c == '+' || *c == '-') {
            let digits: String = r[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let ok = digits.len() == 4 && r[1..].chars().all(|c| c.is_ascii_digit() || c == ':');
            let (h, m) = if ok {
                (
                    digits[..2].parse::<i32>().unwrap_or(99),
                    digits[2..].parse::<i32>().unwrap_or(99),
                )
            } else {
                (99, 99)
            };
            let secs = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
            return (h <= 14 && m < 60)
                .then(|| chrono::FixedOffset::east_opt(secs))
                .flatten()
                .map(Zone::Fixed)
                .ok_or_else(|| format!("{raw:?} is not an offset like +02:00"));
        }
        r.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!("{raw:?} is not a time zone (UTC, +02:00 or an IANA name like Europe/Berlin)")
        })
    }

    /// A local time in this zone as UTC (the earlier instant when a clock change repeats it).
    pub fn to_utc(&self, n: &NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Fixed(o) => o
                .from_local_datetime(n)
                .earliest()
                .map(|t| t.with_timezone(&Utc)),
            Zone::Named(z) => z
                .from_local_datetime(n)
                .earliest()
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

/// What a line needs besides itself: the year (klog has none) and the zone of naive times.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Clock {
    pub year: i32,
    pub zone: Zone,
}

impl Clock {
    pub fn utc(year: i32) -> Self {
        Clock {
            year,
            zone: Zone::default(),
        }
    }
}
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Most bytes read from the end of one file.
pub const TAIL_BYTES: u64 = 16 * 1024 * 1024;
/// Most lines one query returns (the newest).
pub const MAX_LINES: usize = 20_000;
/// Longest message kept (a joined stack trace is cut here).
const MAX_MESSAGE: usize = 2000;

pub struct FileLogs {
    pub patterns: Vec<String>,
    /// The zone of timestamps without an offset (`[logs] timezone`, default UTC).
    pub zone: Zone,
}

impl FileLogs {
    /// The files the patterns match now.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.patterns.iter().flat_map(|p| expand(p)).collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Expands a glob (`*` and `?` in any path component).
pub fn expand(pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let mut current: Vec<PathBuf> = vec![if path.is_absolute() {
        PathBuf::from("/")
    } else {
        PathBuf::from(".")
    }];
    for comp in path.components() {
        let part = comp.as_os_str().to_string_lossy().to_string();
        if matches!(comp, std::path::Component::RootDir) {
            continue;
        }
        let mut next = Vec::new();
        for base in &current {
            if part.contains('*') || part.contains('?') {
                if let Ok(rd) = std::fs::read_dir(base) {
                    for e in rd.flatten() {
                        let name = e.file_name().to_string_lossy().to_string();
                        if wildcard(&part, &name) {
                            next.push(base.join(name));
                        }
                    }
                }
            } else {
                let p = base.join(&part);
                if p.exists() {
                    next.push(p);
                }
            }
        }
        current = next;
    }
    current.into_iter().filter(|p| p.is_file()).collect()
}

/// `*` and `?` wildcard match.
pub fn wildcard(pat: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The service a file's lines belong to when they do not say: the file name up to its first
/// dot or a date-like suffix (`checkout.log`, `checkout-2026-12-01.log` → `checkout`).
pub fn service_of_file(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let parts: Vec<&str> = stem.split(['-', '_']).collect();
    let keep: Vec<&str> = parts
        .iter()
        .take_while(|p| !(p.len() >= 4 && p.chars().all(|c| c.is_ascii_digit())))
        .copied()
        .collect();
    let s = keep.join("-");
    if s.is_empty() { stem.to_string() } else { s }
}

/// The last [`TAIL_BYTES`] of a file, from the first whole line.
fn tail(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((len - start) as usize);
    f.take(TAIL_BYTES).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    Ok(if start > 0 {
        text.split_once('\n')
            .map(|(_, r)| r.to_string())
            .unwrap_or_default()
    } else {
        text
    })
}

/// One parsed line: time, level, service (if the line names one), message.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub ts: DateTime<Utc>,
    pub level: LogLevel,
    pub service: Option<String>,
    pub message: String,
    pub trace_id: Option<String>,
}

/// Parses one line in whichever known format it is; `None` for a continuation line.
pub fn parse_line(line: &str, clock: Clock) -> Option<Parsed> {
    let t = line.trim();
    if t.is_empty() {
        return None;
    }
    if t.starts_with('{')
        && let Some(p) = parse_json(t, clock.zone)
    {
        return Some(p);
    }
    if let Some(p) = parse_klog(t, clock) {
        return Some(p);
    }
    if let Some(p) = parse_access(t, clock.zone) {
        return Some(p);
    }
    if let Some(p) = parse_logfmt(t, clock.zone) {
        return Some(p);
    }
    parse_text(t, clock.zone)
}

fn level_of(raw: &str) -> Option<LogLevel> {
    LogLevel::parse(raw.trim_matches(|c: char| !c.is_ascii_alphabetic()))
}

/// RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]` (UTC), or epoch seconds/milliseconds.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    parse_time_in(raw, Zone::default())
}

/// As [`parse_time`], reading times without an offset in `zone`.
pub fn parse_time_in(raw: &str, zone: Zone) -> Option<DateTime<Utc>> {
    let r = raw.trim().trim_matches('"');
    if let Ok(t) = DateTime::parse_from_rfc3339(r) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S,%3f",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(r, f) {
            return zone.to_utc(&n);
        }
    }
    if let Ok(n) = r.parse::<f64>() {
        let ms = if n > 1e12 { n } else { n * 1000.0 };
        return DateTime::from_timestamp_millis(ms as i64);
    }
    None
}

fn parse_json(t: &str, zone: Zone) -> Option<Parsed> {
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    let o = v.as_object()?;
    let get = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| match o.get(*k)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Object(inner) => {
                inner.get("name").and_then(|x| x.as_str()).map(String::from)
            }
            _ => None,
        })
    };
    let ts = parse_time_in(&get(&["ts", "time", "timestamp", "@timestamp", "t"])?, zone)?;
    let level = get(&["level", "severity", "lvl", "log.level", "loglevel"])
        .and_then(|l| level_of(&l))
        .unwrap_or(LogLevel::INFO);
    let mut message = get(&["msg", "message", "log", "event"]).unwrap_or_default();
    for k in ["error", "err", "exception", "stack_trace", "stacktrace"] {
        if let Some(e) = o.get(k).and_then(|x| x.as_str())
            && !message.contains(e)
        {
            message = format!("{message}: {e}");
        }
    }
    Some(Parsed {
        ts,
        level,
        service: get(&[
            "service",
            "service.name",
            "app",
            "application",
            "logger_service",
        ]),
        message,
        trace_id: get(&["trace_id", "traceId", "trace.id"]),
    })
}

/// `key=value key2="quoted value"` pairs.
pub fn logfmt_pairs(t: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == ' ' {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != '=' && b[i] != ' ' {
            i += 1;
        }
        if i >= b.len() || b[i] != '=' {
            // A bare word: not logfmt.
            while i < b.len() && b[i] != ' ' {
                i += 1;
            }
            continue;
        }
        let key: String = b[ks..i].iter().collect();
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' && i + 1 < b.len() {
                    i += 1;
                }
                val.push(b[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < b.len() && b[i] != ' ' {
                val.push(b[i]);
                i += 1;
            }
        }
        if !key.is_empty() {
            out.push((key, val));
        }
    }
    out
}

fn parse_logfmt(t: &str, zone: Zone) -> Option<Parsed> {
    let pairs = logfmt_pairs(t);
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.clone()))
    };
    let ts = parse_time_in(&get(&["ts", "time", "timestamp", "t"])?, zone)?;
    let mut message = get(&["msg", "message"]).unwrap_or_default();
    if let Some(e) = get(&["err", "error"]) {
        message = format!("{message}: {e}");
    }
    Some(Parsed {
        ts,
        level: get(&["level", "lvl", "severity"])
            .and_then(|l| level_of(&l))
            .unwrap_or(LogLevel::INFO),
        service: get(&["service", "app", "component"]),
        message,
        trace_id: get(&["trace_id", "traceID"]),
    })
}

/// `E1201 10:00:00.123456    1234 file.go:12] message`.
fn parse_klog(t: &str, clock: Clock) -> Option<Parsed> {
    let year = clock.year;
    let mut chars = t.chars();
    let sev = chars.next()?;
    let level = match sev {
        'I' => LogLevel::INFO,
        'W' => LogLevel::WARNING,
        'E' => LogLevel::ERROR,
        'F' => LogLevel::CRITICAL,
        _ => return None,
    };
    let rest = &t[1..];
    let (date, rest) = rest.split_once(' ')?;
    if date.len() != 4 || !date.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim_start();
    let (time, rest) = rest.split_once(' ')?;
    let (_, msg) = rest.split_once("] ")?;
    let n = NaiveDateTime::parse_from_str(&format!("{year}{date} {time}"), "%Y%m%d %H:%M:%S%.f")
        .ok()?;
    Some(Parsed {
        ts: clock.zone.to_utc(&n)?,
        level,
        service: None,
        message: msg.to_string(),
        trace_id: None,
    })
}

/// nginx/envoy combined access log: `ip - user [01/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 502 …`,
/// and envoy's `[2026-12-01T10:00:00.000Z] "GET /x HTTP/1.1" 503 UF …`.
fn parse_access(t: &str, zone: Zone) -> Option<Parsed> {
    let open = t.find('[')?;
    let close = t[open..].find(']')? + open;
    let stamp = &t[open + 1..close];
    let ts = DateTime::parse_from_str(stamp, "%d/%b/%Y:%H:%M:%S %z")
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| parse_time_in(stamp, zone))?;
    let after = t[close + 1..].trim_start();
    let rq = after.strip_prefix('"')?;
    let end = rq.find('"')?;
    let request = &rq[..end];
    let status: u16 = rq[end + 1..].split_whitespace().next()?.parse().ok()?;
    let level = match status {
        500.. => LogLevel::ERROR,
        400..=499 => LogLevel::WARNING,
        _ => LogLevel::INFO,
    };
    Some(Parsed {
        ts,
        level,
        service: None,
        message: format!("{request} {status} {}", rq[end + 1..].trim()),
        trace_id: None,
    })
}

/// `2026-12-01T10:00:00Z ERROR message` / `2026-12-01 10:00:00,123 [ERROR] message`.
fn parse_text(t: &str, zone: Zone) -> Option<Parsed> {
    let mut words = t.splitn(4, ' ');
    let w1 = words.next()?;
    let (ts, rest) = if let Some(ts) = parse_time_in(w1, zone) {
        (ts, t[w1.len()..].trim_start())
    } else {
        let w2 = words.next()?;
        let ts = parse_time_in(&format!("{w1} {w2}"), zone)?;
        (ts, t[w1.len() + 1 + w2.len()..].trim_start())
    };
    let (first, msg) = rest.split_once(' ').unwrap_or((rest, ""));
    let (level, message) = match level_of(first) {
        Some(l) if !first.is_empty() => (l, msg.trim_start().trim_start_matches([':', '-', ' '])),
        _ => (LogLevel::INFO, rest),
    };
    Some(Parsed {
        ts,
        level,
        service: None,
        message: message.to_string(),
        trace_id: None,
    })
}

/// Parses a whole file's text into entries (continuation lines joined to their entry).
pub fn parse_text_file(text: &str, file_service: &str, clock: Clock) -> Vec<LogEntry> {
    let mut out: Vec<LogEntry> = Vec::new();
    for line in text.lines() {
        match parse_line(line, clock) {
            Some(p) => out.push(LogEntry {
                ts: p.ts,
                level: p.level,
                service: p.service.unwrap_or_else(|| file_service.to_string()),
                message: p.message.chars().take(MAX_MESSAGE).collect(),
                trace_id: p.trace_id,
            }),
            None => {
                let cont = line.trim();
                if let Some(last) = out.last_mut()
                    && !cont.is_empty()
                    && last.message.len() < MAX_MESSAGE
                {
                    last.message.push_str(" | ");
                    last.message.push_str(cont);
                    last.message = last.message.chars().take(MAX_MESSAGE).collect();
                }
            }
        }
    }
    out
}

#[async_trait::async_trait]
impl LogSource for FileLogs {
    async fn logs(&self, q: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError> {
        let files = self.files();
        if files.is_empty() {
            return Err(TelemetryError::Backend(format!(
                "no log file matches {}",
                self.patterns.join(", ")
            )));
        }
        let q = q.clone();
        let zone = self.zone;
        tokio::task::spawn_blocking(move || {
            // klog lines carry no year: they are read in the year the window ends.
            let clock = Clock {
                year: q.until.unwrap_or_else(Utc::now).year(),
                zone,
            };
            let mut all = Vec::new();
            for f in files {
                let svc = service_of_file(&f);
                let Ok(text) = tail(&f) else { continue };
                all.extend(parse_text_file(&text, &svc, clock).into_iter().filter(|l| {
                    q.service
                        .as_ref()
                        .is_none_or(|s| l.service.eq_ignore_ascii_case(s))
                        && q.since.is_none_or(|t| l.ts >= t)
                        && q.until.is_none_or(|t| l.ts <= t)
                        && q.min_level.is_none_or(|m| l.level >= m)
                        && q.keyword
                            .as_ref()
                            .is_none_or(|k| l.message.to_lowercase().contains(&k.to_lowercase()))
                }));
            }
            all.sort_by_key(|l| l.ts);
            let n = all.len();
            all.drain(..n.saturating_sub(MAX_LINES));
            all
        })
        .await
        .map_err(|e| TelemetryError::Backend(format!("reading log files: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_formats_people_have_parse() {
        let j = parse_line(r#"{"@timestamp":"2026-12-01T10:00:00Z","severity":"error","message":"pool exhausted","service":"checkout","trace_id":"ab"}"#, Clock::utc(2026)).unwrap();
        assert_eq!(
            (j.level, j.service.as_deref(), j.message.as_str()),
            (LogLevel::ERROR, Some("checkout"), "pool exhausted")
        );
        assert_eq!(j.ts, t("2026-12-01T10:00:00Z"));
        let l = parse_line(r#"ts=2026-12-01T10:00:01Z level=warn msg="retrying call" err="context deadline exceeded" service=gw"#, Clock::utc(2026)).unwrap();
        assert_eq!(l.level, LogLevel::WARNING);
        assert_eq!(l.message, "retrying call: context deadline exceeded");
        assert_eq!(l.service.as_deref(), Some("gw"));
        let k = parse_line(
            "E1201 10:00:02.123456    4321 reconciler.go:88] failed to sync: connection refused",
            Clock::utc(2026),
        )
        .unwrap();
        assert_eq!(k.level, LogLevel::ERROR);
        assert_eq!(k.ts, t("2026-12-01T10:00:02.123456Z"));
        assert_eq!(k.message, "failed to sync: connection refused");
        let a = parse_line(
            r#"10.0.0.1 - - [01/Dec/2026:10:00:03 +0000] "GET /pay HTTP/1.1" 502 157 "-" "curl/8""#,
            Clock::utc(2026),
        )
        .unwrap();
        assert_eq!(a.level, LogLevel::ERROR);
        assert!(a.message.starts_with("GET /pay HTTP/1.1 502"));
        let e = parse_line(
            r#"[2026-12-01T10:00:04.000Z] "POST /v1/charge HTTP/1.1" 503 UF 0 91 3001 - "-""#,
            Clock::utc(2026),
        )
        .unwrap();
        assert_eq!(e.level, LogLevel::ERROR);
        let p = parse_line(
            "2026-12-01 10:00:05,120 [ERROR] NullPointerException in CartService",
            Clock::utc(2026),
        )
        .unwrap();
        assert_eq!(p.level, LogLevel::ERROR);
        assert_eq!(p.message, "NullPointerException in CartService");
        assert_eq!(p.ts, t("2026-12-01T10:00:05.120Z"));
        assert!(parse_line("    at com.shop.Cart.total(Cart.java:42)", Clock::utc(2026)).is_none());
    }

    #[test]
    fn stack_traces_join_their_line_and_files_name_the_service() {
        let text = "2026-12-01T10:00:00Z ERROR unhandled exception\n    at a.b(C.java:1)\nCaused by: java.io.IOException\n2026-12-01T10:00:01Z INFO ok\n";
        let e = parse_text_file(text, "cart", Clock::utc(2026));
        assert_eq!(e.len(), 2);
        assert!(
            e[0].message.contains("Caused by: java.io.IOException"),
            "{}",
            e[0].message
        );
        assert_eq!(e[0].service, "cart");
        assert_eq!(
            service_of_file(Path::new("/var/log/checkout-2026-12-01.log")),
            "checkout"
        );
        assert_eq!(
            service_of_file(Path::new("payment-service.jsonl")),
            "payment-service"
        );
        assert!(
            wildcard("*.log", "a.log")
                && !wildcard("*.log", "a.txt")
                && wildcard("ap?-*", "api-gw")
        );
    }

    #[tokio::test]
    async fn files_are_globbed_filtered_and_tailed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("checkout.log"),
            "2026-12-01T10:00:00Z ERROR boom\n2026-12-01T11:00:00Z INFO fine\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("notes.txt"),
            "2026-12-01T10:00:00Z ERROR other\n",
        )
        .unwrap();
        let src = FileLogs {
            zone: Zone::default(),
            patterns: vec![format!("{}/*.log", dir.path().display())],
        };
        let all = src.logs(&LogQuery::default()).await.unwrap();
        assert_eq!(all.len(), 2);
        let errors = src
            .logs(&LogQuery {
                min_level: Some(LogLevel::ERROR),
                service: Some("Checkout".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "boom");
        let none = FileLogs {
            zone: Zone::default(),
            patterns: vec![format!("{}/*.nope", dir.path().display())],
        };
        assert!(none.logs(&LogQuery::default()).await.is_err());
    }

    #[test]
    fn times_without_an_offset_are_read_in_the_configured_zone() {
        let berlin = Clock {
            year: 2026,
            zone: Zone::parse("Europe/Berlin").unwrap(),
        };
        // Winter: UTC+1.
        let l = parse_line("2026-12-01 10:00:00,123 ERROR pool exhausted", berlin).unwrap();
        assert_eq!(l.ts, t("2026-12-01T09:00:00.123Z"));
        // Summer: UTC+2, the same setting.
        let l = parse_line("2026-07-01 10:00:00 ERROR pool exhausted", berlin).unwrap();
        assert_eq!(l.ts, t("2026-07-01T08:00:00Z"));
        let fixed = Clock {
            year: 2026,
            zone: Zone::parse("-05:30").unwrap(),
        };
        let k = parse_line("E1201 10:00:00.000000 1 x.go:1] boom", fixed).unwrap();
        assert_eq!(k.ts, t("2026-12-01T15:30:00Z"));
        // An explicit offset in the line always wins.
        let j = parse_line(
            r#"{"ts":"2026-12-01T10:00:00Z","level":"error","msg":"x"}"#,
            berlin,
        )
        .unwrap();
        assert_eq!(j.ts, t("2026-12-01T10:00:00Z"));
    }

    #[test]
    fn zones_are_checked() {
        assert_eq!(Zone::parse("UTC").unwrap(), Zone::default());
        assert!(Zone::parse("+02:00").is_ok());
        assert!(Zone::parse("+0200").is_ok());
        assert!(Zone::parse("+25:00").unwrap_err().contains("offset"));
        assert!(Zone::parse("Mars/Olympus").unwrap_err().contains("IANA"));
    }
}
