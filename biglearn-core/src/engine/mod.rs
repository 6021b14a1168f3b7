//! The engine step (issue 4): from event bundles to stored results.
//!
//! One [`Engine::step`] call, for one consumer name:
//!
//! 1. brings the ecosystem states up to date ([`ecosystems`]): every
//!    ecosystem stream listed by the store's metadata is read past its
//!    stored snapshot, applied ([`EcosystemState::apply`]) and saved;
//! 2. takes the next course bundles ([`crate::log::BundleLog::next_bundles`]); for each,
//!    loads the course state the consumer committed last, applies the events
//!    in order against the ecosystem catalog and collects the dirty markers
//!    of scheduler.md §1.6 ([`CourseChanges`]), remembering for every target
//!    the sequence number of the last event that dirtied it;
//! 3. recalculates the dirty results with both built-in algorithms
//!    ([`recalc`]): PEs and SPEs per assignment, practice worst areas per
//!    student, student CLUEs per (student, book container) and teacher CLUEs
//!    per (course container, book container);
//! 4. stores the new state, the result writes and the problems found, and
//!    raises the watermark, all in one
//!    [`EngineStore::commit_course_progress`].
//!
//! A crash between bundles redelivers the uncommitted bundle; a commit at or
//! below the stored watermark is a no-op, so nothing is applied twice.
//! Calculation uuids are derived from stable ids (S2): the target's ids and
//! the sequence number of the event that last dirtied it ("calculation uuid
//! as version", scheduler.md §1.5), so they do not depend on how the events
//! were cut into bundles. Time enters only through the `now` argument.
//!
//! ```
//! use biglearn_core::engine::Engine;
//! use biglearn_core::log::{BundleLimits, ConsumerName};
//! use biglearn_core::memory::MemoryStore;
//! use biglearn_core::time::Instant;
//!
//! let store = MemoryStore::new();
//! let consumer = ConsumerName::new("scheduler").unwrap();
//! let mut engine = Engine::new(consumer, BundleLimits::default());
//! let report = engine.step(&store, Instant::from_micros(0)).unwrap();
//! assert!(report.is_idle()); // nothing appended yet
//! ```
//!
//! Besides bundles, results change when time passes a feedback or due date
//! and when a matrix is refitted ([`wake`]): every commit stores the
//! course's next wake-up and ecosystems, and each step also recalculates the
//! courses whose wake-up passed ([`Engine::wake_due`]). Refits (F4) run
//! outside the step ([`Engine::pending_refits`], [`Engine::refit`],
//! [`refit::refit_ecosystem`]) and wake the courses they affect.

pub mod algs;
pub mod catch_up;
mod clue_owner;
mod course;
pub mod ecosystems;
pub mod parts;
mod pending;
pub mod recalc;
pub mod refit;
mod state;
pub mod wake;

pub use refit::{RefitError, RefitReport};
pub use state::EngineCourseState;

use std::collections::BTreeMap;

use crate::engine_store::{
    CommitKind, CourseCommit, EngineStore, EngineStoreError, RecordedProblem, ResultWrite,
};
use crate::ids::{AssignmentId, CourseContainerId, CourseId, StudentId};
use crate::log::{Bundle, BundleLimits, ConsumerName, SequenceNumber, StoreError};
use crate::projection::{AnsweredExercise, BlobError, CourseChanges, EcosystemState, Problem};
use crate::time::Instant;
pub use course::DEFAULT_CACHE_BYTES;
use course::{calculate, failure_problems, BundleExtras, CachedCourse, CourseCache};
use parts::StoredParts;
use pending::PendingCommit;

use ecosystems::EcosystemCache;

/// Why an engine step stopped (the failing bundle was not committed and is
/// redelivered by the next step).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed while reading.
    #[error("engine step for consumer {}: {source}", consumer.as_str())]
    Store {
        /// The consumer.
        consumer: ConsumerName,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// A write was refused by the store.
    #[error("engine step for consumer {}: writing {what} failed: {source}", consumer.as_str())]
    Write {
        /// The consumer.
        consumer: ConsumerName,
        /// What was being written.
        what: String,
        /// The store's error.
        #[source]
        source: EngineStoreError,
    },
    /// A stored state blob could not be read or written.
    #[error("engine step for consumer {}: state of {what}: {source}", consumer.as_str())]
    Blob {
        /// The consumer.
        consumer: ConsumerName,
        /// Whose state.
        what: String,
        /// The blob error.
        #[source]
        source: BlobError,
    },
}

