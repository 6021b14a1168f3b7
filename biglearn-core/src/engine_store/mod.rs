//! Storage for the engine (issue 4): projection snapshots, results per
//! algorithm, and the consumer watermark, written together.
//!
//! The engine takes a course bundle from [`BundleLog::next_bundles`], loads
//! the course state ([`EngineStore::course_state`]), applies the events,
//! recalculates what they made dirty, and then stores the new state, the
//! result changes and the problems found **and** raises its watermark in one
//! transaction ([`EngineStore::commit_course_progress`]). A commit at or below
//! the stored watermark is a no-op reporting [`CommitOutcome::Stale`], so a
//! bundle redelivered after a crash has no duplicated effect.
//!
//! The HTTP server reads results keyed as api.md §5.7–§5.9 asks
//! ([`EngineStore::exercise_results`], [`EngineStore::clue_results`], in
//! request order) and stores what external algorithms push
//! ([`EngineStore::upsert_external`], last write wins, A4/A10 conflicts).
//!
//! States and models are opaque [`StateBlob`]s: the engine serialises the
//! projection types; storage never depends on them. [`rules`] holds the pure
//! checks every backend runs inside its write transaction.

mod parts;
mod refit;
pub mod rules;
mod types;

pub use parts::*;
pub use refit::*;
pub use types::*;

use crate::gradebook::FitResponse;
use crate::ids::{CourseId, EcosystemId, EcosystemMatrixId, ExerciseGroupId, RequestId};
use crate::log::{BundleLog, ConsumerName, SequenceNumber, StoreError};
use crate::time::Instant;

/// Why an engine-store write did not land (nothing of it was stored).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineStoreError {
    /// The backend failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Two items of one call write the same key (A10: a 400 naming both
    /// positions).
    #[error("items[{first}] and items[{second}] both write {key}")]
    DuplicateTarget {
        /// Position of the first item.
        first: usize,
        /// Position of the second item.
        second: usize,
        /// The key both write.
        key: String,
    },
    /// An update_* item's request uuid is already the uuid of another row
    /// (A4: a 422).
    #[error("items[{index}]: request_uuid {request_uuid} is already used by {holder}")]
    RequestUuidConflict {
        /// Position of the rejected item.
        index: usize,
        /// The contested uuid.
        request_uuid: RequestId,
        /// The row (or earlier item, "items[i]: …") holding it.
        holder: String,
    },
    /// A CLUE with a NaN or infinite number.
    #[error("items[{index}]: {key} has non-finite clue_data numbers")]
    NonFiniteClue {
        /// Position of the item.
        index: usize,
        /// The key written.
        key: String,
    },
    /// A commit claims events the course stream does not hold contiguously.
    #[error("course {course}: cannot commit through {through}, the stream is contiguous only through {contiguous}")]
    BeyondContiguousHead {
        /// The course.
        course: CourseId,
        /// The commit's `through`.
        through: SequenceNumber,
        /// The stream's contiguous head ("nothing" when none).
        contiguous: String,
    },
    /// A number does not fit its storage column.
    #[error("{what} = {value} is larger than {max}", max = i64::MAX)]
    OutOfRange {
        /// Which value.
        what: &'static str,
        /// The value.
        value: u64,
    },
}

