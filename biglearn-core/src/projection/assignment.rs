//! A course's assignments, issued trials and latest answers as the
//! projection stores them (scheduler.md §1.5, README S3); the events that
//! change them apply in `assignment_events`.

use serde::{Deserialize, Serialize};

use crate::events::Datetime;
use crate::ids::{
    AssignmentId, BookContainerId, CalculationId, EcosystemId, ExerciseId, ResponseId, StudentId,
};
use crate::log::SequenceNumber;
use crate::scheduler::{needs_exercises, AssignedExercise};
use crate::time::Instant;

/// One assignment as its latest create_update_assignment left it: the
/// stored record, not the scheduler's
/// [`Assignment`](crate::scheduler::Assignment) (see there why they are two
/// types).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentState {
    /// The student.
    pub student: StudentId,
    /// The assignment's own ecosystem.
    pub ecosystem: EcosystemId,
    /// `assignment_type`, as sent.
    pub assignment_type: String,
    /// `created_at` (the opening time when `opens_at` is missing, S3).
    pub created_at: Datetime,
    /// `updated_at`.
    pub updated_at: Datetime,
    /// `exclusion_info.opens_at`.
    pub opens_at: Option<Datetime>,
    /// `exclusion_info.due_at`.
    pub due_at: Option<Datetime>,
    /// `exclusion_info.feedback_at`.
    pub feedback_at: Option<Datetime>,
    /// `exclusion_info.closes_at`, verbatim and otherwise unused (S3).
    pub closes_at: Option<Datetime>,
    /// `assigned_book_container_uuids`, de-duplicated, in order.
    pub book_containers: Vec<BookContainerId>,
    /// `assigned_exercises`.
    pub exercises: Vec<AssignedExercise>,
    /// `goal_num_tutor_assigned_pes` (`None` = absent or null).
    pub goal_num_pes: Option<u32>,
    /// `goal_num_tutor_assigned_spes`.
    pub goal_num_spes: Option<u32>,
    /// `pes_are_assigned`.
    pub pes_are_assigned: bool,
    /// `spes_are_assigned`.
    pub spes_are_assigned: bool,
    /// `is_deleted`.
    pub is_deleted: bool,
    /// `pes.calculation_uuid`.
    pub pes_calculation: Option<CalculationId>,
    /// `spes.calculation_uuid`.
    pub spes_calculation: Option<CalculationId>,
    /// The sequence number of the latest update.
    pub sequence_number: SequenceNumber,
}

impl AssignmentState {
    /// `needs_pes` of §1.6(a) ([`needs_exercises`]).
    pub fn needs_pes(&self) -> bool {
        needs_exercises(self.is_deleted, self.pes_are_assigned, self.goal_num_pes)
    }

    /// `needs_spes` of §1.6(a) ([`needs_exercises`]).
    pub fn needs_spes(&self) -> bool {
        needs_exercises(self.is_deleted, self.spes_are_assigned, self.goal_num_spes)
    }

    /// Whether the assignment still needs PEs or SPEs: the assignments an
    /// answer, a new matrix or a wake-up recalculates (§1.6(a)).
    pub fn needs_pes_or_spes(&self) -> bool {
        self.needs_pes() || self.needs_spes()
    }

    /// The instants at which the assignment changes what is visible or
    /// allowed: feedback becoming visible (student CLUEs, S3), `due_at` and
    /// `feedback_at` passing (anti-cheating, past-due history).
    pub fn change_instants(&self) -> impl Iterator<Item = Instant> {
        [
            self.feedback_visible_at(),
            self.due_at.as_ref().map(Instant::from),
            self.feedback_at.as_ref().map(Instant::from),
        ]
        .into_iter()
        .flatten()
    }

    /// When feedback becomes visible: `feedback_at`, else `due_at` (S3).
    pub fn feedback_visible_at(&self) -> Option<Instant> {
        self.feedback_at
            .as_ref()
            .or(self.due_at.as_ref())
            .map(Instant::from)
    }
}

/// One issued trial (AssignedExercise, §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialState {
    /// The assignment that issued it (the first one; another assignment
    /// naming the same trial is a [`ProblemKind::TrialReused`](super::ProblemKind::TrialReused)).
    pub assignment: AssignmentId,
    /// The exercise issued.
    pub exercise: ExerciseId,
    /// Placed as a PE.
    pub is_pe: bool,
    /// Placed as an SPE.
    pub is_spe: bool,
}

/// The latest answer to one trial (the Response row, §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialResponse {
    /// The latest response's uuid.
    pub response: ResponseId,
    /// Who answered.
    pub student: StudentId,
    /// The exercise answered.
    pub exercise: ExerciseId,
    /// The response's ecosystem.
    pub ecosystem: EcosystemId,
    /// The latest answer's correctness.
    pub is_correct: bool,
    /// Whether the latest answer is real.
    pub is_real: bool,
    /// The earliest `responded_at` of the trial.
    pub first_responded_at: Instant,
    /// The latest `responded_at` of the trial.
    pub last_responded_at: Instant,
    /// The latest response's sequence number (tiebreaker after `responded_at`).
    pub sequence_number: SequenceNumber,
    /// Whether the trial has had a real response (counted once per trial
    /// towards its group, S1 fix 14).
    pub counted_real: bool,
}
