//! The SQLite backend: one writer connection behind a mutex (SQLite admits
//! one writer at a time anyway; `BEGIN IMMEDIATE` also serialises writers of
//! other processes through `busy_timeout`) and an r2d2 pool of read-only
//! connections that read in WAL snapshots while the writer commits.
//!
//! In-memory databases (`:memory:`) exist per connection, so there every read
//! goes through the writer connection.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use biglearn_core::log::{plan_append, AppendReceipt, AppendRejection, AppendRequest, StoreError};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::backend_methods::shared_backend_methods;
use crate::checkpoint::Checkpointer;
use crate::config::{SqliteOptions, Synchronous};
use crate::error::{pool_error, retrying, TxError};
use crate::log_sync::LogSync;

/// The shared queries, compiled for SQLite.
mod queries {
    /// The connection type the shared queries run on.
    type Conn = diesel::SqliteConnection;
    /// Backend name in errors.
    const BACKEND: &str = "sqlite";
    include!("queries/log.rs");
    include!("queries/positions_sqlite.rs");

    /// The bundle and watermark queries.
    pub(crate) mod bundles {
        include!("queries/bundles.rs");
    }
}

/// Backend name in errors.
const BACKEND: &str = "sqlite";

/// The SQLite schema migrations, embedded in the binary.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The settings one SQLite connection reports (read back with `PRAGMA`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPragmas {
    /// `PRAGMA journal_mode`: `wal` for files, `memory` for `:memory:`.
    pub journal_mode: String,
    /// `PRAGMA synchronous`; `None` if OFF.
    pub synchronous: Option<Synchronous>,
    /// `PRAGMA busy_timeout` in milliseconds.
    pub busy_timeout_ms: i64,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
}

/// The settings of the writer and of one pooled reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlitePragmas {
    /// The durability of acknowledged writes (event appends and the other
    /// writes the event log cannot rebuild): the configured level. For a
    /// file at `FULL` or `EXTRA` the writer connection itself commits at
    /// `NORMAL` and the store flushes the write-ahead log after releasing
    /// the writer, before the write returns.
    pub durability: Synchronous,
    /// The writer connection.
    pub writer: ConnectionPragmas,
    /// One reader connection; `None` when reads share the writer.
    pub reader: Option<ConnectionPragmas>,
}

/// One integer pragma value.
#[derive(QueryableByName)]
struct IntPragma {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    value: i64,
}