/// Storage of the engine's states and results. Sync, object-safe,
/// `Send + Sync`; every write is one transaction.
pub trait EngineStore: BundleLog {
    /// The course state `consumer` committed last, if any: its head and
    /// every part.
    fn course_state(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<CourseSnapshot>, StoreError>;

    /// In one transaction: raises `commit.consumer`'s watermark for
    /// `commit.course` to `commit.through`, replaces the course state's
    /// head, stores or deletes `commit.parts`, applies `commit.writes` in
    /// order and appends `commit.problems`.
    /// When `through` is at or below the stored watermark nothing is stored
    /// and [`CommitOutcome::Stale`] is returned. An error stores nothing.
    fn commit_course_progress(
        &self,
        commit: &CourseCommit,
    ) -> Result<CommitOutcome, EngineStoreError>;

    /// Applies the engine's own result changes atomically, without touching
    /// any watermark (e.g. recalculations after a matrix refit, F4).
    fn write_results(&self, writes: &[ResultWrite]) -> Result<(), EngineStoreError>;

    /// The stored state of `ecosystem`, if any.
    fn ecosystem_state(&self, ecosystem: EcosystemId) -> Result<Option<Snapshot>, StoreError>;

    /// Stores an ecosystem state unless the stored one is further along:
    /// a lower `through` is [`CommitOutcome::Stale`]; an equal one replaces
    /// the blob (a state is a function of its events, so re-saving it, e.g.
    /// in a newer format, is harmless).
    fn save_ecosystem_state(
        &self,
        ecosystem: EcosystemId,
        snapshot: &Snapshot,
    ) -> Result<CommitOutcome, EngineStoreError>;

    /// The stored results for `keys`, one per key, in request order.
    fn exercise_results(
        &self,
        keys: &[ExerciseKey],
    ) -> Result<Vec<Option<ExerciseResult>>, StoreError>;

    /// The stored CLUEs for `keys`, one per key, in request order.
    fn clue_results(&self, keys: &[ClueKey]) -> Result<Vec<Option<ClueResult>>, StoreError>;

    /// Upserts the items of one update_* call atomically (api.md §5.8,
    /// §5.9). Rejected as a whole when two items write the same key
    /// ([`EngineStoreError::DuplicateTarget`]) or an item's request uuid is
    /// held by another row or item of its kind
    /// ([`EngineStoreError::RequestUuidConflict`]).
    fn upsert_external(&self, updates: &[ExternalUpdate]) -> Result<(), EngineStoreError>;

    /// How many problems were recorded for `course`, and the latest `max`
    /// of them, oldest first.
    fn course_problems(&self, course: CourseId, max: usize) -> Result<ProblemLog, StoreError>;

    /// The fitted matrix of `ecosystem`, if any.
    fn matrix(&self, ecosystem: EcosystemId) -> Result<Option<MatrixSlot>, StoreError>;

    /// The uuid of `ecosystem`'s fitted matrix, if any (without reading the
    /// model, so readers can keep decoded matrices while it is unchanged).
    fn matrix_id(&self, ecosystem: EcosystemId) -> Result<Option<EcosystemMatrixId>, StoreError> {
        Ok(self.matrix(ecosystem)?.map(|slot| slot.matrix_uuid))
    }

    /// Replaces the fitted matrix of `ecosystem`.
    fn save_matrix(
        &self,
        ecosystem: EcosystemId,
        slot: &MatrixSlot,
    ) -> Result<(), EngineStoreError>;

    /// [`EngineStore::commit_course_progress`] that also stores `extras`
    /// in the same transaction: fitting responses (earlier ones replace
    /// later ones), group-count increases and the course's schedule. A stale
    /// commit stores none of it, so a redelivered bundle counts nothing twice.
    fn commit_course_with(
        &self,
        commit: &CourseCommit,
        extras: &CourseExtras,
    ) -> Result<CommitOutcome, EngineStoreError>;

    /// Stores a recalculation made without new events (a wake-up or a new
    /// matrix): state, writes, problems and `extras` land only when the
    /// consumer's watermark equals `commit.through`, which does not move;
    /// otherwise nothing is stored and [`CommitOutcome::Stale`] carries the
    /// stored watermark (zero when there is none).
    fn commit_course_recalc(
        &self,
        commit: &CourseCommit,
        extras: &CourseExtras,
    ) -> Result<CommitOutcome, EngineStoreError>;

    /// Stores course commits in order, each checked as its [`CommitKind`]
    /// says, and returns the outcome of each one stored, as if each had
    /// been stored alone by [`EngineStore::commit_course_with`] or
    /// [`EngineStore::commit_course_recalc`]. It may store only the first
    /// few (at least one when `commits` is not empty); the caller stores
    /// the rest with another call.
    ///
    /// An engine step commits the bundles of many courses; a store that
    /// pays a fixed price per transaction (SQLite writes every changed page
    /// to its log at each commit) stores several in one transaction, and
    /// then an error stores none of them; SQLite ends the transaction early
    /// when an event append waits for its single writer. This default
    /// stores them all, one by one, and stops at the first error.
    fn commit_courses(
        &self,
        commits: &[GroupedCommit<'_>],
    ) -> Result<Vec<CommitOutcome>, EngineStoreError> {
        commits
            .iter()
            .map(|grouped| grouped.store_alone(self))
            .collect()
    }

    /// The schedule `consumer` committed last for `course`.
    fn course_schedule(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<CourseSchedule>, StoreError>;

    /// Up to `max` courses of `consumer` whose wake-up is at or before `now`,
    /// earliest first (ties by course uuid).
    fn due_courses(
        &self,
        consumer: &ConsumerName,
        now: Instant,
        max: usize,
    ) -> Result<Vec<CourseId>, StoreError>;

    /// Brings the wake-up of every course (of every consumer) whose schedule
    /// lists `ecosystem` forward to `at` (a new matrix, S1 fix 10); returns
    /// how many schedules moved.
    fn wake_courses_using(
        &self,
        ecosystem: EcosystemId,
        at: Instant,
    ) -> Result<usize, EngineStoreError>;

    /// The real-response count of each group, in request order (0 when none).
    fn group_counts(&self, groups: &[ExerciseGroupId]) -> Result<Vec<u64>, StoreError>;

    /// Every stored first real response of `ecosystem`, sorted by
    /// (student, exercise).
    fn fit_responses(&self, ecosystem: EcosystemId) -> Result<Vec<FitResponse>, StoreError>;

    /// The refit thresholds saved with `ecosystem`'s matrix, if any.
    fn refit_thresholds(&self, ecosystem: EcosystemId) -> Result<Option<StateBlob>, StoreError>;

    /// Replaces `ecosystem`'s matrix and refit thresholds together.
    fn save_refit(
        &self,
        ecosystem: EcosystemId,
        slot: &MatrixSlot,
        thresholds: &StateBlob,
    ) -> Result<(), EngineStoreError>;

    /// One stored result (see [`EngineStore::exercise_results`]).
    fn exercise_result(&self, key: &ExerciseKey) -> Result<Option<ExerciseResult>, StoreError> {
        Ok(self
            .exercise_results(std::slice::from_ref(key))?
            .into_iter()
            .next()
            .flatten())
    }

    /// One stored CLUE (see [`EngineStore::clue_results`]).
    fn clue_result(&self, key: &ClueKey) -> Result<Option<ClueResult>, StoreError> {
        Ok(self
            .clue_results(std::slice::from_ref(key))?
            .into_iter()
            .next()
            .flatten())
    }
}
