//! SQLite persistence through sqlx: one pool (WAL mode), embedded migrations, and one
//! repository file per table group. Queries are runtime-checked (`sqlx::query`) so the build
//! needs no database.
//!
//! Writes: every write goes through [`Store::writer`], a pool of exactly one connection,
//! while reads use [`Store::pool`]. SQLite admits one writer at a time; with writes spread
//! over several connections they collide inside SQLite, whose busy handler then sleeps
//! 1, 2, 5, 10 … ms — 20–50 ms stalls for a webhook batch that met an agent's event write.
//! Queuing for the single write connection in-process is fair and costs microseconds, and
//! that connection's page cache stays valid because no one else changes the file.
//!
//! Checkpoints: SQLite's automatic WAL checkpoint runs inside whichever commit crosses the
//! threshold (1000 pages), so one unlucky webhook or agent step pays for copying the WAL back
//! and an fsync — the 20 ms stalls that dominated ingestion p99. Automatic checkpoints are off
//! on every connection; a background task runs a PASSIVE checkpoint (never blocks writers)
//! every [`CHECKPOINT_EVERY`] and, if the WAL still grows past [`WAL_RESTART_PAGES`], a RESTART
//! so it cannot grow without bound. SQLite also checkpoints when the last connection closes.

mod approvals;
mod catalogue;
mod eval_runs;
mod events;
mod incidents;
mod memories;

pub use approvals::*;

pub use incidents::*;
pub use memories::*;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is corrupt in {what}: {source}")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Closed(&'static str),
    #[error("write failed: {0}")]
    Write(String),
    #[error("bad database url {url:?}: {message}")]
    BadUrl { url: String, message: String },
    #[error("cannot create the data directory {dir}: {source}")]
    DataDir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How often the background task checkpoints the WAL.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// WAL size (pages) after a passive checkpoint above which a RESTART checkpoint is forced.
pub const WAL_RESTART_PAGES: i64 = 8 * 1024;

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Reads (and, for an in-memory database, everything).
    pool: SqlitePool,
    /// Writes: one connection (see the module docs).
    writer: SqlitePool,
    /// Stops the checkpoint task when the last clone of the store is dropped.
    _checkpointer: Option<Arc<AbortOnDrop>>,
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Store {
    /// Opens (creating if needed) the database at `url` and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        let path = opts.get_filename().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                dir: dir.display().to_string(),
                source,
            })?;
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let opts = opts
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .synchronous(SqliteSynchronous::Normal);
        let opts = if in_memory {
            opts
        } else {
            opts.journal_mode(SqliteJournalMode::Wal)
                .pragma("wal_autocheckpoint", "0")
                .pragma("mmap_size", "268435456")
        };
        // No ping before each acquire: a local SQLite connection does not go stale, and the
        // ping is one more round trip to the connection's thread per statement.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&writer).await?;
        let pool = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(15))
                .connect_with(opts)
                .await?
        };
        let checkpointer = (!in_memory).then(|| {
            let task = tokio::spawn(checkpoint_loop(pool.clone(), writer.clone()));
            Arc::new(AbortOnDrop(task.abort_handle()))
        });
        Ok(Self {
            pool,
            writer,
            _checkpointer: checkpointer,
        })
    }

    /// The read pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes both pools (the WAL is checkpointed when the last connection closes).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// The single write connection: every INSERT/UPDATE/DELETE goes here.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }
}

/// Copies the WAL back into the database file off the write path (see the module docs).
async fn checkpoint_loop(pool: SqlitePool, writer: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            break;
        }
        let passive: std::result::Result<(i64, i64, i64), _> =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&pool)
                .await;
        match passive {
            Ok((_, log, _)) if log > WAL_RESTART_PAGES => {
                tracing::info!(wal_pages = log, "WAL large: restart checkpoint");
                // On the write connection: it waits its turn instead of colliding.
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                    .execute(&writer)
                    .await
                {
                    tracing::warn!(error = %e, "restart checkpoint failed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|source| StoreError::Corrupt { what, source })
}

pub(crate) fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}
