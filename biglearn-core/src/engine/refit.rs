//! Background SPARFA refits (F4, scheduler.md §1.6(c), S1 fixes 10 and 14).
//!
//! Course commits raise the real-response count of each exercise group
//! (distinct trials, across courses and versions) and store the first real
//! response per (ecosystem, student, exercise). An ecosystem needs a refit
//! when it was never fitted, or when one of its groups reached the threshold
//! its last refit set, floor(1.1·count)+1 ([`pending_refits`]). A refit
//! ([`refit_ecosystem`]) fits W and d on the stored responses with the
//! SPARFA defaults, hinting each exercise with its pages, saves the matrix
//! with the new thresholds of every group of the ecosystem (the per-ecosystem
//! reset of fix 14), and wakes the courses that use the ecosystem, whose
//! next step recalculates their CLUEs and exercises (fix 10).
//!
//! These are plain functions of a store and an ecosystem state: a server can
//! run them on another thread, with its own store handle, while steps go on.
//! The matrix uuid is derived from the ecosystem and the fitted data (S2), so
//! refitting the same data gives the same matrix.

use crate::fast_hash::FastHashMap;
use std::collections::BTreeMap;

use uuid::Uuid;

use crate::engine_store::{EngineStore, EngineStoreError, MatrixSlot, StateBlob};
use crate::gradebook::FitResponse;
use crate::ids::{EcosystemId, EcosystemMatrixId, ExerciseGroupId};
use crate::log::StoreError;
use crate::projection::{
    decode_state, encode_state, BlobError, EcosystemState, ExerciseGroupCounts, GroupCount,
    STATE_VERSION,
};
use crate::scheduler::constants::next_update_response_count;
use crate::scheduler::seed_from_ids;
use crate::sparfa::data::{Cell, CellMatrix, Hints};
use crate::sparfa::fit::{fit, FitOptions};
use crate::sparfa::weights::{penalties_for, size_factor};
use crate::sparfa::{ConceptIndex, SparfaError};
use crate::time::Instant;

use super::algs::MATRIX_FORMAT_VERSION;

