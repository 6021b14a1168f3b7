//! A new matrix's recalculation, done in bounded slices.
//!
//! A refit of an ecosystem that thousands of courses share changes the
//! `biglearn_sparfa` results of every student of every one of them (S1 fix
//! 10, F4). Done at once, in the first bundle of each course after the
//! refit, that work would queue every response behind it. Instead, a course
//! that sees a new matrix records a [`MatrixCatchUp`]: a cursor over its
//! students, then its assignments that need PEs or SPEs, then its course
//! containers. Bundles recalculate what their events changed, with the new
//! matrix, and leave the catch-up alone; each engine step's wake-up pass
//! then advances the catch-ups of due courses by a bounded number of units
//! ([`Engine::wake_due`](super::Engine::wake_due)), so responses go first and the rest follows
//! within seconds. A course with a catch-up is due again at once
//! ([`super::course::calculate`]).
//!
//! Every row the catch-up recalculates carries the sequence number the
//! course had when the new matrix was first seen, as a whole recalculation
//! would have. A matrix that changes again while a catch-up runs restarts
//! it from the beginning: the rows already done read the older one.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::ids::{AssignmentId, CourseContainerId, StudentId};
use crate::log::SequenceNumber;
use crate::projection::{CourseChanges, CourseState};

/// How many units (a student, an assignment, or a course container counted
/// by its students, see [`container_cost`]) one engine step recalculates
/// for new matrices, across all courses, when it applied no events.
pub const CATCH_UP_UNITS_PER_STEP: usize = 256;

/// The fewest units a step recalculates for new matrices, however many
/// events it applied: the catch-up always moves.
pub const CATCH_UP_UNITS_UNDER_LOAD: usize = 16;

/// The catch-up budget of a step that applied `events` events: each event
/// applied takes one unit off [`CATCH_UP_UNITS_PER_STEP`], down to
/// [`CATCH_UP_UNITS_UNDER_LOAD`]. A unit costs about what one answer costs
/// (a student's CLUEs and worst areas, or an assignment's PEs and SPEs),
/// so under load the responses get the step and the catch-up its rest; a
/// refit every few seconds of an ecosystem that hundreds of courses share
/// would otherwise add a fixed slice of old-matrix work to every step and
/// hold every response behind it. Students who answer get the new matrix
/// with their own bundle anyway.
pub fn catch_up_budget(events: usize) -> usize {
    CATCH_UP_UNITS_PER_STEP
        .saturating_sub(events)
        .max(CATCH_UP_UNITS_UNDER_LOAD)
}

/// The part of a course's results that still reflects an older matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixCatchUp {
    /// The sequence number the recalculated rows are stamped with: the
    /// course's last applied event when the matrix was first seen.
    pub at: SequenceNumber,
    /// Where the sweep stands.
    pub next: CatchUpCursor,
}

/// The next owners of a catch-up: those after the given id (all of them
/// for `None`) in the phase named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatchUpCursor {
    /// Students' `biglearn_sparfa` CLUEs and worst areas.
    Students(Option<StudentId>),
    /// Assignments that need PEs or SPEs (recalculated whole: an
    /// assignment's SPEs avoid the PEs of every algorithm).
    Assignments(Option<AssignmentId>),
    /// Teacher `biglearn_sparfa` CLUEs of each course container.
    Containers(Option<CourseContainerId>),
}

/// A container's teacher CLUEs read every student of the container: one
/// unit plus one per eight students.
pub fn container_cost(students: usize) -> usize {
    1 + students / 8
}

impl MatrixCatchUp {
    /// A catch-up of the whole course, stamped `at`.
    pub fn start(at: SequenceNumber) -> Self {
        MatrixCatchUp {
            at,
            next: CatchUpCursor::Students(None),
        }
    }

    /// Marks in `changes` the next owners worth at most `budget` units (at
    /// least one owner when `budget` > 0, so a large container still
    /// advances). Returns the units used and the catch-up left, `None` when
    /// the course is done.
    pub fn slice(
        mut self,
        course: &CourseState,
        budget: usize,
        changes: &mut CourseChanges,
    ) -> (usize, Option<MatrixCatchUp>) {
        let mut used = 0;
        loop {
            if used >= budget {
                return (used, Some(self));
            }
            match self.next {
                CatchUpCursor::Students(after) => {
                    let next = course
                        .students
                        .range((bound(after), Bound::Unbounded))
                        .next()
                        .map(|(id, _)| *id);
                    match next {
                        Some(student) => {
                            changes.student_clues.insert(student);
                            changes.worst_areas.insert(student);
                            used += 1;
                            self.next = CatchUpCursor::Students(Some(student));
                        }
                        None => self.next = CatchUpCursor::Assignments(None),
                    }
                }
                CatchUpCursor::Assignments(after) => {
                    let next = course
                        .assignments
                        .range((bound(after), Bound::Unbounded))
                        .find(|(_, a)| a.needs_pes_or_spes())
                        .map(|(id, _)| *id);
                    match next {
                        Some(assignment) => {
                            changes.assignment_exercises.insert(assignment);
                            used += 1;
                            self.next = CatchUpCursor::Assignments(Some(assignment));
                        }
                        None => self.next = CatchUpCursor::Containers(None),
                    }
                }
                CatchUpCursor::Containers(after) => {
                    let next = course
                        .containers
                        .range((bound(after), Bound::Unbounded))
                        .next()
                        .map(|(id, node)| (*id, node.students.len()));
                    match next {
                        Some((container, students)) => {
                            changes.teacher_clues.insert(container);
                            used += container_cost(students);
                            self.next = CatchUpCursor::Containers(Some(container));
                        }
                        None => return (used, None),
                    }
                }
            }
        }
    }
}

fn bound<K>(after: Option<K>) -> Bound<K> {
    match after {
        Some(key) => Bound::Excluded(key),
        None => Bound::Unbounded,
    }
}
