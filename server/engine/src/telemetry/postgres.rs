//! Logs shipped into a PostgreSQL table (`[logs] kind = "postgres"`, `url`, `table`): rows of
//! (`ts` timestamptz, `level` text, `service` text, `message` text), read newest first within
//! the window (service, keyword and level filters in the query), at most [`MAX_LINES`]. The
//! table name is checked to be an identifier (`schema.table`); every value is a bind
//! parameter. The pool connects lazily with a timeout, so a database that is down is an
//! "unavailable" finding, never a start-up failure.

use super::{LogEntry, LogLevel, LogQuery, LogSource, TelemetryError};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

/// Most lines one query returns (the newest).
pub const MAX_LINES: i64 = 20_000;

pub struct PostgresLogs {
    pool: PgPool,
    table: String,
    timeout: Duration,
}

/// Whether `t` is `name` or `schema.name` of plain identifier characters.
pub fn valid_table(t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    (1..=2).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 63
                && p.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The levels at or above `min`, as the words a table may hold.
fn level_words(min: LogLevel) -> Vec<String> {
    let all: [(LogLevel, &[&str]); 5] = [
        (LogLevel::DEBUG, &["debug", "trace"]),
        (LogLevel::INFO, &["info", "notice"]),
        (LogLevel::WARNING, &["warning", "warn"]),
        (LogLevel::ERROR, &["error", "err"]),
        (
            LogLevel::CRITICAL,
            &["critical", "fatal", "crit", "emergency", "alert"],
        ),
    ];
    all.iter()
        .filter(|(l, _)| *l >= min)
        .flat_map(|(_, w)| w.iter().map(|s| s.to_string()))
        .collect()
}

impl PostgresLogs {
    pub fn new(url: &str, table: &str, timeout: Duration) -> Result<Self, TelemetryError> {
        if !valid_table(table) {
            return Err(TelemetryError::Backend(format!(
                "logs.table: {table:?} is not a table name (name or schema.name)"
            )));
        }
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(timeout)
            .connect_lazy(url)
            .map_err(|e| {
                TelemetryError::Backend(format!(
                    "logs.url: {}",
                    crate::redact::urls_in(&e.to_string())
                ))
            })?;
        Ok(Self {
            pool,
            table: table.to_string(),
            timeout,
        })
    }
}

#[async_trait::async_trait]
impl LogSource for PostgresLogs {
    async fn logs(&self, q: &LogQuery) -> Result<Vec<LogEntry>, TelemetryError> {
        let end = q.until.unwrap_or_else(Utc::now);
        let start = q.since.unwrap_or(end - chrono::Duration::hours(6));
        let levels = q.min_level.map(level_words);
        let sql = format!(
            "SELECT ts, level, service, message FROM {} \
             WHERE ts >= $1 AND ts <= $2 \
             AND ($3::text IS NULL OR lower(service) = lower($3)) \
             AND ($4::text IS NULL OR strpos(lower(message), lower($4)) > 0) \
             AND ($5::text[] IS NULL OR lower(level) = ANY($5)) \
             ORDER BY ts DESC LIMIT $6",
            self.table
        );
        let query = sqlx::query_as::<_, (DateTime<Utc>, String, String, String)>(&sql)
            .bind(start)
            .bind(end)
            .bind(q.service.as_deref())
            .bind(q.keyword.as_deref())
            .bind(levels)
            .bind(MAX_LINES)
            .fetch_all(&self.pool);
        let rows = tokio::time::timeout(self.timeout, query)
            .await
            .map_err(|_| {
                TelemetryError::Backend(format!(
                    "logs database timed out after {} s",
                    self.timeout.as_secs()
                ))
            })?
            .map_err(|e| {
                TelemetryError::Backend(format!(
                    "logs database: {}",
                    crate::redact::urls_in(&e.to_string())
                ))
            })?;
        let mut out: Vec<LogEntry> = rows
            .into_iter()
            .map(|(ts, level, service, message)| LogEntry {
                ts,
                level: LogLevel::parse(&level).unwrap_or(LogLevel::INFO),
                service,
                message: message.chars().take(2000).collect(),
                trace_id: None,
            })
            .collect();
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_identifiers_only() {
        assert!(valid_table("app_logs"));
        assert!(valid_table("logging.app_logs"));
        for bad in ["", "a.b.c", "logs; DROP TABLE x", "1logs", "lo\"gs", "a."] {
            assert!(!valid_table(bad), "{bad}");
        }
        assert!(level_words(LogLevel::ERROR).contains(&"fatal".to_string()));
        assert!(!level_words(LogLevel::ERROR).contains(&"warn".to_string()));
    }
}