/// What one [`Engine::step`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Ecosystem states (re)built and saved.
    pub ecosystems_saved: usize,
    /// Course bundles committed.
    pub bundles_committed: usize,
    /// Course bundles whose commit was stale (already committed).
    pub bundles_stale: usize,
    /// Events applied (committed bundles only).
    pub events_applied: usize,
    /// Result rows written or deleted.
    pub result_writes: usize,
    /// Problems recorded.
    pub problems: usize,
    /// Courses recalculated at their wake-up (dates passed, new matrix).
    pub courses_recalculated: usize,
    /// Students, assignments and course containers (in the units of
    /// [`catch_up::container_cost`]) recalculated for a new matrix.
    pub matrix_catch_up_units: usize,
    /// Bytes of course state (head and parts) written.
    pub state_bytes_written: usize,
}

impl StepReport {
    /// Whether the step found nothing to do.
    pub fn is_idle(&self) -> bool {
        self.ecosystems_saved == 0
            && self.bundles_committed == 0
            && self.bundles_stale == 0
            && self.courses_recalculated == 0
    }
}

/// The engine of one consumer: its name, bundle limits and caches of the
/// ecosystem states, decoded matrices and course states. Pure: no threads,
/// no clock (time is an argument).
///
/// The course cache assumes this engine is the only writer of its
/// consumer's course states (a cached state is used while the watermark is
/// the one it committed).
#[derive(Debug)]
pub struct Engine {
    consumer: ConsumerName,
    limits: BundleLimits,
    ecosystems: EcosystemCache,
    matrices: algs::MatrixCache,
    courses: CourseCache,
    /// Courses whose last commit left a matrix catch-up to do.
    catching_up: std::collections::BTreeSet<CourseId>,
}

/// The dirty targets of one bundle, each with the sequence number of the
/// last event that dirtied it (scheduler.md §1.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dirty {
    /// Assignments whose PEs/SPEs must be recalculated.
    pub assignments: BTreeMap<AssignmentId, SequenceNumber>,
    /// Students whose practice worst areas must be recalculated.
    pub worst_areas: BTreeMap<StudentId, SequenceNumber>,
    /// Students whose CLUEs must be recalculated.
    pub student_clues: BTreeMap<StudentId, SequenceNumber>,
    /// Course containers whose teacher CLUEs must be recalculated.
    pub teacher_clues: BTreeMap<CourseContainerId, SequenceNumber>,
    /// Students whose CLUEs on the containers that these answered
    /// exercises count for must be recalculated, each answer with the
    /// sequence number of the last event that changed it.
    pub student_answers: BTreeMap<StudentId, BTreeMap<AnsweredExercise, SequenceNumber>>,
    /// The same for teacher CLUEs, per course container.
    pub teacher_answers: BTreeMap<CourseContainerId, BTreeMap<AnsweredExercise, SequenceNumber>>,
    /// Targets a new matrix made dirty: only their `biglearn_sparfa` rows
    /// depend on it (unless another mark names them too).
    pub matrix: MatrixMarks,
    /// Students whose CLUE rows in the prepared ecosystem only must be
    /// (pre)computed: a preparation arrived (S1 fix 11).
    pub prepared_student_clues: BTreeMap<StudentId, SequenceNumber>,
    /// Course containers whose teacher CLUE rows in the prepared ecosystem
    /// only must be (pre)computed (S1 fix 11).
    pub prepared_teacher_clues: BTreeMap<CourseContainerId, SequenceNumber>,
}

/// What a new matrix makes dirty, each with the sequence number it is
/// calculated at ([`catch_up::MatrixCatchUp`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatrixMarks {
    /// Students whose `biglearn_sparfa` CLUEs must be recalculated.
    pub student_clues: BTreeMap<StudentId, SequenceNumber>,
    /// Course containers whose `biglearn_sparfa` teacher CLUEs must be
    /// recalculated.
    pub teacher_clues: BTreeMap<CourseContainerId, SequenceNumber>,
    /// Students whose `biglearn_sparfa` worst areas must be recalculated.
    pub worst_areas: BTreeMap<StudentId, SequenceNumber>,
}

