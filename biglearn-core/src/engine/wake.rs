//! What changes a course's results without a new event: time passing a
//! feedback or due date (scheduler.md §3.2 student-CLUE hiding, §2.2
//! anti-cheating, §1.6(a) student history), and a new matrix for one of the
//! course's ecosystems (S1 fix 10, F4).
//!
//! Both are functions of the course state, the stored matrices and `now`,
//! so results stay deterministic: the state remembers the latest `now` it
//! was calculated at ([`super::EngineCourseState::clock`]) and the matrices
//! used; [`time_changes`] marks what the dates passed since then affect, and
//! [`next_wake`] is the instant the store keeps for the wake-up queue.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{EcosystemId, EcosystemMatrixId};
use crate::projection::{AnsweredExercise, CourseChanges, CourseState};
use crate::time::Instant;

/// What dates passing in `(since, now]` make dirty: for each assignment
/// with such a date, the student's worst areas and its assignments that
/// need PEs or SPEs, and the student CLUEs that the answers to the
/// assignment's trials can count for (their visibility is what the date
/// changes, §3.2). Teacher CLUEs use every response whatever its feedback
/// date, so time does not change them. With no `since` (never
/// calculated), nothing.
pub fn time_changes(course: &CourseState, since: Option<Instant>, now: Instant) -> CourseChanges {
    let mut changes = CourseChanges::default();
    let Some(since) = since else {
        return changes;
    };
    if now <= since {
        return changes;
    }
    // While a prepared ecosystem is pending, its rows are re-mapped from
    // every answer (S1 fix 11): the student's CLUEs are marked whole.
    let whole = course.preparation_pending();
    let mut students = BTreeSet::new();
    for id in course.assignments_changing(since, now) {
        let Some(assignment) = course.assignments.get(&id) else {
            continue;
        };
        students.insert(assignment.student);
        // A trial's answer is visible from the date of the assignment
        // that issued the trial.
        for trial in &assignment.exercises {
            let issued_here = course.trials.get(&trial.trial).map(|t| t.assignment) == Some(id);
            let Some(response) = course.responses.get(&trial.trial).filter(|_| issued_here) else {
                continue;
            };
            if course.students.contains_key(&response.student) && !whole {
                changes
                    .student_answers
                    .entry(response.student)
                    .or_default()
                    .insert(AnsweredExercise {
                        ecosystem: response.ecosystem,
                        exercise: response.exercise,
                    });
            }
        }
    }
    for student in students {
        if !course.students.contains_key(&student) {
            continue;
        }
        if whole {
            changes.student_clues.insert(student);
        }
        changes.worst_areas.insert(student);
        for id in course
            .assignments_by_student
            .get(&student)
            .into_iter()
            .flatten()
        {
            if course
                .assignments
                .get(id)
                .is_some_and(|a| a.needs_pes_or_spes())
            {
                changes.assignment_exercises.insert(*id);
            }
        }
    }
    changes
}

/// The earliest date after `now` at which [`time_changes`] would mark
/// something, if any.
pub fn next_wake(course: &CourseState, now: Instant) -> Option<Instant> {
    course.next_change_after(now, |a| course.students.contains_key(&a.student))
}

/// Every ecosystem the course's results are computed in: current, initial,
/// prepared, of its assignments and of its responses; sorted.
pub fn ecosystems_of(course: &CourseState) -> Vec<EcosystemId> {
    let mut ids: Vec<EcosystemId> = Vec::new();
    ids.extend(course.current_ecosystem);
    ids.extend(course.initial_ecosystem);
    ids.extend(course.preparations.values().map(|p| p.ecosystem));
    ids.extend(course.referenced_ecosystems());
    ids.sort();
    ids.dedup();
    ids
}

/// Whether an ecosystem the results were calculated in now has another
/// matrix (or its first). Every `biglearn_sparfa` CLUE and worst area and
/// every assignment that needs PEs or SPEs must then be recalculated (the
/// matrix orders exercises and computes CLUEs for all of them): the engine
/// starts a [`super::catch_up::MatrixCatchUp`] that does this in slices.
/// Ecosystems new to the course are left to the events that brought them.
pub fn matrices_changed(
    used: &BTreeMap<EcosystemId, Option<EcosystemMatrixId>>,
    stored: &BTreeMap<EcosystemId, EcosystemMatrixId>,
) -> bool {
    used.iter()
        .any(|(ecosystem, old)| stored.get(ecosystem) != old.as_ref())
}