/// One text pragma value.
#[derive(QueryableByName)]
struct TextPragma {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// Reads back the settings of one connection.
fn read_pragmas(conn: &mut SqliteConnection) -> Result<ConnectionPragmas, StoreError> {
    let err = |e: diesel::result::Error| TxError::from(e).into_store(BACKEND, "reading pragmas");
    // `column` is the pragma's result column (`timeout` for busy_timeout).
    let int = |conn: &mut SqliteConnection, name: &str, column: &str| -> Result<i64, StoreError> {
        let rows: Vec<IntPragma> =
            diesel::sql_query(format!("SELECT {column} AS value FROM pragma_{name}"))
                .load(conn)
                .map_err(err)?;
        rows.first()
            .map(|row| row.value)
            .ok_or_else(|| StoreError::Corrupt(format!("PRAGMA {name} returned no row")))
    };
    let modes: Vec<TextPragma> =
        diesel::sql_query("SELECT journal_mode AS value FROM pragma_journal_mode")
            .load(conn)
            .map_err(err)?;
    Ok(ConnectionPragmas {
        journal_mode: modes
            .into_iter()
            .next()
            .map(|m| m.value)
            .unwrap_or_default(),
        synchronous: Synchronous::from_pragma_value(int(conn, "synchronous", "synchronous")?),
        busy_timeout_ms: int(conn, "busy_timeout", "timeout")?,
        foreign_keys: int(conn, "foreign_keys", "foreign_keys")? == 1,
    })
}

/// The file of the connection's main database, as SQLite resolved it.
fn main_file(conn: &mut SqliteConnection) -> Result<std::path::PathBuf, StoreError> {
    let rows: Vec<TextPragma> =
        diesel::sql_query("SELECT file AS value FROM pragma_database_list WHERE name = 'main'")
            .load(conn)
            .map_err(|e| TxError::from(e).into_store(BACKEND, "reading the database file name"))?;
    rows.into_iter()
        .next()
        .map(|row| std::path::PathBuf::from(row.value))
        .filter(|file| !file.as_os_str().is_empty())
        .ok_or_else(|| StoreError::Config("SQLite reports no file for the main database".into()))
}

/// Writer-only pragmas. For file databases a background thread
/// ([`Checkpointer`]) copies the write-ahead log and has the writer
/// restart it when it passes 16,384 pages; the writer's own checkpoint
/// (after a commit that leaves the log longer than 32,768 pages, where
/// SQLite's default is 1,000) is only the fallback should that thread fall
/// behind: it would run inside the commit, with the writer held. A
/// restarted log file is cut back to 64 MiB.
const WRITER_PRAGMAS: &str =
    "PRAGMA wal_autocheckpoint = 32768; PRAGMA journal_size_limit = 67108864;";

/// `busy_timeout` while the writer restarts the log: readers of older
/// snapshots finish within milliseconds; one that does not leaves the
/// restart to a later write rather than stall the engine.
const RESTART_BUSY_MS: u32 = 200;

/// Whether a file store at these options flushes its log itself
/// ([`LogSync`]) instead of letting SQLite flush inside every commit.
fn flushes_after_release(options: &SqliteOptions) -> bool {
    matches!(options.synchronous, Synchronous::Full | Synchronous::Extra)
}

/// The `synchronous` level connections to a file use: `NORMAL` where the
/// store flushes the log after releasing the writer, else the configured
/// level.
fn connection_synchronous(options: &SqliteOptions) -> Synchronous {
    if flushes_after_release(options) {
        Synchronous::Normal
    } else {
        options.synchronous
    }
}

/// The per-connection pragmas (journal mode is per database, set once).
fn connection_pragmas(options: &SqliteOptions, read_only: bool) -> String {
    format!(
        "PRAGMA busy_timeout = {busy}; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -{cache}; PRAGMA temp_store = MEMORY; PRAGMA query_only = {ro};",
        busy = options.busy_timeout.as_millis().min(i32::MAX as u128),
        sync = connection_synchronous(options).as_sql(),
        cache = options.cache_size_kib,
        ro = if read_only { "ON" } else { "OFF" },
    )
}

/// Applies the reader pragmas to every pooled connection.
#[derive(Debug)]
struct ReaderSetup {
    pragmas: String,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ReaderSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&self.pragmas)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Whether `path` names a per-connection in-memory database.
fn is_memory(path: &str) -> bool {
    path == ":memory:" || path.starts_with("file::memory:") || path.contains("mode=memory")
}

/// The SQLite store.
pub(crate) struct SqliteBackend {
    path: String,
    options: SqliteOptions,
    writer: Mutex<SqliteConnection>,
    /// Event appends waiting for the writer: derived writes step aside
    /// for them ([`SqliteBackend::write_derived`]).
    appends_waiting: AtomicUsize,
    /// Background checkpoints (file databases only); stops when dropped.
    _checkpointer: Option<Checkpointer>,
    /// Set by the checkpointer when the log should be restarted.
    log_restart_due: Arc<AtomicBool>,
    /// Flushes the log after durable writes (files at `FULL` or `EXTRA`).
    log_sync: Option<Box<LogSync>>,
    readers: Option<Pool<ConnectionManager<SqliteConnection>>>,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("path", &self.path)
            .field("options", &self.options)
            .field("readers", &self.readers.as_ref().map(|p| p.max_size()))
            .finish()
    }
}

/// Opens and configures the writer connection.
fn open_writer(path: &str, options: &SqliteOptions) -> Result<SqliteConnection, StoreError> {
    let mut conn = SqliteConnection::establish(path)
        .map_err(|e| StoreError::Config(format!("cannot open SQLite database at {path:?}: {e}")))?;
    let config_err = |e: diesel::result::Error| {
        StoreError::Config(format!("cannot configure SQLite database at {path:?}: {e}"))
    };
    // The pragmas run before anything else: `busy_timeout` first so that
    // switching to WAL waits for other processes instead of failing.
    conn.batch_execute(&connection_pragmas(options, false))
        .map_err(config_err)?;
    conn.batch_execute(WRITER_PRAGMAS).map_err(config_err)?;
    if !is_memory(path) {
        conn.batch_execute("PRAGMA journal_mode = WAL;")
            .map_err(config_err)?;
        let mode = read_pragmas(&mut conn)?.journal_mode;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Config(format!(
                "SQLite database at {path:?} cannot use WAL journaling (journal_mode is {mode:?})"
            )));
        }
    }
    Ok(conn)
}

