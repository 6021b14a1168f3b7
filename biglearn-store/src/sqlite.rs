//! The SQLite backend: one writer connection behind a mutex (SQLite admits
//! one writer at a time anyway; `BEGIN IMMEDIATE` also serialises writers of
//! other processes through `busy_timeout`) and an r2d2 pool of read-only
//! connections that read in WAL snapshots while the writer commits.
//!
//! In-memory databases (`:memory:`) exist per connection, so there every read
//! goes through the writer connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
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

/// Writer-only pragmas. The write-ahead log is checkpointed every 4000
/// pages (16 MiB at the default page size) instead of SQLite's 1000: group
/// commits write a few hundred pages each, and fewer, larger checkpoints
/// keep the commit path shorter at the same durability. For file
/// databases a background thread ([`Checkpointer`]) does most of the
/// copying, so the writer's own checkpoints find little left to do.
const WRITER_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 4000;";

/// The per-connection pragmas (journal mode is per database, set once).
fn connection_pragmas(options: &SqliteOptions, read_only: bool) -> String {
    format!(
        "PRAGMA busy_timeout = {busy}; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -{cache}; PRAGMA temp_store = MEMORY; PRAGMA query_only = {ro};",
        busy = options.busy_timeout.as_millis().min(i32::MAX as u128),
        sync = options.synchronous.as_sql(),
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
        let writer = open_writer(path, &options)?;
        let checkpointer = if is_memory(path) {
            None
        } else {
            Some(Checkpointer::start(
                path,
                &connection_pragmas(&options, false),
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
    /// conflicts.
    pub(crate) fn write<T>(
        &self,
        operation: &'static str,
        write: impl Fn(&mut SqliteConnection) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer()?;
        retrying(|| conn.immediate_transaction(|c| write(c)))
            .map_err(|e| e.into_store(BACKEND, operation))
    }

    /// Runs `write` like [`SqliteBackend::write`], after any waiting event
    /// append, and commits at
    /// `synchronous = NORMAL` (no fsync of the write-ahead log) when the
    /// store is configured stricter: for derived data (the engine's
    /// progress) that the event log can rebuild. The log is sequential, so
    /// a crash may lose the last such commits but never reorders them, and
    /// the next `FULL` commit (any event append) makes them durable too.
    /// The configured level is restored before the writer is released.
    pub(crate) fn write_derived<T>(
        &self,
        operation: &'static str,
        write: impl Fn(&mut SqliteConnection) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let relax = matches!(
            self.options.synchronous,
            Synchronous::Full | Synchronous::Extra
        ) && !is_memory(&self.path);
        self.let_appends_go_first();
        let mut conn = self.writer()?;
        let pragma_error = |e: diesel::result::Error| {
            TxError::from(e).into_store(BACKEND, "setting the synchronous level")
        };
        if relax {
            conn.batch_execute("PRAGMA synchronous = NORMAL")
                .map_err(pragma_error)?;
        }
        let result = retrying(|| conn.immediate_transaction(|c| write(c)))
            .map_err(|e| e.into_store(BACKEND, operation));
        if relax {
            let restore = format!("PRAGMA synchronous = {}", self.options.synchronous.as_sql());
            if conn.batch_execute(&restore).is_err() {
                // Never leave event appends on a weaker level: start over
                // with a freshly configured writer (or fail if that fails).
                *conn = open_writer(&self.path, &self.options)?;
            }
        }
        result
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
        Ok(SqlitePragmas { writer, reader })
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
        retrying(|| {
            conn.immediate_transaction(|conn| {
                let snapshot = queries::load_snapshot(conn, group)?;
                let plan = plan_append(group, &snapshot);
                queries::write_plan(conn, &plan)?;
                Ok(plan.outcomes)
            })
        })
        .map_err(|e: TxError| e.into_store(BACKEND, operation))
    }

    shared_backend_methods!();
}
