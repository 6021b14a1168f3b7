//! The built-in `biglearn_sparfa` algorithm: TeSR priority order (sparfa.md
//! §7.2, F3) and SPARFA CLUEs (sparfa.md §6.2, F2) from a fitted
//! [`SparfaModel`], with the cold-start rules before the first fit.
//!
//! Model question ids are the exercises' uuids in canonical (lower-case,
//! hyphenated) form, as `ExerciseId`'s `Display` prints them.

use std::borrow::Cow;
use std::cell::RefCell;

use crate::fast_hash::FastHashMap;

use thiserror::Error;

use super::algorithm::{Algorithm, ClueRequest, ExerciseOrder, ExerciseOrderRequest};
use super::clue::ClueData;
use super::estimates::EstimateMemo;
use super::names::BuiltinAlgorithm;
use super::seed::{seed_from_ids, shuffle};
use crate::ids::{EcosystemId, EcosystemMatrixId, ExerciseId, StudentId};
use crate::sparfa::{
    latest_responses, Clue, ClueError, ClueOptions, ClueWorkspace, LearnerEstimate,
    LearnerWorkspace, QuestionIndex, SparfaModel, TesrWorkspace, TimedResponse, Timestamp,
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

/// The exercises a fitted matrix knows, by id: its question ids parsed
/// once, so a ranking or a CLUE looks exercises up without formatting or
/// hashing strings. Build it once per matrix (the engine keeps it with the
/// decoded matrix) and share it with [`BiglearnSparfa::indexed`].
#[derive(Debug, Clone, Default)]
pub struct ExerciseIndex {
    questions: FastHashMap<ExerciseId, QuestionIndex>,
    exercises: Vec<Option<ExerciseId>>,
}

impl ExerciseIndex {
    /// Indexes `model.question_ids` that are exercise uuids in canonical
    /// form (the form `ExerciseId` prints; others can never match an
    /// exercise); the first occurrence of a repeated id wins.
    pub fn new(model: &SparfaModel) -> Self {
        let mut questions = FastHashMap::default();
        let exercises: Vec<Option<ExerciseId>> = model
            .question_ids
            .iter()
            .map(|name| {
                uuid::Uuid::parse_str(name)
                    .ok()
                    .map(ExerciseId::from_uuid)
                    .filter(|id| id.to_string() == *name)
            })
            .collect();
        for (q, exercise) in exercises.iter().enumerate() {
            if let Some(exercise) = exercise {
                questions.entry(*exercise).or_insert(q as QuestionIndex);
            }
        }
        ExerciseIndex {
            questions,
            exercises,
        }
    }

    /// The model question of `exercise`, if the matrix knows it.
    pub fn question(&self, exercise: ExerciseId) -> Option<QuestionIndex> {
        self.questions.get(&exercise).copied()
    }

    /// The exercise of model question `question`, if its id is one.
    pub fn exercise(&self, question: QuestionIndex) -> Option<ExerciseId> {
        self.exercises.get(question as usize).copied().flatten()
    }
}

/// A fitted matrix with its id, exercise index and, when the caller keeps
/// one, the memo of its learner estimates.
#[derive(Debug, Clone)]
struct Fitted<'a> {
    id: EcosystemMatrixId,
    model: &'a SparfaModel,
    index: Cow<'a, ExerciseIndex>,
    memo: Option<&'a EstimateMemo>,
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
    /// Ranking buffers reused across calls.
    tesr: RefCell<TesrWorkspace>,
    /// CLUE buffers reused across calls.
    clue: RefCell<(ClueWorkspace, LearnerWorkspace)>,
}

impl<'a> BiglearnSparfa<'a> {
    /// The algorithm over the fitted `model` stored as matrix `matrix`.
    pub fn new(matrix: EcosystemMatrixId, model: &'a SparfaModel) -> Self {
        Self::fitted(matrix, model, Cow::Owned(ExerciseIndex::new(model)), None)
    }

    /// [`BiglearnSparfa::new`] with the matrix's exercise index built
    /// beforehand (`index` must be [`ExerciseIndex::new`] of `model`) and a
    /// memo of its learner estimates that outlives this value (`memo` must
    /// only ever have seen `model`).
    pub fn indexed(
        matrix: EcosystemMatrixId,
        model: &'a SparfaModel,
        index: &'a ExerciseIndex,
        memo: &'a EstimateMemo,
    ) -> Self {
        Self::fitted(matrix, model, Cow::Borrowed(index), Some(memo))
    }

    fn fitted(
        matrix: EcosystemMatrixId,
        model: &'a SparfaModel,
        index: Cow<'a, ExerciseIndex>,
        memo: Option<&'a EstimateMemo>,
    ) -> Self {
        BiglearnSparfa {
            fitted: Some(Fitted {
                id: matrix,
                model,
                index,
                memo,
            }),
            clue_options: ClueOptions::default(),
            tesr: RefCell::new(TesrWorkspace::default()),
            clue: RefCell::default(),
        }
    }

