//! A student's assignments and responses as selection sees them
//! (scheduler.md §1.4 `create_update_assignment`, §1.5 Assignment,
//! AssignedExercise, Response).

use serde::{Deserialize, Serialize};

use super::ecosystem::AssignmentType;
use crate::ids::{AssignmentId, BookContainerId, EcosystemId, ExerciseId, TrialId};
use crate::time::Instant;

/// One assigned exercise (a trial) of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AssignedExercise {
    /// The trial uuid.
    pub trial: TrialId,
    /// The exercise version assigned.
    pub exercise: ExerciseId,
    /// Whether Tutor placed it as a personalized exercise.
    pub is_pe: bool,
    /// Whether Tutor placed it as a spaced-practice exercise.
    pub is_spe: bool,
}

impl AssignedExercise {
    /// A core exercise is neither PE nor SPE (S1 fix 6).
    pub fn is_core(&self) -> bool {
        !self.is_pe && !self.is_spe
    }
}

/// One per-student assignment with every field selection reads.
///
/// The projection stores assignments as
/// [`AssignmentState`](crate::projection::AssignmentState) and builds this
/// from it for each calculation. They stay two types on purpose: the stored
/// one keeps the event as sent (datetimes as their wire text, the
/// assignment type unparsed, the student, update time, `closes_at`,
/// calculation uuids and sequence number) in a stored format that must not
/// change, while this one holds parsed instants and `student_history_at`,
/// which depends on `now` and on the student's answers, and scheduler tests
/// build it without a projection. The rules both need are shared
/// ([`needs_exercises`], [`AssignedExercise`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// The assignment uuid.
    pub id: AssignmentId,
    /// The ecosystem its exercises come from.
    pub ecosystem: EcosystemId,
    /// Its type; PE/SPE pools are taken for this type (§2.1).
    pub assignment_type: AssignmentType,
    /// When it was created (the tiebreaker after `opens_at`).
    pub created_at: Instant,
    /// `exclusion_info.opens_at`.
    pub opens_at: Option<Instant>,
    /// `exclusion_info.due_at`.
    pub due_at: Option<Instant>,
    /// `exclusion_info.feedback_at`.
    pub feedback_at: Option<Instant>,
    /// `assigned_book_container_uuids`, in the order sent.
    pub book_containers: Vec<BookContainerId>,
    /// The assigned exercises (trials).
    pub exercises: Vec<AssignedExercise>,
    /// `goal_num_tutor_assigned_pes` (`None` = NULL).
    pub goal_num_pes: Option<u32>,
    /// `goal_num_tutor_assigned_spes` (`None` = NULL).
    pub goal_num_spes: Option<u32>,
    /// `pes_are_assigned`.
    pub pes_are_assigned: bool,
    /// `spes_are_assigned`.
    pub spes_are_assigned: bool,
    /// `is_deleted`.
    pub is_deleted: bool,
    /// When it entered the student's history (see [`student_history_at`]).
    pub student_history_at: Option<Instant>,
}

impl Assignment {
    /// `needs_pes` of §1.6(a) ([`needs_exercises`]).
    pub fn needs_pes(&self) -> bool {
        needs_exercises(self.is_deleted, self.pes_are_assigned, self.goal_num_pes)
    }

    /// `needs_spes` of §1.6(a) ([`needs_exercises`]).
    pub fn needs_spes(&self) -> bool {
        needs_exercises(self.is_deleted, self.spes_are_assigned, self.goal_num_spes)
    }

    /// The assigned exercise uuids, de-duplicated, in order.
    pub fn assigned_exercise_ids(&self) -> Vec<ExerciseId> {
        let mut seen = std::collections::HashSet::new();
        self.exercises
            .iter()
            .map(|e| e.exercise)
            .filter(|e| seen.insert(*e))
            .collect()
    }

    /// When feedback becomes visible: `feedback_at`, else `due_at` (README S3).
    pub fn feedback_visible_at(&self) -> Option<Instant> {
        self.feedback_at.or(self.due_at)
    }

    /// Whether its exercises are hidden from the student's other selections at
    /// `now` (anti-cheating, §2.2): not deleted (S1 fix 7) and either not yet due
    /// or with feedback still pending (S3). Without dates it never protects.
    pub fn is_protected_at(&self, now: Instant) -> bool {
        !self.is_deleted
            && (self.due_at.is_some_and(|due| due > now)
                || self.feedback_visible_at().is_some_and(|at| at > now))
    }

    /// When it counts as opened: `opens_at`, else its creation time (README S3,
    /// scheduler.md open point 3).
    pub fn opened_at(&self) -> Instant {
        self.opens_at.unwrap_or(self.created_at)
    }
}

/// `needs_pes` / `needs_spes` of §1.6(a): Tutor has not assigned them yet
/// and the goal is not 0 (`None` = NULL); a deleted assignment needs nothing
/// (S1 fix 2).
pub fn needs_exercises(is_deleted: bool, are_assigned: bool, goal: Option<u32>) -> bool {
    !is_deleted && !are_assigned && goal != Some(0)
}

/// A recorded response, as far as completion needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The trial answered.
    pub trial: TrialId,
    /// The exercise answered.
    pub exercise: ExerciseId,
    /// The latest answer's correctness.
    pub is_correct: bool,
    /// When the trial was first answered.
    pub first_responded_at: Instant,
    /// When the trial was last answered.
    pub last_responded_at: Instant,
}

/// When `assignment` enters the student-driven history, given the student's
/// responses (scheduler.md §1.6(a) "Student history", S1 fix 6):
///
/// - complete — every core exercise (neither PE nor SPE) has a response first
///   given by `due_at` when `due_at` is set — gives the latest
///   `first_responded_at` over those on-time responses;
/// - otherwise a past-due assignment (`due_at <= now`) gives `due_at`;
/// - otherwise `None`.
///
/// An assignment without core exercises only enters by being past due.
pub fn student_history_at(
    assignment: &Assignment,
    responses: &[Response],
    now: Instant,
) -> Option<Instant> {
    let mut latest: Option<Instant> = None;
    let mut any_core = false;
    let mut complete = true;
    for trial in assignment.exercises.iter().filter(|e| e.is_core()) {
        any_core = true;
        let on_time = responses
            .iter()
            .filter(|r| r.trial == trial.trial)
            .map(|r| r.first_responded_at)
            .filter(|at| assignment.due_at.map_or(true, |due| *at <= due))
            .max();
        match on_time {
            Some(at) => latest = latest.max(Some(at)),
            None => complete = false,
        }
    }
    if any_core && complete {
        return latest;
    }
    assignment.due_at.filter(|due| *due <= now)
}
