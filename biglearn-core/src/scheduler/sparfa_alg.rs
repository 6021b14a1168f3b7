//! The built-in `biglearn_sparfa` algorithm: TeSR priority order (sparfa.md
//! §7.2, F3) and SPARFA CLUEs (sparfa.md §6.2, F2) from a fitted
//! [`SparfaModel`], with the cold-start rules before the first fit.
//!
//! Model question ids are the exercises' uuids in canonical (lower-case,
//! hyphenated) form, as `ExerciseId`'s `Display` prints them.

use std::collections::HashMap;

use thiserror::Error;

use super::algorithm::{Algorithm, ClueRequest, ExerciseOrder, ExerciseOrderRequest};
use super::clue::ClueData;
use super::names::BuiltinAlgorithm;
use super::seed::{seed_from_ids, shuffle};
use crate::ids::{EcosystemId, EcosystemMatrixId, ExerciseId, StudentId};
use crate::sparfa::{
    clue_interval, latest_responses, rank_exercises, ClueError, ClueOptions, QuestionIndex,
    QuestionLookup, SparfaModel, TimedResponse, Timestamp,
};

/// Seed domain of the shuffle of exercises the matrix does not know (S2).
const UNKNOWN_SEED_DOMAIN: &str = "biglearn.biglearn_sparfa.unknown_exercises";
/// Seed domain of the matrix id reported before the first fit.
const NO_MATRIX_SEED_DOMAIN: &str = "biglearn.biglearn_sparfa.no_matrix";

/// Why a `biglearn_sparfa` calculation failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SparfaAlgorithmError {
    /// The SPARFA CLUE could not be computed.
    #[error("SPARFA CLUE for ecosystem {ecosystem} (matrix {matrix}) failed: {source}")]
    Clue {
        /// The CLUE's ecosystem.
        ecosystem: EcosystemId,
        /// The matrix used.
        matrix: EcosystemMatrixId,
        /// The underlying error.
        #[source]
        source: ClueError,
    },
}

/// A fitted matrix with its id and question lookup.
#[derive(Debug, Clone)]
struct Fitted<'a> {
    id: EcosystemMatrixId,
    model: &'a SparfaModel,
    lookup: QuestionLookup,
}

/// `biglearn_sparfa` for one ecosystem: with a fitted matrix, TeSR order plus
/// the seeded shuffle of unknown exercises, and SPARFA CLUEs; before the
/// first fit ([`BiglearnSparfa::unfitted`]) every exercise is unknown, so the
/// order is the seeded shuffle and every CLUE is not real
/// (`{0, 0.5, 1, false}`, sparfa.md §6.2 step 1).
#[derive(Debug, Clone)]
pub struct BiglearnSparfa<'a> {
    fitted: Option<Fitted<'a>>,
    clue_options: ClueOptions,
}

impl<'a> BiglearnSparfa<'a> {
    /// The algorithm over the fitted `model` stored as matrix `matrix`.
    pub fn new(matrix: EcosystemMatrixId, model: &'a SparfaModel) -> Self {
        BiglearnSparfa {
            fitted: Some(Fitted {
                id: matrix,
                model,
                lookup: QuestionLookup::new(model),
            }),
            clue_options: ClueOptions::default(),
        }
    }

    /// The algorithm before the ecosystem's first fit (cold start).
    pub fn unfitted() -> Self {
        BiglearnSparfa {
            fitted: None,
            clue_options: ClueOptions::default(),
        }
    }

    /// Replaces the CLUE options (confidence 0.5 and N_min = 3 by default, F2).
    pub fn with_clue_options(mut self, options: ClueOptions) -> Self {
        self.clue_options = options;
        self
    }

    fn matrix_id(&self, ecosystem: EcosystemId) -> EcosystemMatrixId {
        match &self.fitted {
            Some(fitted) => fitted.id,
            None => EcosystemMatrixId::from_uuid(
                seed_from_ids(NO_MATRIX_SEED_DOMAIN, &[ecosystem.into()]).uuid(),
            ),
        }
    }
}

impl Fitted<'_> {
    fn question(&self, exercise: ExerciseId) -> Option<QuestionIndex> {
        self.lookup.get(&exercise.to_string())
    }
}

