//! Recalculating one course: shared by bundle processing and wake-ups, plus
//! the wake-up pass of a step and the refit entry points of [`Engine`].

use std::collections::BTreeMap;

use uuid::Uuid;

use super::algs::{Matrices, MatrixCache};
use super::catch_up::{MatrixCatchUp, CATCH_UP_UNITS_PER_STEP};
use super::ecosystems::EcosystemCache;
use super::parts::StoredParts;
use super::pending::PendingCommit;
use super::recalc::{self, Outcome};
use super::refit::{self, RefitError, RefitReport};
use super::wake::{ecosystems_of, matrices_changed, next_wake, time_changes};
use super::{Dirty, Engine, EngineCourseState, EngineError, StepReport};
use crate::engine_store::{CommitKind, CourseExtras, CourseSchedule, EngineStore, RecordedProblem};
use crate::gradebook::FitResponse;
use crate::ids::{CourseId, EcosystemId, ExerciseId, StudentId};
use crate::log::SequenceNumber;
use crate::projection::CourseChanges;
use crate::scheduler::seed_from_ids;
use crate::sparfa::fit::FitOptions;
use crate::time::Instant;

/// How many due courses one step wakes at most.
const WAKE_BATCH: usize = 64;

/// The default budget of the course-state cache, in estimated bytes
/// ([`EngineCourseState::approx_bytes`]).
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;

/// A cached course: its state, the watermark it reflects and the bytes of
/// its course-wide parts as last stored.
#[derive(Debug)]
pub(super) struct CachedCourse {
    pub(super) through: SequenceNumber,
    pub(super) state: EngineCourseState,
    pub(super) stored: StoredParts,
    /// The schedule this engine stored last (`None` after a load): a
    /// bundle whose schedule is the same does not write it again.
    pub(super) schedule: Option<CourseSchedule>,
}

/// Decoded course states, least recently used evicted first once their
/// estimated size passes the budget; each is valid while the consumer's
/// watermark is the one it reflects (this engine is the only writer of its
/// consumer's courses).
#[derive(Debug)]
pub(super) struct CourseCache {
    entries: lru::LruCache<CourseId, (CachedCourse, usize)>,
    bytes: usize,
    budget: usize,
}

impl Default for CourseCache {
    fn default() -> Self {
        CourseCache::with_budget(DEFAULT_CACHE_BYTES)
    }
}

