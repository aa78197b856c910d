//! Persistence through sqlx on one of two engines: SQLite (the embedded default, one file, one
//! process) or PostgreSQL (the shared store of several `sentinel serve` replicas). Embedded
//! migrations per engine (`server/migrations/` and `server/migrations/postgres/`, the same
//! schema), and one repository file per table group whose queries run unchanged on both
//! wherever the two dialects agree ([`db!`] compiles each body once per engine). Queries are
//! runtime-checked (`sqlx::query`) so the build needs no database.
//!
//! What differs between the engines stays here and in a few `if pg` branches: sequence
//! numbers (SQLite's rowid, PostgreSQL's identity columns), `rowid` tie-breaks, SQLite's
//! checkpoint task, and the PostgreSQL event-log lock (see `events.rs`).
//!
//! SQLite writes: every write goes through the writer pool, exactly one connection, while
//! reads use the read pool. SQLite admits one writer at a time; with writes spread
//! over several connections they collide inside SQLite, whose busy handler then sleeps
//! 1, 2, 5, 10 … ms — 20–50 ms stalls for a webhook batch that met an agent's event write.
//! Queuing for the single write connection in-process is fair and costs microseconds, and
//! that connection's page cache stays valid because no one else changes the file.
//! PostgreSQL has one pool: its writers do not collide that way.
//!
//! SQLite checkpoints: SQLite's automatic WAL checkpoint runs inside whichever commit crosses the
//! threshold (1000 pages), so one unlucky webhook or agent step pays for copying the WAL back
//! and an fsync — the 20 ms stalls that dominated ingestion p99. Automatic checkpoints are off
//! on every connection; a background task runs a PASSIVE checkpoint (never blocks writers)
//! every [`CHECKPOINT_EVERY`] and, once the WAL passes [`WAL_RESTART_PAGES`], a RESTART so it
//! starts over instead of growing without bound. The RESTART holds the write connection, and
//! what it costs is fsync: under steady writes a passive pass never catches up with the
//! writer, so SQLite never syncs the database file after one, and the RESTART used to flush
//! everything copied since the last one (30–50 ms at 20k alerts/s). The task therefore fsyncs
//! the database file after every pass and the WAL just before the RESTART, from its own file
//! descriptors on a blocking thread; the RESTART then syncs ~2 ms of leftovers. These early
//! fsyncs change no durability guarantee: SQLite still syncs what its protocol requires.
//! SQLite also checkpoints when the last connection closes.

/// Runs `$body` against this store's database, compiled once per engine: `$p` is the pool
/// (`read` or `write`; on PostgreSQL both are the one pool) and `$pg` whether it is
/// PostgreSQL, for the few statements whose spelling differs.
macro_rules! db {
    ($store:expr, read |$p:ident, $pg:ident| $body:expr) => {
        db!(@on $store, pool, |$p, $pg| $body)
    };
    ($store:expr, write |$p:ident, $pg:ident| $body:expr) => {
        db!(@on $store, writer, |$p, $pg| $body)
    };
    ($store:expr, read |$p:ident| $body:expr) => {
        db!($store, read | $p, _pg | $body)
    };
    ($store:expr, write |$p:ident| $body:expr) => {
        db!($store, write | $p, _pg | $body)
    };
    // `$sqlite` names the SQLite pool to use (`pool` or `writer`); PostgreSQL has one.
    (@on $store:expr, $sqlite:ident, |$p:ident, $pg:ident| $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite { $sqlite: $p, .. } => {
                #[allow(unused_variables)]
                let $pg = false;
                $body
            }
            $crate::store::Db::Postgres { pool: $p } => {
                #[allow(unused_variables)]
                let $pg = true;
                $body
            }
        }
    };
}

mod alerts;
mod approvals;
mod catalogue;
mod changes;
mod eval_runs;
mod events;
mod incidents;
mod memories;
mod notify;
mod roles;
mod sessions;

pub use alerts::{AlertRow, FingerprintHead, PRUNE_BATCH, ROWS_PER_STATEMENT};
pub use approvals::*;
pub use catalogue::{Catalogue, DependencyEdge, Runbook, ServiceInfo};
pub use changes::{ChangeEvent, StoredChanges};

pub use incidents::*;
pub use memories::*;
pub use notify::DeadLetter;
pub use sessions::SessionRow;

use sqlx::SqlitePool;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
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

/// How often the background task checkpoints the WAL. Often, so each pass (and each fsync,
/// whose cost is proportional to the dirty bytes: ~1 ms per MiB here) stays small.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// WAL size (pages) after a passive checkpoint above which a RESTART checkpoint starts the WAL
/// over (16 MiB).
pub const WAL_RESTART_PAGES: i64 = 4 * 1024;
/// `journal_size_limit`: the size the WAL file is truncated back to after it starts over. A
/// writer faster than the checkpoint period can grow the WAL past [`WAL_RESTART_PAGES`]
/// between two passes (a fast disk writes 80 MB in well under a second); without the limit
/// the file keeps its high-water size forever even though SQLite reuses it from the start.
pub const WAL_SIZE_LIMIT_BYTES: i64 = WAL_RESTART_PAGES * 4096;

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
}