impl Algorithm for BiglearnSparfa<'_> {
    type Error = SparfaAlgorithmError;

    fn algorithm(&self) -> BuiltinAlgorithm {
        BuiltinAlgorithm::BiglearnSparfa
    }

    /// TeSR over the exercises the matrix knows (the student's responses give
    /// û), then the unknown ones in a shuffle seeded from (calculation,
    /// ecosystem, student). Repeated exercises appear once.
    fn exercise_order(
        &self,
        request: &ExerciseOrderRequest<'_>,
    ) -> Result<ExerciseOrder, Self::Error> {
        let mut by_name: HashMap<String, ExerciseId> = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        for exercise in request.exercises {
            let name = exercise.to_string();
            if by_name.insert(name.clone(), *exercise).is_none() {
                names.push(name);
            }
        }
        let (mut exercises, mut unknown): (Vec<ExerciseId>, Vec<ExerciseId>) = match &self.fitted {
            Some(fitted) => {
                let responses: Vec<TimedResponse> = request
                    .responses
                    .iter()
                    .filter_map(|r| {
                        fitted.question(r.exercise).map(|q| {
                            TimedResponse::new(
                                q,
                                r.is_correct,
                                Timestamp::from_unix_micros(r.responded_at.as_micros()),
                            )
                        })
                    })
                    .collect();
                let ranking = rank_exercises(fitted.model, &fitted.lookup, &names, &responses);
                let known = ranking
                    .ranked
                    .iter()
                    .filter_map(|r| fitted.model.question_ids.get(r.question as usize))
                    .filter_map(|name| by_name.get(name).copied())
                    .collect();
                let unknown = ranking
                    .unknown
                    .iter()
                    .filter_map(|name| by_name.get(name).copied())
                    .collect();
                (known, unknown)
            }
            None => {
                let mut all: Vec<ExerciseId> = by_name.values().copied().collect();
                all.sort_unstable();
                (Vec::new(), all)
            }
        };
        let student = request.student.map_or(uuid::Uuid::nil(), StudentId::into);
        let seed = seed_from_ids(
            UNKNOWN_SEED_DOMAIN,
            &[
                request.calculation.into(),
                request.ecosystem.into(),
                student,
            ],
        );
        shuffle(&mut seed.rng(), &mut unknown);
        exercises.extend(unknown);
        Ok(ExerciseOrder {
            exercises,
            ecosystem_matrix: self.matrix_id(request.ecosystem),
        })
    }

    /// The §6.2 CLUE of the request's students (or, if none are listed, of the
    /// students who responded) on the CLUE's exercises known to the matrix;
    /// each learner's gradebook is its latest response per exercise.
    fn clue(&self, request: &ClueRequest<'_>) -> Result<ClueData, Self::Error> {
        let Some(fitted) = &self.fitted else {
            return Ok(ClueData::not_real(request.ecosystem));
        };
        let mut students: Vec<StudentId> = Vec::new();
        let listed = if request.students.is_empty() {
            request.responses.iter().map(|r| r.student).collect()
        } else {
            request.students.to_vec()
        };
        for student in listed {
            if !students.contains(&student) {
                students.push(student);
            }
        }
        let learners: Vec<_> = students
            .iter()
            .map(|student| {
                let timed: Vec<TimedResponse> = request
                    .responses
                    .iter()
                    .filter(|r| r.student == *student)
                    .filter_map(|r| {
                        fitted.question(r.exercise).map(|q| {
                            TimedResponse::new(
                                q,
                                r.is_correct,
                                Timestamp::from_unix_micros(r.responded_at.as_micros()),
                            )
                        })
                    })
                    .collect();
                latest_responses(&timed)
            })
            .collect();
        let targets: Vec<QuestionIndex> = request
            .exercises
            .iter()
            .filter_map(|e| fitted.question(*e))
            .collect();
        let clue = clue_interval(fitted.model, &learners, &targets, &self.clue_options).map_err(
            |source| SparfaAlgorithmError::Clue {
                ecosystem: request.ecosystem,
                matrix: fitted.id,
                source,
            },
        )?;
        Ok(ClueData {
            minimum: clue.minimum,
            most_likely: clue.most_likely,
            maximum: clue.maximum,
            is_real: clue.is_real,
            ecosystem: request.ecosystem,
        })
    }
}
