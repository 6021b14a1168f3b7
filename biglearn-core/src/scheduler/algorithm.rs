//! The algorithm interface (scheduler.md §0: a priority order and CLUEs) and
//! the built-in `local_query` algorithm (§2.3, §3.4, S2).

use serde::{Deserialize, Serialize};

use super::clue::{local_query_clue, ClueData};
use super::names::BuiltinAlgorithm;
use super::seed::{seed_from_ids, shuffle};
use crate::ids::{CalculationId, EcosystemId, EcosystemMatrixId, ExerciseId, StudentId, TrialId};
use crate::time::Instant;

/// One response as an algorithm sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlgorithmResponse {
    /// Who answered.
    pub student: StudentId,
    /// The trial answered.
    pub trial: TrialId,
    /// The exercise answered.
    pub exercise: ExerciseId,
    /// Whether the (latest) answer is correct.
    pub is_correct: bool,
    /// When it was (last) answered.
    pub responded_at: Instant,
}

/// An exercise calculation request (§1.6(a) `fetch_exercise_calculations`).
#[derive(Debug, Clone, Copy)]
pub struct ExerciseOrderRequest<'a> {
    /// The calculation (its uuid seeds any randomness, S2).
    pub calculation: CalculationId,
    /// The ecosystem.
    pub ecosystem: EcosystemId,
    /// The student; `None` for the default (cold-start) calculation.
    pub student: Option<StudentId>,
    /// Every exercise of the ecosystem, unfiltered (S1 fix 7).
    pub exercises: &'a [ExerciseId],
    /// The student's responses, oldest first.
    pub responses: &'a [AlgorithmResponse],
}

/// An algorithm's answer to an exercise calculation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseOrder {
    /// Every requested exercise, best first.
    pub exercises: Vec<ExerciseId>,
    /// The matrix the order was computed with.
    pub ecosystem_matrix: EcosystemMatrixId,
}

/// A CLUE calculation request (§1.6(b) `fetch_clue_calculations`).
#[derive(Debug, Clone, Copy)]
pub struct ClueRequest<'a> {
    /// The ecosystem the CLUE is for.
    pub ecosystem: EcosystemId,
    /// The students (one for a student CLUE, the container's for a teacher CLUE).
    pub students: &'a [StudentId],
    /// The CLUE's exercises (§3.1).
    pub exercises: &'a [ExerciseId],
    /// The responses that count (§3.2), in processing order.
    pub responses: &'a [AlgorithmResponse],
}

/// A built-in algorithm: it orders an ecosystem's exercises for a student and
/// computes CLUEs. Everything else — pools, exclusions, histories, counts —
/// stays in the scheduler (scheduler.md §0).
pub trait Algorithm {
    /// Why a calculation failed.
    type Error: std::error::Error;

    /// Which built-in algorithm this is.
    fn algorithm(&self) -> BuiltinAlgorithm;

    /// The priority order (§2.3) for one calculation: a permutation of
    /// `request.exercises`.
    fn exercise_order(
        &self,
        request: &ExerciseOrderRequest<'_>,
    ) -> Result<ExerciseOrder, Self::Error>;

    /// The CLUE for one calculation.
    fn clue(&self, request: &ClueRequest<'_>) -> Result<ClueData, Self::Error>;
}

/// `local_query`: a seeded uniform shuffle (§2.3, S2) and the §3.4 CLUE.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalQuery;

/// Seed domain of local_query's ordering.
const ORDER_SEED_DOMAIN: &str = "biglearn.local_query.exercise_order";

impl Algorithm for LocalQuery {
    type Error = std::convert::Infallible;

    fn algorithm(&self) -> BuiltinAlgorithm {
        BuiltinAlgorithm::LocalQuery
    }

    /// Shuffles the exercises with a ChaCha20 stream seeded from (calculation,
    /// ecosystem, student); the matrix id is drawn from the same seed.
    fn exercise_order(
        &self,
        request: &ExerciseOrderRequest<'_>,
    ) -> Result<ExerciseOrder, Self::Error> {
        let student = request.student.map_or(uuid::Uuid::nil(), Into::into);
        let seed = seed_from_ids(
            ORDER_SEED_DOMAIN,
            &[
                request.calculation.into(),
                request.ecosystem.into(),
                student,
            ],
        );
        let mut exercises = request.exercises.to_vec();
        shuffle(&mut seed.rng(), &mut exercises);
        Ok(ExerciseOrder {
            exercises,
            ecosystem_matrix: EcosystemMatrixId::from_uuid(seed.uuid()),
        })
    }

    /// The §3.4 formula over the responses' (trial, correctness).
    fn clue(&self, request: &ClueRequest<'_>) -> Result<ClueData, Self::Error> {
        let responses: Vec<(TrialId, bool)> = request
            .responses
            .iter()
            .map(|r| (r.trial, r.is_correct))
            .collect();
        Ok(local_query_clue(&responses, request.ecosystem))
    }
}
