//! [`EngineStore`] on [`SqlStore`]: projection snapshots, results per
//! algorithm, the problem log and the matrix slot, in the tables of the
//! `*_engine_state` migrations.
//!
//! Every write runs in the backend's own write transaction (SQLite
//! `BEGIN IMMEDIATE` on the writer connection, PostgreSQL READ COMMITTED
//! with retries), so a course commit moves the consumer watermark in the
//! same transaction as the state and result rows. The watermark is raised
//! with a conditional update that locks its row: of two concurrent commits
//! of one course, the second sees the first and reports `Stale`.
//!
//! The engine's own progress (course commits, ecosystem states, matrices,
//! wake-ups) is derived data: it commits without waiting for the disk
//! (`store_write!` with `write_derived`). A crash can only take the newest of those commits
//! back, together with their watermark, and the engine redoes them from the
//! log. Results pushed by clients (`upsert_external`) stay fully durable.
//!
//! The pure rules ([`biglearn_core::engine_store::rules`]) run inside the
//! transaction; when they reject a call, the rejection is kept aside, the
//! transaction is rolled back, and the caller gets the rejection.

mod conv;
mod refit_schema;
mod upsert;

use std::cell::RefCell;

use biglearn_core::engine_store::{
    ClueKey, ClueResult, CommitOutcome, CourseCommit, CourseExtras, CourseSchedule, CourseSnapshot,
    EngineStore, EngineStoreError, ExerciseKey, ExerciseResult, ExternalUpdate, GroupedCommit,
    MatrixSlot, ProblemLog, ResultWrite, Snapshot, StateBlob,
};

use biglearn_core::gradebook::FitResponse;
use biglearn_core::ids::{CourseId, EcosystemId, EcosystemMatrixId, ExerciseGroupId};
use biglearn_core::log::{ConsumerName, StoreError};
use biglearn_core::time::Instant;

use crate::error::TxError;
use crate::store::{Backend, SqlStore};
use conv::QueryError;

/// The engine queries, compiled for SQLite.
mod sqlite_queries {
    /// The connection type the shared queries run on.
    type Conn = diesel::SqliteConnection;
    include!("shared_queries.rs");
    include!("refit_queries.rs");
}

/// The engine queries, compiled for PostgreSQL.
mod pg_queries {
    /// The connection type the shared queries run on.
    type Conn = diesel::PgConnection;
    include!("shared_queries.rs");
    include!("refit_queries.rs");
}

/// How long a group of course commits keeps SQLite's single writer while
/// an event append waits for it. Measured at 1,500 and 3,000 responses/s
/// (README, load figures): yielding at once left groups of one or two
/// courses under load, and the engine fell behind as before; never yielding
/// made appends wait for whole steps (latency p99 above 100 ms); 2 ms
/// keeps most of the grouping and adds a few milliseconds to an append.
const GROUP_HOLD_BEFORE_YIELDING: std::time::Duration = std::time::Duration::from_millis(2);

/// Turns a rejection into a rollback, keeping the rejection in `rejected`.
fn rollback_on_rejection<T>(
    rejected: &RefCell<Option<EngineStoreError>>,
    result: Result<T, QueryError>,
) -> Result<T, TxError> {
    match result {
        Ok(value) => Ok(value),
        Err(QueryError::Tx(error)) => Err(error),
        Err(QueryError::Rejected(error)) => {
            *rejected.borrow_mut() = Some(error);
            Err(TxError::Db(diesel::result::Error::RollbackTransaction))
        }
    }
}

/// The caller's answer: the kept rejection if the rules rejected the call,
/// else the backend's result.
fn finish<T>(
    rejected: RefCell<Option<EngineStoreError>>,
    result: Result<T, StoreError>,
) -> Result<T, EngineStoreError> {
    match (result, rejected.into_inner()) {
        (Err(_), Some(rejection)) => Err(rejection),
        (result, _) => Ok(result?),
    }
}

/// Runs a shared write query in a write transaction of the backend's
/// `$method`: `write` (fully durable) or `write_derived` (the engine's own
/// progress, which the event log can rebuild: no wait for the disk).
macro_rules! store_write {
    ($store:expr, $method:ident, $operation:literal, $call:ident($($arg:expr),* $(,)?)) => {{
        let rejected = RefCell::new(None);
        let result = match &$store.backend {
            Backend::Sqlite(b) => b.$method($operation, |conn| {
                rollback_on_rejection(&rejected, sqlite_queries::$call(conn, $($arg),*))
            }),
            Backend::Postgres(b) => b.$method($operation, |conn| {
                rollback_on_rejection(&rejected, pg_queries::$call(conn, $($arg),*))
            }),
        };
        finish(rejected, result)
    }};
}

/// Runs a shared read query in the backend's read transaction.
macro_rules! engine_read {
    ($store:expr, $operation:literal, $call:ident($($arg:expr),* $(,)?)) => {
        match &$store.backend {
            Backend::Sqlite(b) => b.read($operation, |conn| sqlite_queries::$call(conn, $($arg),*)),
            Backend::Postgres(b) => b.read($operation, |conn| pg_queries::$call(conn, $($arg),*)),
        }
    };
}

impl EngineStore for SqlStore {
    fn course_state(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<CourseSnapshot>, StoreError> {
        engine_read!(
            self,
            "reading a course state",
            course_state(consumer, course)
        )
    }

    fn commit_course_progress(
        &self,
        commit: &CourseCommit,
    ) -> Result<CommitOutcome, EngineStoreError> {
        store_write!(
            self,
            write_derived,
            "committing course progress",
            commit_course(commit)
        )
    }

    fn write_results(&self, writes: &[ResultWrite]) -> Result<(), EngineStoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        store_write!(self, write, "writing results", write_results(writes))
    }

