//! [`SqlStore`]: one store type over both backends.
//!
//! **Why an enum over two backend modules and not `#[derive(MultiConnection)]`.**
//! MultiConnection covers only the SQL subset every inner backend shares: no
//! `Binary` columns (uuids are stored as 16-byte `BLOB`/`BYTEA`) and no
//! `ON CONFLICT` upserts without hand-written type impls. The two backends
//! also differ in how they are driven: SQLite has one writer connection plus
//! a pool of WAL readers (`BEGIN IMMEDIATE`), PostgreSQL a shared pool with
//! advisory locks and REPEATABLE READ reads. So each backend module owns its
//! connections and transactions, and both compile the same query text
//! (`queries/log.rs`, `queries/bundles.rs`) against their own connection type.

use std::path::Path;

use biglearn_core::ids::{CourseId, EventId};
use biglearn_core::log::{
    AppendReceipt, AppendRejection, AppendRequest, Bundle, BundleLimits, BundleLog, ConsumerName,
    Event, EventLog, FetchQuery, FetchResponse, IdOwners, IdQuery, IdRegistry, OpenGap,
    SequenceNumber, StoreError, StreamHead, StreamId, StreamKind, StreamMetadata,
};

use crate::config::{parse_target, PgOptions, SqliteOptions, Target};
use crate::postgres::PgBackend;
use crate::sqlite::{SqliteBackend, SqlitePragmas};

/// Which database a [`SqlStore`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Embedded SQLite (bundled).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The event log on SQLite or PostgreSQL, implementing
/// [`EventLog`] and [`BundleLog`].
///
/// Open with [`SqlStore::open`] (migrations applied) or with
/// [`SqlStore::open_sqlite`] / [`SqlStore::open_postgres`] followed by an
/// explicit [`SqlStore::migrate`].
///
/// ```
/// use biglearn_core::log::{EventLog, StreamKind};
/// use biglearn_store::SqlStore;
///
/// let store = SqlStore::open(":memory:")?;
/// assert!(store.fetch_metadatas(StreamKind::Course, 0, 10)?.is_empty());
/// # Ok::<(), biglearn_core::log::StoreError>(())
/// ```
#[derive(Debug)]
pub struct SqlStore {
    pub(crate) backend: Backend,
}

/// The two backends.
#[derive(Debug)]
pub(crate) enum Backend {
    Sqlite(SqliteBackend),
    Postgres(PgBackend),
}

/// Calls the same method on whichever backend the store runs on.
macro_rules! dispatch {
    ($self:expr, $backend:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($backend) => $call,
            Backend::Postgres($backend) => $call,
        }
    };
}

impl SqlStore {
    /// Opens a PostgreSQL URL (`postgres://` or `postgresql://`) or a SQLite
    /// path (optionally `sqlite://`-prefixed, or `:memory:`) with default
    /// options, and applies the embedded migrations.
    pub fn open(url_or_path: &str) -> Result<SqlStore, StoreError> {
        let store = match parse_target(url_or_path)? {
            Target::Postgres(url) => SqlStore::open_postgres(&url, PgOptions::default())?,
            Target::Sqlite(path) => SqlStore::open_sqlite(path, SqliteOptions::default())?,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Opens (creating if missing) a SQLite database file, or `:memory:`,
    /// without migrating. Files use WAL journaling.
    pub fn open_sqlite(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<SqlStore, StoreError> {
        let path = path.as_ref();
        let text = path.to_str().ok_or_else(|| {
            StoreError::Config(format!("SQLite path {path:?} is not valid UTF-8"))
        })?;
        Ok(SqlStore {
            backend: Backend::Sqlite(SqliteBackend::open(text, options)?),
        })
    }

    /// Connects to a PostgreSQL database, without migrating.
    pub fn open_postgres(url: &str, options: PgOptions) -> Result<SqlStore, StoreError> {
        Ok(SqlStore {
            backend: Backend::Postgres(PgBackend::open(url, options)?),
        })
    }

    /// Applies the embedded migrations that are not applied yet (idempotent).
    pub fn migrate(&self) -> Result<(), StoreError> {
        dispatch!(self, b => b.migrate())
    }

    /// The database this store runs on.
    pub fn backend_kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// How many times a SQLite file store flushed its write-ahead log after
    /// a durable write since it was opened (the flush that `FULL` and
    /// `EXTRA` promise, made after the writer is released); 0 on
    /// PostgreSQL, in memory and at `NORMAL`.
    pub fn log_flushes(&self) -> u64 {
        match &self.backend {
            Backend::Sqlite(b) => b.log_flushes(),
            Backend::Postgres(_) => 0,
        }
    }

    /// For SQLite, the durability settings as the connections report them
    /// (`PRAGMA journal_mode`, `synchronous`, …); `None` on PostgreSQL.
    pub fn sqlite_pragmas(&self) -> Result<Option<SqlitePragmas>, StoreError> {
        match &self.backend {
            Backend::Sqlite(b) => b.pragmas().map(Some),
            Backend::Postgres(_) => Ok(None),
        }
    }
}

impl EventLog for SqlStore {
    fn append_group(
        &self,
        group: &[AppendRequest],
    ) -> Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError> {
        dispatch!(self, b => b.append_group(group))
    }

    fn fetch_events(&self, query: &FetchQuery) -> Result<Vec<FetchResponse>, StoreError> {
        dispatch!(self, b => b.fetch_events(query))
    }

    fn fetch_metadatas(
        &self,
        kind: StreamKind,
        offset: u64,
        max: u32,
    ) -> Result<Vec<StreamMetadata>, StoreError> {
        dispatch!(self, b => b.fetch_metadatas(kind, offset, max))
    }

    fn stream_head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError> {
        dispatch!(self, b => b.stream_head(stream))
    }

    fn event(&self, event_id: EventId) -> Result<Option<Event>, StoreError> {
        dispatch!(self, b => b.event(event_id))
    }

    fn open_gaps(&self, max: usize) -> Result<Vec<OpenGap>, StoreError> {
        dispatch!(self, b => b.open_gaps(max))
    }
}

impl IdRegistry for SqlStore {
    fn id_owners(&self, query: &IdQuery) -> Result<IdOwners, StoreError> {
        dispatch!(self, b => b.id_owners(query))
    }

    fn known_courses(
        &self,
        after: Option<CourseId>,
        max: usize,
    ) -> Result<Vec<CourseId>, StoreError> {
        dispatch!(self, b => b.known_courses(after, max))
    }
}

impl BundleLog for SqlStore {
    fn next_bundles(
        &self,
        consumer: &ConsumerName,
        limits: BundleLimits,
    ) -> Result<Vec<Bundle>, StoreError> {
        dispatch!(self, b => b.next_bundles(consumer, limits))
    }

    fn confirm(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
        through: SequenceNumber,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.confirm(consumer, course, through))
    }

    fn confirmed(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<SequenceNumber>, StoreError> {
        dispatch!(self, b => b.confirmed(consumer, course))
    }

    fn backlog(&self, consumer: &ConsumerName, course: CourseId) -> Result<u64, StoreError> {
        dispatch!(self, b => b.backlog(consumer, course))
    }
}