/// The engine behind a [`Store`] and its pools.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite {
        /// Reads (and, for an in-memory database, everything).
        pool: SqlitePool,
        /// Writes: one connection (see the module docs).
        writer: SqlitePool,
        /// Stops the checkpoint task when the last clone of the store is dropped.
        _checkpointer: Option<Arc<Checkpointer>>,
    },
    Postgres {
        pool: PgPool,
    },
}

/// Connections per replica to PostgreSQL: the runner, ingestion and the SSE tail share them.
pub const PG_MAX_CONNECTIONS: u32 = 16;
/// How long a statement may wait for a PostgreSQL connection (also the connect timeout).
pub const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The background checkpoint task's handle and the database file descriptor it fsyncs.
///
/// That descriptor is opened once and closed only after every SQLite connection of this store
/// is closed: on POSIX, closing *any* descriptor of a file drops all of the process's `fcntl`
/// locks on it, including the shared lock each SQLite connection holds. Another process (say
/// `sentinel eval` beside `sentinel serve`) would then believe it is the last user of the
/// database, checkpoint and delete the WAL under our open connections ("disk I/O error").
#[derive(Debug)]
pub(crate) struct Checkpointer {
    task: tokio::task::AbortHandle,
    db_file: Option<Arc<std::fs::File>>,
    pools: (SqlitePool, SqlitePool),
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
        let Some(file) = self.db_file.take() else {
            return;
        };
        let (pool, writer) = self.pools.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    pool.close().await;
                    writer.close().await;
                    drop(file);
                });
            }
            // No runtime to wait for the connections on: keep the descriptor open rather
            // than risk dropping their locks.
            Err(_) => std::mem::forget(file),
        }
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH`, created if needed, or
    /// `postgres://…`) and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        match check_url(url)? {
            Engine::Sqlite => Self::connect_sqlite(url).await,
            Engine::Postgres => Self::connect_postgres(url).await,
        }
    }

    /// Connects to PostgreSQL and migrates. Several replicas may start at once: sqlx takes
    /// an advisory lock around the migrations, so exactly one applies each.
    async fn connect_postgres(url: &str) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url.trim()).map_err(|e| StoreError::BadUrl {
            url: crate::redact::url(url),
            message: e.to_string(),
        })?;
        let opts = opts.application_name("sentinel");
        let pool = PgPoolOptions::new()
            .max_connections(PG_MAX_CONNECTIONS)
            .acquire_timeout(PG_ACQUIRE_TIMEOUT)
            // Every statement is bounded: a wedged server is an error, never a hang.
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("SET statement_timeout = '30s'")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self {
            db: Db::Postgres { pool },
        })
    }

    /// Which engine this store runs on.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres { .. })
    }

    async fn connect_sqlite(url: &str) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
            url: crate::redact::url(url),
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
                // After a RESTART the next commit truncates the WAL file back to this size, so a
                // burst that outran the checkpointer does not leave a large file behind.
                .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES.to_string())
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
        sqlx::migrate!("../migrations").run(&writer).await?;
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
        let checkpointer = if in_memory {
            None
        } else {
            // Opened after the connections, closed after them (see `Checkpointer`).
            let db_file = match std::fs::File::open(&path) {
                Ok(f) => Some(Arc::new(f)),
                Err(e) => {
                    tracing::warn!(error = %e, path = %path.display(), "cannot open the database file for early fsyncs");
                    None
                }
            };
            let task = tokio::spawn(checkpoint_loop(
                pool.clone(),
                writer.clone(),
                db_file.clone(),
                wal_path(&path),
            ));
            Some(Arc::new(Checkpointer {
                task: task.abort_handle(),
                db_file,
                pools: (pool.clone(), writer.clone()),
            }))
        };
        Ok(Self {
            db: Db::Sqlite {
                pool,
                writer,
                _checkpointer: checkpointer,
            },
        })
    }

    /// The SQLite read pool, for tests and benches that look into the file. A PostgreSQL
    /// store has none: calling this on one is a programming error.
    pub fn pool(&self) -> &SqlitePool {
        match &self.db {
            Db::Sqlite { pool, .. } => pool,
            Db::Postgres { .. } => panic!("Store::pool() is SQLite-only; use pg_pool()"),
        }
    }

    /// The SQLite write connection (every INSERT/UPDATE/DELETE goes here); SQLite-only like
    /// [`Store::pool`].
    pub fn writer(&self) -> &SqlitePool {
        match &self.db {
            Db::Sqlite { writer, .. } => writer,
            Db::Postgres { .. } => panic!("Store::writer() is SQLite-only; use pg_pool()"),
        }
    }

    /// The PostgreSQL pool, for tests that look into the database.
    pub fn pg_pool(&self) -> Option<&PgPool> {
        match &self.db {
            Db::Postgres { pool } => Some(pool),
            Db::Sqlite { .. } => None,
        }
    }

    /// Closes the pools (SQLite checkpoints the WAL when the last connection closes).
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { pool, writer, .. } => {
                pool.close().await;
                writer.close().await;
            }
            Db::Postgres { pool } => pool.close().await,
        }
    }
}