impl CourseCache {
    /// An empty cache holding at most about `budget` bytes of states.
    pub(super) fn with_budget(budget: usize) -> Self {
        CourseCache {
            entries: lru::LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    /// The cached state of `course` if it reflects exactly `through`.
    pub(super) fn take(
        &mut self,
        course: CourseId,
        through: Option<SequenceNumber>,
    ) -> Option<CachedCourse> {
        let (cached, bytes) = self.entries.pop(&course)?;
        self.bytes -= bytes;
        (Some(cached.through) == through).then_some(cached)
    }

    /// Keeps `cached`, evicting the least recently used states past the
    /// budget (a state larger than the whole budget is not kept).
    pub(super) fn put(&mut self, course: CourseId, cached: CachedCourse) {
        if let Some((_, bytes)) = self.entries.pop(&course) {
            self.bytes -= bytes;
        }
        let bytes = cached.state.approx_bytes() + cached.stored.bytes();
        if bytes > self.budget {
            return;
        }
        while self.bytes + bytes > self.budget {
            match self.entries.pop_lru() {
                Some((_, (_, evicted))) => self.bytes -= evicted,
                None => break,
            }
        }
        self.bytes += bytes;
        self.entries.put(course, (cached, bytes));
    }

    /// (cached courses, estimated bytes).
    pub(super) fn usage(&self) -> (usize, usize) {
        (self.entries.len(), self.bytes)
    }
}

/// The first real responses and group-count increases of a bundle, merged
/// (the earliest response per (ecosystem, student, exercise)).
#[derive(Debug, Default)]
pub(super) struct BundleExtras {
    fit: BTreeMap<(EcosystemId, StudentId, ExerciseId), FitResponse>,
    groups: BTreeMap<crate::ids::ExerciseGroupId, u64>,
}

impl BundleExtras {
    /// Adds one event's changes.
    pub(super) fn add(&mut self, changes: &crate::projection::CourseChanges) {
        for response in &changes.fit_responses {
            let key = (response.ecosystem, response.student, response.exercise);
            match self.fit.get(&key) {
                Some(old) if !response.precedes(old) => {}
                _ => {
                    self.fit.insert(key, *response);
                }
            }
        }
        for (group, increase) in &changes.group_response_counts {
            *self.groups.entry(*group).or_insert(0) += increase;
        }
    }

    /// The store's form, with the course's schedule (`None`: unchanged).
    pub(super) fn into_extras(self, schedule: Option<CourseSchedule>) -> CourseExtras {
        CourseExtras {
            fit_responses: self.fit.into_values().collect(),
            group_counts: self.groups.into_iter().collect(),
            schedule,
        }
    }
}

/// Adds what time changed to `dirty` (at `at`) and, when a matrix the
/// results read changed, starts a [`MatrixCatchUp`]; advances the course's
/// catch-up by at most `*catch_up_budget` units (taken from it);
/// recalculates, and moves the state's clock and matrices forward. Returns
/// the result changes and the course's new schedule: due at once while a
/// catch-up remains.
#[allow(clippy::too_many_arguments)]
pub(super) fn calculate(
    store: &impl EngineStore,
    ecosystems: &EcosystemCache,
    cache: &mut MatrixCache,
    state: &mut EngineCourseState,
    mut dirty: Dirty,
    at: SequenceNumber,
    now: Instant,
    salt: Option<Uuid>,
    catch_up_budget: &mut usize,
) -> Result<(Outcome, CourseSchedule), crate::log::StoreError> {
    let matrices = Matrices::load_cached(store, &state.course, cache)?;
    let stored = matrices.ids();
    dirty.mark(&time_changes(&state.course, state.clock, now), at);
    if matrices_changed(&state.matrices, &stored) {
        state.matrix_catch_up = Some(MatrixCatchUp::start(at));
    }
    if let Some(catch_up) = state.matrix_catch_up.take() {
        let mut changes = CourseChanges::default();
        let (used, left) = catch_up.slice(&state.course, *catch_up_budget, &mut changes);
        *catch_up_budget = catch_up_budget.saturating_sub(used);
        dirty.mark_matrix(&changes, catch_up.at);
        state.matrix_catch_up = left;
    }
    let outcome =
        recalc::recalculate_salted(state, ecosystems.catalog(), &matrices, &dirty, now, salt);
    state.clock = Some(state.clock.map_or(now, |c| c.max(now)));
    let used = ecosystems_of(&state.course);
    state.matrices = used.iter().map(|e| (*e, stored.get(e).copied())).collect();
    let wake_at = match state.matrix_catch_up {
        Some(_) => Some(now),
        None => next_wake(&state.course, now),
    };
    let schedule = CourseSchedule {
        wake_at,
        ecosystems: used,
    };
    Ok((outcome, schedule))
}

/// The failures of a calculation as recorded problems.
pub(super) fn failure_problems(
    failures: Vec<String>,
    at: SequenceNumber,
    event_type: &str,
) -> impl Iterator<Item = RecordedProblem> + '_ {
    failures.into_iter().map(move |message| RecordedProblem {
        sequence_number: at,
        event_type: event_type.to_owned(),
        kind: "calculation_failed".to_owned(),
        message,
    })
}

impl Engine {
    /// Recalculates the courses whose wake-up is at or before `now` (a
    /// feedback or due date passed, or a matrix they use was refitted) and
    /// stores the results without moving the watermark. A course that got
    /// new events since is left to its bundle (the commit is stale). New
    /// matrices are caught up with for at most
    /// [`CATCH_UP_UNITS_PER_STEP`] units per call; courses still due
    /// after that wait for the next step.
    pub fn wake_due(
        &mut self,
        store: &impl EngineStore,
        now: Instant,
        report: &mut StepReport,
    ) -> Result<(), EngineError> {
        self.wake_due_within(store, now, CATCH_UP_UNITS_PER_STEP, report)
    }

    /// [`Engine::wake_due`] with at most `budget` units of catch-up (see
    /// [`super::catch_up::catch_up_budget`]).
    pub(super) fn wake_due_within(
        &mut self,
        store: &impl EngineStore,
        now: Instant,
        budget: usize,
        report: &mut StepReport,
    ) -> Result<(), EngineError> {
        let due = store
            .due_courses(&self.consumer, now, WAKE_BATCH)
            .map_err(|e| self.store_error(e))?;
        let budget = std::cell::Cell::new(budget);
        self.prepare_and_store(
            store,
            due.into_iter().map(|course| (course, course)),
            report,
            || budget.get() == 0,
            |engine, course| {
                let mut left = budget.get();
                let prepared = engine.prepare_wake(store, course, now, &mut left);
                budget.set(left);
                prepared
            },
        )
    }