/// Why a refit did not store a matrix.
#[derive(Debug, thiserror::Error)]
pub enum RefitError {
    /// The store failed while reading.
    #[error("refit of ecosystem {ecosystem}: {source}")]
    Store {
        /// The ecosystem.
        ecosystem: EcosystemId,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// Saving the matrix or waking the courses failed.
    #[error("refit of ecosystem {ecosystem}: {what} failed: {source}")]
    Write {
        /// The ecosystem.
        ecosystem: EcosystemId,
        /// What was being written.
        what: &'static str,
        /// The store's error.
        #[source]
        source: EngineStoreError,
    },
    /// The ecosystem has not been imported (no create_ecosystem applied).
    #[error("refit of ecosystem {ecosystem}: the ecosystem has not been imported")]
    UnknownEcosystem {
        /// The ecosystem.
        ecosystem: EcosystemId,
    },
    /// The stored thresholds or the model could not be (de)serialized.
    #[error("refit of ecosystem {ecosystem}: {what}: {source}")]
    Blob {
        /// The ecosystem.
        ecosystem: EcosystemId,
        /// Which blob.
        what: &'static str,
        /// The blob error.
        #[source]
        source: BlobError,
    },
    /// Bringing the ecosystem states up to date failed.
    #[error("refit: syncing the ecosystem states failed: {0}")]
    Sync(#[source] Box<super::EngineError>),
    /// The fit itself failed.
    #[error("refit of ecosystem {ecosystem}: fitting failed: {source}")]
    Fit {
        /// The ecosystem.
        ecosystem: EcosystemId,
        /// The SPARFA error.
        #[source]
        source: SparfaError,
    },
}

/// What one refit did.
#[derive(Debug, Clone, PartialEq)]
pub struct RefitReport {
    /// The ecosystem refitted.
    pub ecosystem: EcosystemId,
    /// The new matrix's uuid.
    pub matrix_uuid: EcosystemMatrixId,
    /// Gradebook cells fitted on.
    pub responses: usize,
    /// Distinct learners.
    pub learners: usize,
    /// Questions (every exercise of the ecosystem).
    pub questions: usize,
    /// Outer iterations of the fit.
    pub iterations: usize,
    /// Whether the fit met its stopping rule.
    pub converged: bool,
    /// Course schedules brought forward (S1 fix 10).
    pub courses_woken: usize,
}

/// The refit counters of one ecosystem: the stored group counts against the
/// thresholds its last refit saved (`None` when never fitted: every group
/// starts triggered, §1.3).
pub fn ecosystem_counts(
    store: &impl EngineStore,
    ecosystem: &EcosystemState,
) -> Result<ExerciseGroupCounts, RefitError> {
    let id = ecosystem.id;
    let read = |source| RefitError::Store {
        ecosystem: id,
        source,
    };
    let groups: Vec<ExerciseGroupId> = ecosystem.groups().into_iter().collect();
    let counts = store.group_counts(&groups).map_err(read)?;
    let thresholds: Option<BTreeMap<ExerciseGroupId, u64>> = store
        .refit_thresholds(id)
        .map_err(read)?
        .map(|blob| decode_thresholds(id, &blob))
        .transpose()?;
    let mut out = ExerciseGroupCounts::default();
    for (group, count) in groups.into_iter().zip(counts) {
        let entry = match thresholds.as_ref() {
            None => GroupCount {
                response_count: count,
                ..GroupCount::default()
            },
            Some(thresholds) => {
                let next = thresholds
                    .get(&group)
                    .copied()
                    .unwrap_or_else(|| next_update_response_count(0));
                GroupCount {
                    response_count: count,
                    next_update_response_count: next,
                    trigger: count >= next,
                }
            }
        };
        out.groups.insert(group, entry);
    }
    Ok(out)
}

fn decode_thresholds(
    ecosystem: EcosystemId,
    blob: &StateBlob,
) -> Result<BTreeMap<ExerciseGroupId, u64>, RefitError> {
    let fail = |source| RefitError::Blob {
        ecosystem,
        what: "stored refit thresholds",
        source,
    };
    if blob.format_version != STATE_VERSION {
        return Err(fail(BlobError::UnsupportedVersion {
            found: blob.format_version,
            supported: STATE_VERSION,
        }));
    }
    decode_state(&blob.bytes).map_err(fail)
}

/// The imported ecosystems of `ecosystems` that need a refit, in id order:
/// never fitted, or with a triggered group.
pub fn pending_refits<'e>(
    store: &impl EngineStore,
    ecosystems: impl IntoIterator<Item = &'e EcosystemState>,
) -> Result<Vec<EcosystemId>, RefitError> {
    let mut pending = Vec::new();
    for ecosystem in ecosystems {
        if !ecosystem.imported {
            continue;
        }
        if !ecosystem_counts(store, ecosystem)?.triggered().is_empty() {
            pending.push(ecosystem.id);
        }
    }
    pending.sort();
    Ok(pending)
}

/// The gradebook of a refit: every exercise of the ecosystem is a question
/// (in book order), hinted with the pages whose pools hold it (or, for an
/// exercise on no page, its containers); learners in uuid order.
struct FitInput {
    cells: CellMatrix,
    hints: Hints,
    question_ids: Vec<String>,
    learners: usize,
    responses: usize,
}

fn fit_input(ecosystem: &EcosystemState, rows: &[FitResponse]) -> Result<FitInput, SparfaError> {
    let mut question_index = FastHashMap::default();
    let mut question_ids = Vec::with_capacity(ecosystem.exercise_order.len());
    for exercise in &ecosystem.exercise_order {
        if !question_index.contains_key(exercise) {
            question_index.insert(*exercise, question_ids.len() as u32);
            question_ids.push(exercise.to_string());
        }
    }
    let mut concept_ids = Vec::new();
    let mut concept_index: FastHashMap<crate::ids::BookContainerId, ConceptIndex> =
        FastHashMap::default();
    let mut by_question = vec![Vec::new(); question_ids.len()];
    for exercise in &ecosystem.exercise_order {
        let (Some(&q), Some(entry)) = (
            question_index.get(exercise),
            ecosystem.exercises.get(exercise),
        ) else {
            continue;
        };
        let pages: Vec<_> = entry
            .book_containers
            .iter()
            .filter(|bc| ecosystem.containers.get(bc).is_some_and(|n| n.is_page()))
            .copied()
            .collect();
        let concepts = if pages.is_empty() {
            entry.book_containers.clone()
        } else {
            pages
        };
        for bc in concepts {
            let k = *concept_index.entry(bc).or_insert_with(|| {
                concept_ids.push(bc.to_string());
                (concept_ids.len() - 1) as ConceptIndex
            });
            by_question[q as usize].push(k);
        }
    }
    let mut learner_index = FastHashMap::default();
    let mut cells = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(&question) = question_index.get(&row.exercise) else {
            continue;
        };
        let next = learner_index.len() as u32;
        let learner = *learner_index.entry(row.student).or_insert(next);
        cells.push(Cell {
            learner,
            question,
            correct: row.is_correct,
        });
    }
    let learners = learner_index.len();
    Ok(FitInput {
        cells: CellMatrix::new(learners, question_ids.len(), &cells)?,
        hints: Hints::new(concept_ids, by_question)?,
        question_ids,
        learners,
        responses: cells.len(),
    })
}