impl Dirty {
    /// Marks the targets of `changes` as dirtied by the event at `at`.
    pub fn mark(&mut self, changes: &CourseChanges, at: SequenceNumber) {
        for id in &changes.assignment_exercises {
            self.assignments.insert(*id, at);
        }
        for id in &changes.worst_areas {
            self.worst_areas.insert(*id, at);
        }
        for id in &changes.student_clues {
            self.student_clues.insert(*id, at);
        }
        for id in &changes.teacher_clues {
            self.teacher_clues.insert(*id, at);
        }
        for (id, answers) in &changes.student_answers {
            let marks = self.student_answers.entry(*id).or_default();
            marks.extend(answers.iter().map(|a| (*a, at)));
        }
        for (id, answers) in &changes.teacher_answers {
            let marks = self.teacher_answers.entry(*id).or_default();
            marks.extend(answers.iter().map(|a| (*a, at)));
        }
    }

    /// Marks the targets of `changes`, made by a new matrix, as dirty for
    /// the algorithm that reads the matrix; assignments are marked whole
    /// (an assignment's SPEs avoid the PEs of every algorithm).
    pub fn mark_matrix(&mut self, changes: &CourseChanges, at: SequenceNumber) {
        for id in &changes.assignment_exercises {
            self.assignments.insert(*id, at);
        }
        for id in &changes.worst_areas {
            self.matrix.worst_areas.insert(*id, at);
        }
        for id in &changes.student_clues {
            self.matrix.student_clues.insert(*id, at);
        }
        for id in &changes.teacher_clues {
            self.matrix.teacher_clues.insert(*id, at);
        }
    }

    /// Marks the prepared-ecosystem CLUE rows of every student and course
    /// container of `course` when `changes` holds a preparation (S1 fix 11);
    /// the current rows keep their calculations.
    pub fn mark_preparations(
        &mut self,
        course: &crate::projection::CourseState,
        changes: &CourseChanges,
        at: SequenceNumber,
    ) {
        if changes.preparations.is_empty() {
            return;
        }
        for id in course.students.keys() {
            self.prepared_student_clues.insert(*id, at);
        }
        for id in course.containers.keys() {
            self.prepared_teacher_clues.insert(*id, at);
        }
    }
}

impl Engine {
    /// An engine consuming bundles as `consumer`, caching up to
    /// [`DEFAULT_CACHE_BYTES`] of course states.
    pub fn new(consumer: ConsumerName, limits: BundleLimits) -> Self {
        Engine::with_cache_bytes(consumer, limits, DEFAULT_CACHE_BYTES)
    }

    /// An engine whose course-state cache holds about `cache_bytes` (an
    /// estimate of the decoded states' heap size); least recently used
    /// courses are evicted first and reloaded from the store when needed.
    pub fn with_cache_bytes(
        consumer: ConsumerName,
        limits: BundleLimits,
        cache_bytes: usize,
    ) -> Self {
        Engine {
            consumer,
            limits,
            ecosystems: EcosystemCache::default(),
            matrices: algs::MatrixCache::default(),
            courses: CourseCache::with_budget(cache_bytes),
            catching_up: std::collections::BTreeSet::new(),
        }
    }

    /// How many course states are cached, and their estimated bytes.
    pub fn cache_usage(&self) -> (usize, usize) {
        self.courses.usage()
    }

    /// How many courses this engine committed last with part of their
    /// results still from an older matrix ([`catch_up`]); courses stored so
    /// by an earlier process are counted once they are woken.
    pub fn courses_catching_up(&self) -> usize {
        self.catching_up.len()
    }

    /// Records whether `course`'s committed state owes a catch-up.
    fn note_catch_up(&mut self, course: CourseId, state: &EngineCourseState) {
        if state.matrix_catch_up.is_some() {
            self.catching_up.insert(course);
        } else {
            self.catching_up.remove(&course);
        }
    }

    /// The consumer name.
    pub fn consumer(&self) -> &ConsumerName {
        &self.consumer
    }

    /// The cached state of an ecosystem, if it was seen.
    pub fn ecosystem(&self, id: crate::ids::EcosystemId) -> Option<&EcosystemState> {
        self.ecosystems.get(id)
    }