    /// Recalculates one due course: the commit to store, or `None` when
    /// the course has no committed state yet or got new events since.
    fn prepare_wake(
        &mut self,
        store: &impl EngineStore,
        course: CourseId,
        now: Instant,
        catch_up_budget: &mut usize,
    ) -> Result<Option<PendingCommit>, EngineError> {
        let watermark = store
            .confirmed(&self.consumer, course)
            .map_err(|e| self.store_error(e))?;
        let Some(through) = watermark else {
            return Ok(None);
        };
        let course_name = format!("course {course}");
        let mut cached = match self.courses.take(course, Some(through)) {
            Some(cached) => cached,
            None => match self.load_course(store, course, &course_name)? {
                Some(loaded) if loaded.through == through => loaded,
                _ => return Ok(None),
            },
        };
        let salt = seed_from_ids(
            "biglearn.engine.wake",
            &[Uuid::from_u64_pair(0, now.as_micros() as u64)],
        )
        .uuid();
        let budget_before = *catch_up_budget;
        let (outcome, schedule) = calculate(
            store,
            &self.ecosystems,
            &mut self.matrices,
            &mut cached.state,
            Dirty::default(),
            through,
            now,
            Some(salt),
            catch_up_budget,
        )
        .map_err(|e| self.store_error(e))?;
        let catch_up_units = budget_before - *catch_up_budget;
        let problems: Vec<RecordedProblem> =
            failure_problems(outcome.failures, through, "wake_up").collect();
        let commit = self.course_commit(
            course,
            through,
            &mut cached,
            &course_name,
            outcome.writes,
            problems,
        )?;
        Ok(Some(PendingCommit {
            kind: CommitKind::Recalc,
            course,
            name: course_name,
            cached,
            commit,
            extras: CourseExtras {
                schedule: Some(schedule),
                ..CourseExtras::default()
            },
            events: 0,
            catch_up_units,
        }))
    }

    /// The imported ecosystems that need a refit (never fitted, or a group
    /// reached its threshold floor(1.1·count)+1), after syncing the
    /// ecosystem states.
    pub fn pending_refits(
        &mut self,
        store: &impl EngineStore,
    ) -> Result<Vec<EcosystemId>, RefitError> {
        self.ecosystems
            .sync(store, &self.consumer)
            .map_err(|e| RefitError::Sync(Box::new(e)))?;
        refit::pending_refits(store, self.ecosystems.catalog().values())
    }

    /// Refits `ecosystem` with SPARFA's size-scaled default weights (see
    /// [`Engine::refit_with`] and [`refit::refit_ecosystem`]).
    pub fn refit(
        &mut self,
        store: &impl EngineStore,
        ecosystem: EcosystemId,
        now: Instant,
    ) -> Result<RefitReport, RefitError> {
        self.refit_inner(store, ecosystem, now, None)
    }

    /// Refits `ecosystem` on its stored first real responses, saves the
    /// matrix and wakes the courses using it at `now` (their next step
    /// recalculates with the new matrix, S1 fix 10). Runs outside the step:
    /// a server may call [`refit::refit_ecosystem`] on another thread with
    /// an ecosystem state of its own.
    pub fn refit_with(
        &mut self,
        store: &impl EngineStore,
        ecosystem: EcosystemId,
        now: Instant,
        options: &FitOptions,
    ) -> Result<RefitReport, RefitError> {
        self.refit_inner(store, ecosystem, now, Some(options))
    }

    fn refit_inner(
        &mut self,
        store: &impl EngineStore,
        ecosystem: EcosystemId,
        now: Instant,
        options: Option<&FitOptions>,
    ) -> Result<RefitReport, RefitError> {
        if self.ecosystems.get(ecosystem).is_none() {
            self.ecosystems
                .sync(store, &self.consumer)
                .map_err(|e| RefitError::Sync(Box::new(e)))?;
        }
        let state = self
            .ecosystems
            .get(ecosystem)
            .ok_or(RefitError::UnknownEcosystem { ecosystem })?;
        refit::refit_ecosystem(store, state, now, options)
    }
}