/// The matrix uuid of a fit (S2): the ecosystem and every fitted cell.
fn matrix_uuid(ecosystem: EcosystemId, rows: &[FitResponse]) -> EcosystemMatrixId {
    let mut ids = Vec::with_capacity(2 + 3 * rows.len());
    ids.push(Uuid::from(ecosystem));
    ids.push(Uuid::from_u128(rows.len() as u128));
    for row in rows {
        ids.push(row.student.into());
        ids.push(row.exercise.into());
        ids.push(Uuid::from_u128(u128::from(row.is_correct)));
    }
    EcosystemMatrixId::from_uuid(seed_from_ids("biglearn.engine.matrix", &ids).uuid())
}

/// Refits `ecosystem` on its stored first real responses with `options`
/// (`None`: SPARFA's defaults with the weights scaled to the data size,
/// [`crate::sparfa::weights`], which are F1's λ = 2 on data of F1's size and
/// keep the learner prior effective as an ecosystem's response count grows),
/// saves the matrix with new thresholds for every group of the ecosystem,
/// and wakes the courses using it at `now`.
pub fn refit_ecosystem(
    store: &impl EngineStore,
    ecosystem: &EcosystemState,
    now: Instant,
    options: Option<&FitOptions>,
) -> Result<RefitReport, RefitError> {
    let id = ecosystem.id;
    if !ecosystem.imported {
        return Err(RefitError::UnknownEcosystem { ecosystem: id });
    }
    // Counts first: responses counted while the fit runs raise the counts
    // past these thresholds and trigger the next refit.
    let mut counts = ecosystem_counts(store, ecosystem)?;
    let rows = store
        .fit_responses(id)
        .map_err(|source| RefitError::Store {
            ecosystem: id,
            source,
        })?;
    let fit_error = |source| RefitError::Fit {
        ecosystem: id,
        source,
    };
    let input = fit_input(ecosystem, &rows).map_err(fit_error)?;
    let scaled;
    let options = match options {
        Some(options) => options,
        None => {
            let factor = size_factor(&input.cells, &input.hints);
            scaled = FitOptions {
                penalties: penalties_for(2.0 * factor),
                ..FitOptions::default()
            };
            &scaled
        }
    };
    let output =
        fit(&input.cells, &input.hints, &input.question_ids, options).map_err(fit_error)?;
    let model_bytes = encode_state(&output.model).map_err(|source| RefitError::Blob {
        ecosystem: id,
        what: "the fitted model",
        source,
    })?;
    let groups: Vec<ExerciseGroupId> = counts.groups.keys().copied().collect();
    counts.refitted(groups);
    let thresholds: BTreeMap<ExerciseGroupId, u64> = counts
        .groups
        .iter()
        .map(|(g, c)| (*g, c.next_update_response_count))
        .collect();
    let total: u64 = counts.groups.values().map(|c| c.response_count).sum();
    let threshold_bytes = encode_state(&thresholds).map_err(|source| RefitError::Blob {
        ecosystem: id,
        what: "the refit thresholds",
        source,
    })?;
    let matrix = matrix_uuid(id, &rows);
    let slot = MatrixSlot {
        matrix_uuid: matrix,
        response_count_threshold: next_update_response_count(total),
        model: StateBlob {
            format_version: MATRIX_FORMAT_VERSION,
            bytes: model_bytes,
        },
    };
    let blob = StateBlob {
        format_version: STATE_VERSION,
        bytes: threshold_bytes,
    };
    store
        .save_refit(id, &slot, &blob)
        .map_err(|source| RefitError::Write {
            ecosystem: id,
            what: "saving the matrix",
            source,
        })?;
    let courses_woken = store
        .wake_courses_using(id, now)
        .map_err(|source| RefitError::Write {
            ecosystem: id,
            what: "waking the courses using it",
            source,
        })?;
    Ok(RefitReport {
        ecosystem: id,
        matrix_uuid: matrix,
        responses: input.responses,
        learners: input.learners,
        questions: input.question_ids.len(),
        iterations: output.iterations,
        converged: output.converged,
        courses_woken,
    })
}