    fn store_error(&self, source: StoreError) -> EngineError {
        EngineError::Store {
            consumer: self.consumer.clone(),
            source,
        }
    }

    /// One step: syncs ecosystems, processes and commits the next course
    /// bundles (see the module docs; up to [`pending::COMMITS_PER_TRANSACTION`]
    /// courses per store transaction), then recalculates the courses whose
    /// wake-up passed ([`Engine::wake_due`]), with less catch-up for new
    /// matrices the more events the step applied
    /// ([`catch_up::catch_up_budget`]). `now` is the time the
    /// calculations are made at (anti-cheating, histories, CLUE visibility).
    pub fn step(
        &mut self,
        store: &impl EngineStore,
        now: Instant,
    ) -> Result<StepReport, EngineError> {
        let mut report = StepReport {
            ecosystems_saved: self.ecosystems.sync(store, &self.consumer)?,
            ..StepReport::default()
        };
        let bundles = store
            .next_bundles(&self.consumer, self.limits)
            .map_err(|e| self.store_error(e))?;
        self.prepare_and_store(
            store,
            bundles.iter().map(|bundle| (bundle.course, bundle)),
            &mut report,
            || false,
            |engine, bundle| engine.prepare_bundle(store, bundle, now),
        )?;
        let budget = catch_up::catch_up_budget(report.events_applied);
        self.wake_due_within(store, now, budget, &mut report)?;
        Ok(report)
    }

    /// Steps until a step finds nothing to do; returns the summed report.
    /// Stops after `max_steps` steps at most.
    pub fn run_until_idle(
        &mut self,
        store: &impl EngineStore,
        now: Instant,
        max_steps: usize,
    ) -> Result<StepReport, EngineError> {
        let mut total = StepReport::default();
        for _ in 0..max_steps {
            let report = self.step(store, now)?;
            if report.is_idle() {
                break;
            }
            total.ecosystems_saved += report.ecosystems_saved;
            total.bundles_committed += report.bundles_committed;
            total.bundles_stale += report.bundles_stale;
            total.events_applied += report.events_applied;
            total.result_writes += report.result_writes;
            total.problems += report.problems;
            total.courses_recalculated += report.courses_recalculated;
            total.matrix_catch_up_units += report.matrix_catch_up_units;
            total.state_bytes_written += report.state_bytes_written;
        }
        Ok(total)
    }

    /// Processes one course bundle and commits it (step 2–4 of the module
    /// docs), adding what it did to `report`. A bundle that was committed
    /// already (e.g. redelivered after a crash) is a no-op counted in
    /// [`StepReport::bundles_stale`]. Ecosystems are not synced here: call
    /// [`Engine::step`] for that.
    pub fn process_bundle(
        &mut self,
        store: &impl EngineStore,
        bundle: &Bundle,
        now: Instant,
        report: &mut StepReport,
    ) -> Result<(), EngineError> {
        match self.prepare_bundle(store, bundle, now)? {
            Some(pending) => self.store_commit(store, pending, report),
            None => Ok(()),
        }
    }