    /// The algorithm before the ecosystem's first fit (cold start).
    pub fn unfitted() -> Self {
        BiglearnSparfa {
            fitted: None,
            clue_options: ClueOptions::default(),
            tesr: RefCell::new(TesrWorkspace::default()),
            clue: RefCell::default(),
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
        self.index.question(exercise)
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
        let (mut exercises, mut unknown): (Vec<ExerciseId>, Vec<ExerciseId>) = match &self.fitted {
            Some(fitted) => {
                let nq = fitted
                    .model
                    .num_questions()
                    .min(fitted.model.loadings.len())
                    .min(fitted.model.intercepts.len());
                let mut known: Vec<QuestionIndex> = Vec::with_capacity(request.exercises.len());
                let mut unknown: Vec<ExerciseId> = Vec::new();
                for exercise in request.exercises {
                    match fitted.question(*exercise).filter(|&q| (q as usize) < nq) {
                        Some(q) => known.push(q),
                        None => unknown.push(*exercise),
                    }
                }
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
                let ranked =
                    self.tesr
                        .borrow_mut()
                        .rank_questions(fitted.model, &known, &responses);
                let known = ranked
                    .iter()
                    .filter_map(|r| fitted.index.exercise(r.question))
                    .collect();
                (known, unknown)
            }
            None => (Vec::new(), request.exercises.to_vec()),
        };
        // Canonical uuid strings sort as the uuids do, so this is the id order.
        unknown.sort_unstable();
        unknown.dedup();
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
        // Each student's responses in request order, in one pass over them.
        let mut timed: Vec<Vec<TimedResponse>> = vec![Vec::new(); students.len()];
        let slot: FastHashMap<StudentId, usize> =
            students.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        for r in request.responses {
            let (Some(&i), Some(q)) = (slot.get(&r.student), fitted.question(r.exercise)) else {
                continue;
            };
            timed[i].push(TimedResponse::new(
                q,
                r.is_correct,
                Timestamp::from_unix_micros(r.responded_at.as_micros()),
            ));
        }
        let learners: Vec<_> = timed.iter().map(|t| latest_responses(t)).collect();
        let targets: Vec<QuestionIndex> = request
            .exercises
            .iter()
            .filter_map(|e| fitted.question(*e))
            .collect();
        let clue = self
            .fitted_clue(fitted, &learners, &targets)
            .map_err(|source| SparfaAlgorithmError::Clue {
                ecosystem: request.ecosystem,
                matrix: fitted.id,
                source,
            })?;
        Ok(ClueData {
            minimum: clue.minimum,
            most_likely: clue.most_likely,
            maximum: clue.maximum,
            is_real: clue.is_real,
            ecosystem_uuid: Some(request.ecosystem),
        })
    }
}

impl BiglearnSparfa<'_> {
    /// The §6.2 CLUE of `learners` (gradebooks) on `targets`, as
    /// [`crate::sparfa::clue_interval`] computes it, with each learner's
    /// estimate taken from the matrix's memo when the caller keeps one.
    fn fitted_clue(
        &self,
        fitted: &Fitted<'_>,
        learners: &[Vec<crate::sparfa::LearnerResponse>],
        targets: &[QuestionIndex],
    ) -> Result<Clue, ClueError> {
        let c = self.clue_options.quantile()?;
        let model = fitted.model;
        let nq = model
            .num_questions()
            .min(model.loadings.len())
            .min(model.intercepts.len());
        let mut known: Vec<QuestionIndex> = targets
            .iter()
            .copied()
            .filter(|&q| (q as usize) < nq)
            .collect();
        known.sort_unstable();
        known.dedup();
        if known.is_empty() || learners.is_empty() {
            return Ok(Clue::NOT_REAL);
        }
        // A gradebook holds each question once: its entries on the targets
        // are its distinct (learner, target question) pairs.
        let evidence: Vec<usize> = learners
            .iter()
            .map(|l| {
                l.iter()
                    .filter(|r| known.binary_search(&r.question).is_ok())
                    .count()
            })
            .collect();
        if evidence.iter().sum::<usize>() < self.clue_options.min_responses {
            return Ok(Clue::NOT_REAL);
        }
        let mut buffers = self.clue.borrow_mut();
        let (clue_workspace, learner_workspace) = &mut *buffers;
        clue_workspace.set_loadings(self.clue_options.loadings);
        let loadings = self.clue_options.loadings.of(model);
        // The memo holds estimates under the fitted W (TeSR's); with pooled loadings
        // the CLUE infers its own.
        let memo = fitted
            .memo
            .filter(|_| std::ptr::eq(loadings, model.loadings.as_slice()));
        let estimates: Vec<std::sync::Arc<LearnerEstimate>> = learners
            .iter()
            .map(|gradebook| match memo {
                Some(memo) => memo.estimate(model, gradebook, learner_workspace),
                None => std::sync::Arc::new(
                    learner_workspace.infer_with_loadings(model, loadings, gradebook),
                ),
            })
            .collect();
        let pairs: Vec<(&LearnerEstimate, usize)> = estimates
            .iter()
            .zip(&evidence)
            .map(|(estimate, evidence)| (estimate.as_ref(), *evidence))
            .collect();
        Ok(
            match clue_workspace.latent_from_estimates(
                model,
                &pairs,
                &known,
                self.clue_options.min_responses,
            )? {
                Some(latent) => latent.to_clue(c),
                None => Clue::NOT_REAL,
            },
        )
    }
}