impl SqliteBackend {
    /// Opens (creating if missing) the database at `path`.
    pub(crate) fn open(path: &str, options: SqliteOptions) -> Result<Self, StoreError> {
        let mut writer = open_writer(path, &options)?;
        let log_sync = if is_memory(path) || !flushes_after_release(&options) {
            None
        } else {
            Some(Box::new(LogSync::new(&main_file(&mut writer)?)))
        };
        let log_restart_due = Arc::new(AtomicBool::new(false));
        let checkpointer = if is_memory(path) {
            None
        } else {
            Some(Checkpointer::start(
                path,
                &connection_pragmas(&options, false),
                Arc::clone(&log_restart_due),
            )?)
        };
        let readers = if is_memory(path) || options.readers == 0 {
            None
        } else {
            let manager = ConnectionManager::<SqliteConnection>::new(path);
            let pool = Pool::builder()
                .max_size(options.readers)
                .min_idle(Some(0))
                .connection_timeout(options.busy_timeout.max(std::time::Duration::from_secs(1)))
                .connection_customizer(Box::new(ReaderSetup {
                    pragmas: connection_pragmas(&options, true),
                }))
                .build(manager)
                .map_err(|e| {
                    StoreError::Config(format!("cannot open SQLite readers for {path:?}: {e}"))
                })?;
            Some(pool)
        };
        Ok(SqliteBackend {
            path: path.to_owned(),
            options,
            writer: Mutex::new(writer),
            appends_waiting: AtomicUsize::new(0),
            _checkpointer: checkpointer,
            log_restart_due,
            log_sync,
            readers,
        })
    }

