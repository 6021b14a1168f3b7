//! The first real response per (ecosystem, student, exercise): the data a
//! refit fits on (sparfa.md §2.2, §3.3). The projection finds these rows and
//! the engine store keeps them, so the type lives apart from both and neither
//! depends on the other for it.

use serde::{Deserialize, Serialize};

use crate::ids::{EcosystemId, ExerciseId, ResponseId, StudentId};
use crate::time::Instant;

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