    fn ecosystem_state(&self, ecosystem: EcosystemId) -> Result<Option<Snapshot>, StoreError> {
        engine_read!(
            self,
            "reading an ecosystem state",
            ecosystem_state(ecosystem)
        )
    }

    fn save_ecosystem_state(
        &self,
        ecosystem: EcosystemId,
        snapshot: &Snapshot,
    ) -> Result<CommitOutcome, EngineStoreError> {
        store_write!(
            self,
            write_derived,
            "saving an ecosystem state",
            save_ecosystem_state(ecosystem, snapshot)
        )
    }

    fn exercise_results(
        &self,
        keys: &[ExerciseKey],
    ) -> Result<Vec<Option<ExerciseResult>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        engine_read!(self, "reading exercise results", exercise_results(keys))
    }

    fn clue_results(&self, keys: &[ClueKey]) -> Result<Vec<Option<ClueResult>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        engine_read!(self, "reading CLUEs", clue_results(keys))
    }

    fn upsert_external(&self, updates: &[ExternalUpdate]) -> Result<(), EngineStoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        store_write!(
            self,
            write,
            "upserting external results",
            upsert_external(updates)
        )
    }

    fn course_problems(&self, course: CourseId, max: usize) -> Result<ProblemLog, StoreError> {
        engine_read!(
            self,
            "reading course problems",
            course_problems(course, max)
        )
    }

    fn matrix(&self, ecosystem: EcosystemId) -> Result<Option<MatrixSlot>, StoreError> {
        engine_read!(self, "reading a matrix", matrix(ecosystem))
    }

    fn save_matrix(
        &self,
        ecosystem: EcosystemId,
        slot: &MatrixSlot,
    ) -> Result<(), EngineStoreError> {
        store_write!(
            self,
            write_derived,
            "saving a matrix",
            save_matrix(ecosystem, slot)
        )
    }

    fn commit_course_with(
        &self,
        commit: &CourseCommit,
        extras: &CourseExtras,
    ) -> Result<CommitOutcome, EngineStoreError> {
        store_write!(
            self,
            write_derived,
            "committing course progress",
            commit_course_with(commit, extras)
        )
    }

    fn commit_course_recalc(
        &self,
        commit: &CourseCommit,
        extras: &CourseExtras,
    ) -> Result<CommitOutcome, EngineStoreError> {
        store_write!(
            self,
            write_derived,
            "committing a course recalculation",
            commit_course_recalc(commit, extras)
        )
    }

    fn commit_courses(
        &self,
        commits: &[GroupedCommit<'_>],
    ) -> Result<Vec<CommitOutcome>, EngineStoreError> {
        if commits.is_empty() {
            return Ok(Vec::new());
        }
        // SQLite has one writer: once a group has held it for
        // `GROUP_HOLD_BEFORE_YIELDING`, it gives way to a waiting event
        // append after the course it is committing. PostgreSQL appends do
        // not wait for it.
        let rejected = RefCell::new(None);
        let result = match &self.backend {
            Backend::Sqlite(b) => b.write_derived("committing courses", |conn| {
                let started = std::time::Instant::now();
                let waiting =
                    || started.elapsed() >= GROUP_HOLD_BEFORE_YIELDING && b.appends_waiting();
                rollback_on_rejection(
                    &rejected,
                    sqlite_queries::commit_courses(conn, commits, &waiting),
                )
            }),
            Backend::Postgres(b) => b.write_derived("committing courses", |conn| {
                rollback_on_rejection(
                    &rejected,
                    pg_queries::commit_courses(conn, commits, &|| false),
                )
            }),
        };
        finish(rejected, result)
    }

    fn course_schedule(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<CourseSchedule>, StoreError> {
        engine_read!(
            self,
            "reading a course schedule",
            course_schedule(consumer, course)
        )
    }

    fn due_courses(
        &self,
        consumer: &ConsumerName,
        now: Instant,
        max: usize,
    ) -> Result<Vec<CourseId>, StoreError> {
        engine_read!(self, "listing due courses", due_courses(consumer, now, max))
    }

    fn wake_courses_using(
        &self,
        ecosystem: EcosystemId,
        at: Instant,
    ) -> Result<usize, EngineStoreError> {
        store_write!(
            self,
            write_derived,
            "waking the courses of an ecosystem",
            wake_courses_using(ecosystem, at)
        )
    }

    fn group_counts(&self, groups: &[ExerciseGroupId]) -> Result<Vec<u64>, StoreError> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        engine_read!(self, "reading group counts", group_counts(groups))
    }

    fn fit_responses(&self, ecosystem: EcosystemId) -> Result<Vec<FitResponse>, StoreError> {
        engine_read!(self, "reading fitting responses", fit_responses(ecosystem))
    }

    fn refit_thresholds(&self, ecosystem: EcosystemId) -> Result<Option<StateBlob>, StoreError> {
        engine_read!(
            self,
            "reading refit thresholds",
            refit_thresholds(ecosystem)
        )
    }

    fn matrix_id(&self, ecosystem: EcosystemId) -> Result<Option<EcosystemMatrixId>, StoreError> {
        engine_read!(self, "reading a matrix uuid", matrix_id(ecosystem))
    }

    fn save_refit(
        &self,
        ecosystem: EcosystemId,
        slot: &MatrixSlot,
        thresholds: &StateBlob,
    ) -> Result<(), EngineStoreError> {
        store_write!(
            self,
            write_derived,
            "saving a refit",
            save_refit(ecosystem, slot, thresholds)
        )
    }
}
