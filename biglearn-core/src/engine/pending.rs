//! Course commits prepared by bundles or wake-ups, stored (one at a time or
//! grouped in one transaction) and then counted in one place for both.

use super::course::CachedCourse;
use super::{Engine, EngineError, StepReport};
use crate::engine_store::{
    CommitKind, CommitOutcome, CourseCommit, CourseExtras, EngineStore, EngineStoreError,
    GroupedCommit,
};
use crate::ids::CourseId;

/// Most course commits prepared before they are stored together
/// ([`EngineStore::commit_courses`]). SQLite writes every page a
/// transaction changed to its log when it commits, and the pages that
/// courses share (watermarks, schedules, the upper levels of the result
/// trees) only once per transaction, so a step's commits are stored
/// together; the bound lets the first courses of a long step land before
/// the last are calculated.
pub(super) const COMMITS_PER_TRANSACTION: usize = 64;

/// A course commit prepared but not yet stored, with what the step counts
/// once it is.
#[derive(Debug)]
pub(super) struct PendingCommit {
    pub(super) kind: CommitKind,
    pub(super) course: CourseId,
    /// "course <id>", for errors.
    pub(super) name: String,
    pub(super) cached: CachedCourse,
    pub(super) commit: CourseCommit,
    pub(super) extras: CourseExtras,
    /// Events the bundle applied (0 for a recalculation).
    pub(super) events: usize,
    /// Catch-up units the recalculation used.
    pub(super) catch_up_units: usize,
}

impl PendingCommit {
    fn grouped(&self) -> GroupedCommit<'_> {
        GroupedCommit {
            kind: self.kind,
            commit: &self.commit,
            extras: &self.extras,
        }
    }

    /// The error of a refused store of this commit.
    fn write_error(&self, engine: &Engine, source: EngineStoreError) -> EngineError {
        EngineError::Write {
            consumer: engine.consumer.clone(),
            what: match self.kind {
                CommitKind::Progress => format!("{} through {}", self.name, self.commit.through),
                CommitKind::Recalc => format!("{} recalculated at its wake-up", self.name),
            },
            source,
        }
    }
}

impl Engine {
    /// Stores `pending` alone, counts it in `report` and keeps its state
    /// for the course's next commit (a stale commit's state is dropped).
    pub(super) fn store_commit(
        &mut self,
        store: &impl EngineStore,
        pending: PendingCommit,
        report: &mut StepReport,
    ) -> Result<(), EngineError> {
        let outcome = pending
            .grouped()
            .store_alone(store)
            .map_err(|source| pending.write_error(self, source))?;
        self.count_commit(pending, outcome, report);
        Ok(())
    }

    /// Stores `pending` with [`EngineStore::commit_courses`] (one
    /// transaction per call on the SQL stores, each storing as many as the
    /// store takes) and counts each commit as [`Engine::store_commit`]
    /// does. When a call fails as a whole, the commits it did not store are
    /// stored one by one instead, so the courses before a failing one still
    /// land and the error names the course that failed.
    pub(super) fn store_commits(
        &mut self,
        store: &impl EngineStore,
        pending: Vec<PendingCommit>,
        report: &mut StepReport,
    ) -> Result<(), EngineError> {
        let mut outcomes: Vec<CommitOutcome> = Vec::with_capacity(pending.len());
        while pending.len() - outcomes.len() >= 2 {
            let grouped: Vec<GroupedCommit<'_>> = pending[outcomes.len()..]
                .iter()
                .map(PendingCommit::grouped)
                .collect();
            match store.commit_courses(&grouped) {
                Ok(stored) if !stored.is_empty() && stored.len() <= grouped.len() => {
                    outcomes.extend(stored);
                }
                _ => break,
            }
        }
        let stored = outcomes.len();
        let mut pending = pending.into_iter();
        for (one, outcome) in pending.by_ref().take(stored).zip(outcomes) {
            self.count_commit(one, outcome, report);
        }
        for one in pending {
            self.store_commit(store, one, report)?;
        }
        Ok(())
    }

    /// Prepares one commit per item with `prepare` and stores them in
    /// groups of up to [`COMMITS_PER_TRANSACTION`] ([`Engine::store_commits`]);
    /// a course already in the group is stored first, so a group holds each
    /// course once. When `prepare` fails, what was prepared before lands and
    /// the error is returned. `stop` ends the loop early (before an item).
    pub(super) fn prepare_and_store<S: EngineStore, T>(
        &mut self,
        store: &S,
        items: impl IntoIterator<Item = (CourseId, T)>,
        report: &mut StepReport,
        mut stop: impl FnMut() -> bool,
        mut prepare: impl FnMut(&mut Self, T) -> Result<Option<PendingCommit>, EngineError>,
    ) -> Result<(), EngineError> {
        let mut group: Vec<PendingCommit> = Vec::new();
        for (course, item) in items {
            if stop() {
                break;
            }
            if group.len() >= COMMITS_PER_TRANSACTION || group.iter().any(|p| p.course == course) {
                self.store_commits(store, std::mem::take(&mut group), report)?;
            }
            match prepare(self, item) {
                Ok(Some(pending)) => group.push(pending),
                Ok(None) => {}
                Err(error) => {
                    self.store_commits(store, group, report)?;
                    return Err(error);
                }
            }
        }
        self.store_commits(store, group, report)
    }

    /// Counts a stored commit in `report` and keeps its state for the
    /// course's next commit (a stale commit's state is dropped).
    fn count_commit(
        &mut self,
        pending: PendingCommit,
        outcome: CommitOutcome,
        report: &mut StepReport,
    ) {
        let PendingCommit {
            kind,
            course,
            mut cached,
            commit,
            extras,
            events,
            catch_up_units,
            ..
        } = pending;
        match (kind, outcome) {
            (CommitKind::Progress, CommitOutcome::Stale { .. }) => report.bundles_stale += 1,
            (CommitKind::Recalc, CommitOutcome::Stale { .. }) => {}
            (kind, CommitOutcome::Committed) => {
                match kind {
                    CommitKind::Progress => {
                        report.bundles_committed += 1;
                        report.events_applied += events;
                        cached.through = commit.through;
                    }
                    CommitKind::Recalc => {
                        report.courses_recalculated += 1;
                        report.matrix_catch_up_units += catch_up_units;
                    }
                }
                if let Some(schedule) = extras.schedule {
                    cached.schedule = Some(schedule);
                }
                report.result_writes += commit.writes.len();
                report.problems += commit.problems.len();
                report.state_bytes_written += commit.state_bytes();
                cached.state.course.touched.clear();
                self.note_catch_up(course, &cached.state);
                self.courses.put(course, cached);
            }
        }
    }
}
