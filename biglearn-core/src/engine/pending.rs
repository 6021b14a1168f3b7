//! A course commit prepared by a bundle or a wake-up, stored and then
//! counted in one place for both.

use super::course::CachedCourse;
use super::{Engine, EngineError, StepReport};
use crate::engine_store::{CommitOutcome, CourseCommit, CourseExtras, EngineStore};
use crate::ids::CourseId;

/// How a commit is checked: a bundle's progress moves the watermark
/// forward ([`EngineStore::commit_course_with`]); a recalculation at a
/// wake-up requires it unchanged ([`EngineStore::commit_course_recalc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CommitKind {
    Progress,
    Recalc,
}

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

impl Engine {
    /// Stores `pending`, counts it in `report` and keeps its state for the
    /// course's next bundle (a stale commit's state is dropped).
    pub(super) fn store_commit(
        &mut self,
        store: &impl EngineStore,
        pending: PendingCommit,
        report: &mut StepReport,
    ) -> Result<(), EngineError> {
        let PendingCommit {
            kind,
            course,
            name,
            mut cached,
            commit,
            extras,
            events,
            catch_up_units,
        } = pending;
        let stored = match kind {
            CommitKind::Progress => store.commit_course_with(&commit, &extras),
            CommitKind::Recalc => store.commit_course_recalc(&commit, &extras),
        };
        let outcome = stored.map_err(|source| EngineError::Write {
            consumer: self.consumer.clone(),
            what: match kind {
                CommitKind::Progress => format!("{name} through {}", commit.through),
                CommitKind::Recalc => format!("{name} recalculated at its wake-up"),
            },
            source,
        })?;
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
        Ok(())
    }
}
