//! Course commits collected during a step and stored together
//! ([`EngineStore::commit_courses`]).
//!
//! A step prepares up to [`COMMIT_BATCH`] course commits and stores them in
//! one transaction. A course appears at most once in a batch: a second
//! bundle of the same course flushes the batch first, since it builds on the
//! first one's state.
//!
//! The batch is one commit for now. In the server at 3,000 responses/s the
//! engine thread was on the CPU for only 11.9 s of its 29.5 s of steps, so
//! batches of 4 and 16 were tried, to wait for SQLite's writer once per
//! batch: freshness did not change measurably, while appends waited behind
//! whole batches (request latency p50 7.8 ms with 1, 12.3 ms with 4, 13.5 to
//! 40 ms with 16). The off-CPU time is then mostly the two cores being
//! shared with the HTTP workers and the load generator, not the writer. A
//! backend where each transaction costs a network round trip (PostgreSQL)
//! may gain from larger batches; that is not measured yet.

use super::course::CachedCourse;
use super::{Engine, EngineError, StepReport};
use crate::engine_store::{
    BatchedCommit, CommitKind, CommitOutcome, CourseCommit, CourseExtras, EngineStore,
};
use crate::ids::CourseId;

/// Course commits stored in one transaction at most: bounds how long the
/// engine holds the database writer (and so delays event appends); see the
/// module docs for why it is 1.
pub const COMMIT_BATCH: usize = 1;

/// A course commit prepared but not yet stored, with what the step does
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

/// The commits of a step waiting to be stored.
#[derive(Debug, Default)]
pub(super) struct CommitBatch {
    pending: Vec<PendingCommit>,
}

impl CommitBatch {
    /// Whether `course` has a commit waiting.
    pub(super) fn holds(&self, course: CourseId) -> bool {
        self.pending.iter().any(|p| p.course == course)
    }

    /// Whether the batch should be stored before another commit joins it.
    pub(super) fn is_full(&self) -> bool {
        self.pending.len() >= COMMIT_BATCH
    }

    pub(super) fn push(&mut self, pending: PendingCommit) {
        self.pending.push(pending);
    }
}

impl Engine {
    /// Stores the waiting commits and finishes each (report, cache). If the
    /// batch fails as a whole, its commits are retried one by one, so one
    /// failing course does not hold back the others; the first failure is
    /// returned, and the commits after it are dropped (their bundles are
    /// delivered again).
    pub(super) fn flush(
        &mut self,
        store: &impl EngineStore,
        batch: &mut CommitBatch,
        report: &mut StepReport,
    ) -> Result<(), EngineError> {
        let pending = std::mem::take(&mut batch.pending);
        if pending.is_empty() {
            return Ok(());
        }
        let items: Vec<BatchedCommit<'_>> = pending.iter().map(batched).collect();
        let outcome = store.commit_courses(&items);
        drop(items);
        match outcome {
            Ok(outcomes) => {
                for (item, outcome) in pending.into_iter().zip(outcomes) {
                    self.finish(item, outcome, report);
                }
                Ok(())
            }
            Err(source) => {
                let mut items = pending.into_iter();
                let Some(first) = items.next() else {
                    return Ok(());
                };
                if items.len() == 0 {
                    return Err(self.write_error(&first, source));
                }
                for item in std::iter::once(first).chain(items) {
                    let outcome = store
                        .commit_courses(&[batched(&item)])
                        .map_err(|source| self.write_error(&item, source))?;
                    if let Some(outcome) = outcome.first() {
                        self.finish(item, *outcome, report);
                    }
                }
                Ok(())
            }
        }
    }

    fn write_error(
        &self,
        item: &PendingCommit,
        source: crate::engine_store::EngineStoreError,
    ) -> EngineError {
        let what = match item.kind {
            CommitKind::Progress => format!("{} through {}", item.name, item.commit.through),
            CommitKind::Recalc => format!("{} recalculated at its wake-up", item.name),
        };
        EngineError::Write {
            consumer: self.consumer.clone(),
            what,
            source,
        }
    }

    /// Counts a stored (or stale) commit and keeps its state for the
    /// course's next bundle.
    fn finish(&mut self, item: PendingCommit, outcome: CommitOutcome, report: &mut StepReport) {
        let PendingCommit {
            kind,
            course,
            mut cached,
            commit,
            extras,
            events,
            catch_up_units,
            name: _,
        } = item;
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

fn batched(item: &PendingCommit) -> BatchedCommit<'_> {
    BatchedCommit {
        kind: item.kind,
        commit: &item.commit,
        extras: &item.extras,
    }
}
