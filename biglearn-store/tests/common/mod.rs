//! Test support shared by the store's integration tests: fresh SQLite files
//! and fresh PostgreSQL schemas, each dropped with its store.
#![allow(dead_code)]

pub mod scenarios;

use std::sync::atomic::{AtomicU64, Ordering};

use biglearn_core::ids::{CourseId, EventId};
use biglearn_core::log::{
    AppendReceipt, AppendRejection, AppendRequest, Bundle, BundleLimits, BundleLog, ConsumerName,
    Event, EventLog, FetchQuery, FetchResponse, IdOwners, IdQuery, IdRegistry, OpenGap,
    SequenceNumber, StoreError, StreamHead, StreamId, StreamKind, StreamMetadata,
};
use biglearn_store::{PgOptions, SqlStore, SqliteOptions};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use tempfile::TempDir;

/// The variable naming the PostgreSQL server used by the tests.
pub const PG_URL_VAR: &str = "BIGLEARN_TEST_PG_URL";

/// A store plus whatever must outlive it (a temporary directory, a schema).
/// Fields drop in order: the store's connections close before the guard
/// removes the database.
pub struct TestStore<G> {
    /// The store under test.
    pub store: SqlStore,
    /// Dropped after the store.
    pub guard: G,
}

/// A fresh, migrated SQLite file in its own temporary directory.
pub fn sqlite_file_store() -> TestStore<TempDir> {
    sqlite_file_store_with(SqliteOptions::default())
}

/// Same, with options.
pub fn sqlite_file_store_with(options: SqliteOptions) -> TestStore<TempDir> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqlStore::open_sqlite(dir.path().join("log.db"), options).expect("open sqlite");
    store.migrate().expect("migrate sqlite");
    TestStore { store, guard: dir }
}

/// A fresh, migrated in-memory SQLite store.
pub fn sqlite_memory_store() -> SqlStore {
    let store = SqlStore::open_sqlite(":memory:", SqliteOptions::default()).expect("open memory");
    store.migrate().expect("migrate memory");
    store
}

/// The PostgreSQL URL, or `None` after printing the skip notice.
pub fn pg_url() -> Option<String> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            println!("skipped: {PG_URL_VAR} not set");
            None
        }
    }
}

/// A schema created for one test and dropped (with everything in it) when
/// the guard drops.
pub struct PgSchema {
    admin_url: String,
    /// The schema's name.
    pub name: String,
    /// A URL whose connections use the schema.
    pub url: String,
}

impl PgSchema {
    /// Creates `biglearn_test_<pid>_<n>_<random>`.
    pub fn create(admin_url: &str) -> PgSchema {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "biglearn_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            uuid::Uuid::new_v4().simple()
        );
        let mut conn = PgConnection::establish(admin_url).expect("connect to PostgreSQL");
        conn.batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create schema");
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-csearch_path%3D{name}");
        PgSchema {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // IF EXISTS: a test may have dropped it already; errors are ignored
        // because a failed cleanup must not hide the test's own result.
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// A fresh, migrated PostgreSQL store in its own schema.
pub fn pg_store(admin_url: &str) -> TestStore<PgSchema> {
    pg_store_with(admin_url, PgOptions::default())
}

/// Same, with options.
pub fn pg_store_with(admin_url: &str, options: PgOptions) -> TestStore<PgSchema> {
    let schema = PgSchema::create(admin_url);
    let store = SqlStore::open_postgres(&schema.url, options).expect("open postgres");
    store.migrate().expect("migrate postgres");
    TestStore {
        store,
        guard: schema,
    }
}

impl<G: Send + Sync> EventLog for TestStore<G> {
    fn append_group(
        &self,
        group: &[AppendRequest],
    ) -> Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError> {
        self.store.append_group(group)
    }

    fn fetch_events(&self, query: &FetchQuery) -> Result<Vec<FetchResponse>, StoreError> {
        self.store.fetch_events(query)
    }

    fn fetch_metadatas(
        &self,
        kind: StreamKind,
        offset: u64,
        max: u32,
    ) -> Result<Vec<StreamMetadata>, StoreError> {
        self.store.fetch_metadatas(kind, offset, max)
    }

    fn stream_head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError> {
        self.store.stream_head(stream)
    }

    fn event(&self, event_id: EventId) -> Result<Option<Event>, StoreError> {
        self.store.event(event_id)
    }

    fn open_gaps(&self, max: usize) -> Result<Vec<OpenGap>, StoreError> {
        self.store.open_gaps(max)
    }
}

impl<G: Send + Sync> IdRegistry for TestStore<G> {
    fn id_owners(&self, query: &IdQuery) -> Result<IdOwners, StoreError> {
        self.store.id_owners(query)
    }

    fn known_courses(
        &self,
        after: Option<CourseId>,
        max: usize,
    ) -> Result<Vec<CourseId>, StoreError> {
        self.store.known_courses(after, max)
    }
}

impl<G: Send + Sync> BundleLog for TestStore<G> {
    fn next_bundles(
        &self,
        consumer: &ConsumerName,
        limits: BundleLimits,
    ) -> Result<Vec<Bundle>, StoreError> {
        self.store.next_bundles(consumer, limits)
    }

    fn confirm(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
        through: SequenceNumber,
    ) -> Result<(), StoreError> {
        self.store.confirm(consumer, course, through)
    }

    fn confirmed(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<SequenceNumber>, StoreError> {
        self.store.confirmed(consumer, course)
    }

    fn backlog(&self, consumer: &ConsumerName, course: CourseId) -> Result<u64, StoreError> {
        self.store.backlog(consumer, course)
    }
}