    /// The writer connection. After a panic while it was held (which may
    /// have left a transaction open), a file database gets a fresh
    /// connection; an in-memory one cannot be recovered.
    fn writer(&self) -> Result<MutexGuard<'_, SqliteConnection>, StoreError> {
        match self.writer.lock() {
            Ok(guard) => Ok(guard),
            Err(poisoned) => {
                if is_memory(&self.path) {
                    return Err(StoreError::Backend {
                        backend: BACKEND,
                        operation: "taking the writer connection",
                        message: "a panic interrupted a write to this in-memory database".into(),
                    });
                }
                let mut guard = poisoned.into_inner();
                *guard = open_writer(&self.path, &self.options)?;
                self.writer.clear_poison();
                Ok(guard)
            }
        }
    }

    /// Runs `read` in one read transaction (one WAL snapshot).
    pub(crate) fn read<T>(
        &self,
        operation: &'static str,
        read: impl Fn(&mut SqliteConnection) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let run = |conn: &mut SqliteConnection| {
            conn.transaction(|c| read(c))
                .map_err(|e: TxError| e.into_store(BACKEND, operation))
        };
        match &self.readers {
            Some(pool) => {
                let mut conn = pool.get().map_err(|e| pool_error(BACKEND, e))?;
                run(&mut conn)
            }
            None => run(&mut *self.writer()?),
        }
    }

    /// Runs `write` in one `BEGIN IMMEDIATE` transaction, retrying
    /// conflicts, and makes it durable ([`SqliteBackend::make_durable`]).
    pub(crate) fn write<T>(
        &self,
        operation: &'static str,
        write: impl Fn(&mut SqliteConnection) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer()?;
        let result = retrying(|| conn.immediate_transaction(|c| write(c)))
            .map_err(|e| e.into_store(BACKEND, operation));
        self.restart_log_if_due(&mut conn);
        drop(conn);
        let result = result?;
        self.make_durable()?;
        Ok(result)
    }

    /// Flushes the write-ahead log when the store is configured `FULL` or
    /// `EXTRA` (see [`LogSync`]); called after the writer is released, so
    /// the engine commits while the disk flushes.
    fn make_durable(&self) -> Result<(), StoreError> {
        match &self.log_sync {
            Some(sync) => sync.flush(BACKEND),
            None => Ok(()),
        }
    }

    /// How many times the write-ahead log was flushed after a durable write
    /// (0 for stores that let SQLite flush, or never flush).
    pub(crate) fn log_flushes(&self) -> u64 {
        self.log_sync.as_ref().map_or(0, |sync| sync.flushes())
    }

    /// Runs `write` like [`SqliteBackend::write`], after any waiting event
    /// append, without flushing the log: for derived data (the engine's
    /// progress) that the event log can rebuild. The log is sequential, so
    /// a crash may lose the last such commits but never reorders them, and
    /// the next flush (after any event append) makes them durable too.
    pub(crate) fn write_derived<T>(
        &self,
        operation: &'static str,
        write: impl Fn(&mut SqliteConnection) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        self.let_appends_go_first();
        let mut conn = self.writer()?;
        let result = retrying(|| conn.immediate_transaction(|c| write(c)))
            .map_err(|e| e.into_store(BACKEND, operation));
        self.restart_log_if_due(&mut conn);
        result
    }

    /// Marks a restart of the log due, as the checkpointer does.
    #[cfg(test)]
    pub(crate) fn mark_log_restart_due(&self) {
        self.log_restart_due.store(true, Ordering::SeqCst);
    }

    /// Whether a restart of the log is due.
    #[cfg(test)]
    pub(crate) fn log_restart_is_due(&self) -> bool {
        self.log_restart_due.load(Ordering::SeqCst)
    }

    /// Restarts the write-ahead log when the checkpointer asked for it
    /// ([`crate::checkpoint`]); the caller holds the writer, so no frame is
    /// written meanwhile. A restart that fails (a reader held on) is asked
    /// for again by the checkpointer's next pass.
    fn restart_log_if_due(&self, conn: &mut SqliteConnection) {
        if !self.log_restart_due.swap(false, Ordering::SeqCst) {
            return;
        }
        let busy = self.options.busy_timeout.as_millis().min(i32::MAX as u128);
        let _ = conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {RESTART_BUSY_MS}; PRAGMA wal_checkpoint(RESTART); \
             PRAGMA busy_timeout = {busy};"
        ));
    }

    /// Waits (briefly, yielding) while an event append waits for the
    /// writer. The writer mutex is not fair: an engine committing course
    /// after course would otherwise take it again and again while the
    /// append, and every request in its group, waits. Bounded, so a steady
    /// stream of appends cannot stall the engine forever.
    fn let_appends_go_first(&self) {
        const MAX_COURTESY: Duration = Duration::from_millis(5);
        let started = Instant::now();
        while self.appends_waiting.load(Ordering::SeqCst) > 0 && started.elapsed() < MAX_COURTESY {
            std::thread::yield_now();
        }
    }

    /// Whether an event append is waiting for the writer: a long derived
    /// write (several course commits) ends its transaction early then.
    pub(crate) fn appends_waiting(&self) -> bool {
        self.appends_waiting.load(Ordering::SeqCst) > 0
    }

    /// Applies the pending embedded migrations.
    pub(crate) fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        conn.run_pending_migrations(MIGRATIONS)
            .map(|_| ())
            .map_err(|e| StoreError::Backend {
                backend: BACKEND,
                operation: "running migrations",
                message: e.to_string(),
            })
    }

    /// Reads back the connection settings.
    pub(crate) fn pragmas(&self) -> Result<SqlitePragmas, StoreError> {
        let writer = read_pragmas(&mut *self.writer()?)?;
        let reader = match &self.readers {
            Some(pool) => {
                let mut conn = pool.get().map_err(|e| pool_error(BACKEND, e))?;
                Some(read_pragmas(&mut conn)?)
            }
            None => None,
        };
        Ok(SqlitePragmas {
            durability: self.options.synchronous,
            writer,
            reader,
        })
    }

    pub(crate) fn append_group(
        &self,
        group: &[AppendRequest],
    ) -> Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError> {
        if group.is_empty() {
            return Ok(Vec::new());
        }
        self.appends_waiting.fetch_add(1, Ordering::SeqCst);
        let writer = self.writer();
        self.appends_waiting.fetch_sub(1, Ordering::SeqCst);
        let mut conn = writer?;
        let operation = "appending events";
        let outcomes = retrying(|| {
            conn.immediate_transaction(|conn| {
                let snapshot = queries::load_snapshot(conn, group)?;
                let plan = plan_append(group, &snapshot);
                queries::write_plan(conn, &plan)?;
                Ok(plan.outcomes)
            })
        })
        .map_err(|e: TxError| e.into_store(BACKEND, operation));
        self.restart_log_if_due(&mut conn);
        drop(conn);
        let outcomes = outcomes?;
        self.make_durable()?;
        Ok(outcomes)
    }

    shared_backend_methods!();
}