    /// Applies a bundle and recalculates (step 2–3 of the module docs): the
    /// commit to store, or `None` for an empty bundle.
    fn prepare_bundle(
        &mut self,
        store: &impl EngineStore,
        bundle: &Bundle,
        now: Instant,
    ) -> Result<Option<PendingCommit>, EngineError> {
        let Some(through) = bundle.last_sequence_number() else {
            return Ok(None);
        };
        let course_name = format!("course {}", bundle.course);
        let first = bundle.events.first().map(|e| e.sequence_number);
        let previous = first
            .and_then(|f| f.get().checked_sub(1))
            .and_then(|p| SequenceNumber::new(p).ok());
        let mut cached = match self.courses.take(bundle.course, previous) {
            Some(cached) => cached,
            None => self
                .load_course(store, bundle.course, &course_name)?
                .unwrap_or_else(|| CachedCourse {
                    through: SequenceNumber::ZERO,
                    state: EngineCourseState::new(bundle.course),
                    stored: StoredParts::default(),
                    schedule: None,
                }),
        };
        let state = &mut cached.state;
        let problems_before = state.course.problems.items.len();
        let dropped_before = state.course.problems.dropped;
        let mut dirty = Dirty::default();
        let mut extras = BundleExtras::default();
        for event in &bundle.events {
            let changes = state.course.apply(event, self.ecosystems.catalog());
            dirty.mark(&changes, event.sequence_number);
            dirty.mark_preparations(&state.course, &changes, event.sequence_number);
            extras.add(&changes);
        }
        let mut problems: Vec<RecordedProblem> =
            new_problems(&state.course.problems, problems_before, dropped_before)
                .map(recorded)
                .collect();
        let last_type = bundle
            .events
            .last()
            .map_or_else(String::new, |e| e.event_type.to_string());
        let (outcome, schedule) = calculate(
            store,
            &self.ecosystems,
            &mut self.matrices,
            state,
            dirty,
            through,
            now,
            None,
            // Bundles go first: a new matrix is caught up with by wake-ups.
            &mut 0,
        )
        .map_err(|e| self.store_error(e))?;
        problems.extend(failure_problems(outcome.failures, through, &last_type));
        let commit = self.course_commit(
            bundle.course,
            through,
            &mut cached,
            &course_name,
            outcome.writes,
            problems,
        )?;
        // The stored schedule changes only through this engine, except that
        // a refit makes the courses using its ecosystem due; their wake-up
        // commit (which always writes the schedule) puts it right.
        let changed = cached.schedule.as_ref() != Some(&schedule);
        let extras = extras.into_extras(changed.then_some(schedule));
        Ok(Some(PendingCommit {
            kind: CommitKind::Progress,
            course: bundle.course,
            name: course_name,
            cached,
            commit,
            extras,
            events: bundle.events.len(),
            catch_up_units: 0,
        }))
    }

    /// Loads the course state this consumer committed last, if any. The
    /// course-wide parts count as not stored, so the first commit after a
    /// load rewrites them (cheap, and always correct).
    fn load_course(
        &self,
        store: &impl EngineStore,
        course: CourseId,
        course_name: &str,
    ) -> Result<Option<CachedCourse>, EngineError> {
        let Some(snapshot) = store
            .course_state(&self.consumer, course)
            .map_err(|e| self.store_error(e))?
        else {
            return Ok(None);
        };
        let state = EngineCourseState::from_snapshot(course, &snapshot).map_err(|source| {
            EngineError::Blob {
                consumer: self.consumer.clone(),
                what: course_name.to_owned(),
                source,
            }
        })?;
        Ok(Some(CachedCourse {
            through: snapshot.through,
            state,
            stored: StoredParts::default(),
            schedule: None,
        }))
    }

    /// The commit of `cached` through `through` with its result writes and
    /// problems: the head and the parts that changed.
    fn course_commit(
        &self,
        course: CourseId,
        through: SequenceNumber,
        cached: &mut CachedCourse,
        course_name: &str,
        writes: Vec<ResultWrite>,
        problems: Vec<RecordedProblem>,
    ) -> Result<CourseCommit, EngineError> {
        let blob_error = |source| EngineError::Blob {
            consumer: self.consumer.clone(),
            what: course_name.to_owned(),
            source,
        };
        let state = cached.state.encode_head().map_err(blob_error)?;
        let parts = cached
            .state
            .part_writes(&mut cached.stored)
            .map_err(blob_error)?;
        Ok(CourseCommit {
            consumer: self.consumer.clone(),
            course,
            through,
            state,
            parts,
            writes,
            problems,
        })
    }
}

/// The problems pushed since the list had `before` items and `dropped`
/// dropped ones (the list is bounded, so old items may have been dropped).
fn new_problems(
    problems: &crate::projection::Problems,
    before: usize,
    dropped: u64,
) -> impl Iterator<Item = &Problem> {
    let newly_dropped =
        usize::try_from(problems.dropped.saturating_sub(dropped)).unwrap_or(usize::MAX);
    let kept_old = before.saturating_sub(newly_dropped);
    problems.items.iter().skip(kept_old)
}

fn recorded(problem: &Problem) -> RecordedProblem {
    let kind = serde_json::to_value(problem.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{:?}", problem.kind));
    RecordedProblem {
        sequence_number: problem.sequence_number,
        event_type: problem.event_type.to_string(),
        kind,
        message: problem.message.clone(),
    }
}