/// Copies the WAL back into the database file off the write path (see the module docs).
async fn checkpoint_loop(
    pool: SqlitePool,
    writer: SqlitePool,
    db: Option<Arc<std::fs::File>>,
    wal: PathBuf,
) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = None;
    loop {
        tick.tick().await;
        if pool.is_closed() {
            break;
        }
        let started = std::time::Instant::now();
        let passive: std::result::Result<(i64, i64, i64), _> =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&pool)
                .await;
        let (log, copied) = match passive {
            Ok((_, log, copied)) => (log, copied),
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed");
                continue;
            }
        };
        if last == Some((log, copied)) {
            continue; // nothing written since the last pass
        }
        last = Some((log, copied));
        // The passive pass wrote pages into the database file but syncs it only when it
        // caught up with the writer, which under steady load it never does: flush them here,
        // off the write connection, so the RESTART below has only its own few pages to sync.
        if let Some(db) = &db {
            let db = db.clone();
            early_fsync(move || db.sync_data(), "database file").await;
        }
        if log > WAL_RESTART_PAGES {
            // Same for the frames appended since the passive pass synced the WAL. SQLite takes
            // no locks on the WAL file itself, so a short-lived descriptor is safe here.
            let wal = wal.clone();
            early_fsync(move || std::fs::File::open(wal)?.sync_data(), "WAL").await;
            let restart = std::time::Instant::now();
            // On the write connection: it waits its turn instead of colliding.
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                .execute(&writer)
                .await
            {
                tracing::warn!(error = %e, "restart checkpoint failed");
            }
            tracing::debug!(
                wal_pages = log,
                cycle_ms = started.elapsed().as_millis() as u64,
                restart_us = restart.elapsed().as_micros() as u64,
                "WAL restarted"
            );
        }
    }
}

/// Runs an fsync through a descriptor of our own (the page cache is per file, so this flushes
/// what SQLite's connections wrote) on a blocking thread. Purely an early flush: SQLite still
/// syncs whatever its checkpoints require, it just finds little left to do.
/// A failure is only a lost optimisation, so it is logged once per process, not every pass.
async fn early_fsync(sync: impl FnOnce() -> std::io::Result<()> + Send + 'static, what: &str) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if let Ok(Err(e)) = tokio::task::spawn_blocking(sync).await {
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::warn!(error = %e, file = what, "early fsync failed (logged once); checkpoints still sync");
        } else {
            tracing::debug!(error = %e, file = what, "early fsync failed");
        }
    }
}

/// The database engines a URL can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

/// Tells the engine from the URL's scheme and refuses any other, before sqlx gets a chance
/// to treat a URL as a file name (`mysql://…` would become a SQLite file called `mysql:` in
/// the working directory). The message never repeats a password.
fn check_url(url: &str) -> Result<Engine> {
    let bad = |message: String| {
        Err(StoreError::BadUrl {
            url: crate::redact::url(url),
            message,
        })
    };
    let url = url.trim();
    if url.is_empty() {
        return bad("SENTINEL_DATABASE_URL is empty; use sqlite://PATH or postgres://…".into());
    }
    match url
        .split_once(':')
        .map(|(scheme, _)| scheme.to_ascii_lowercase())
    {
        Some(scheme) if scheme == "sqlite" => Ok(Engine::Sqlite),
        Some(scheme) if scheme == "postgres" || scheme == "postgresql" => Ok(Engine::Postgres),
        Some(scheme)
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            bad(format!(
                "unsupported database URL scheme {scheme:?}; use sqlite://PATH or postgres://…"
            ))
        }
        _ => bad("not a database URL; use sqlite://PATH or postgres://…".into()),
    }
}

/// SQLite's WAL file for the database at `db`.
fn wal_path(db: &Path) -> PathBuf {
    beside(db, "-wal")
}

/// Every file SQLite keeps for the database at `db`: the database, its WAL and its
/// shared-memory index (what to delete to remove a database for good).
pub fn sqlite_files(db: &Path) -> [PathBuf; 3] {
    [db.to_path_buf(), wal_path(db), beside(db, "-shm")]
}

/// `db` with `suffix` appended to its file name, as SQLite names its side files.
fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The engine's cheapest row key, for tie-breaks in insertion order and batched deletes:
/// SQLite's `rowid`; on PostgreSQL, which keeps no insertion order, the primary key `id`.
pub(crate) fn row_key(pg: bool) -> &'static str {
    if pg { "id" } else { "rowid" }
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
