//! What the engine stores besides states and results, for the background
//! refits of F4 and the time-driven recalculation of a course:
//!
//! - the first real response per (ecosystem, student, exercise), the data a
//!   refit fits on (sparfa.md §2.2, §3.3), appended with each course commit;
//! - the real-response count per exercise group (distinct trials, across
//!   courses and versions, S1 fix 14), raised with each course commit;
//! - per ecosystem, the thresholds its last refit set (floor(1.1·count)+1 per
//!   group, scheduler.md §1.6(c)), saved with its matrix;
//! - per (consumer, course), the next instant at which a result changes
//!   without a new event (feedback or due date passing) and the ecosystems
//!   the course uses, so a new matrix wakes the courses it affects (S1 fix 10).

use serde::{Deserialize, Serialize};

use crate::ids::{EcosystemId, ExerciseGroupId, ExerciseId, ResponseId, StudentId};
use crate::scheduler::Instant;

/// The first real response of a student to an exercise of an ecosystem: one
/// gradebook cell of a refit. A later-arriving response with an earlier
/// `responded_at` (ties: smaller response uuid) replaces the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FitResponse {
    /// The response's ecosystem.
    pub ecosystem: EcosystemId,
    /// The learner.
    pub student: StudentId,
    /// The question.
    pub exercise: ExerciseId,
    /// When it was answered.
    pub responded_at: Instant,
    /// The response (tiebreaker).
    pub response: ResponseId,
    /// Correctness.
    pub is_correct: bool,
}

impl FitResponse {
    /// Whether `self` is earlier than `other` (and so replaces it).
    pub fn precedes(&self, other: &FitResponse) -> bool {
        (self.responded_at, self.response) < (other.responded_at, other.response)
    }
}

/// Where a course stands for the wake-up queue: its next wake-up and the
/// ecosystems its results depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseSchedule {
    /// When the course's results next change without a new event (`None`:
    /// never, until a new event or matrix arrives).
    pub wake_at: Option<Instant>,
    /// The ecosystems the course's results are computed in, sorted.
    pub ecosystems: Vec<EcosystemId>,
}

/// What a course commit stores besides the state and results: fitting data,
/// group-count increases and the course's schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseExtras {
    /// New or earlier first real responses.
    pub fit_responses: Vec<FitResponse>,
    /// Increases of the real-response count per exercise group.
    pub group_counts: Vec<(ExerciseGroupId, u64)>,
    /// The course's schedule; `None` leaves the stored one.
    pub schedule: Option<CourseSchedule>,
}

impl CourseExtras {
    /// Whether nothing would be stored.
    pub fn is_empty(&self) -> bool {
        self.fit_responses.is_empty() && self.group_counts.is_empty() && self.schedule.is_none()
    }
}
