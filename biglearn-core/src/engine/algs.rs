//! The two built-in algorithms behind one interface, with the fitted
//! matrices of the ecosystems a course uses.

use crate::fast_hash::FastHashMap;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine_store::{AlgorithmName, EngineStore};
use crate::ids::{EcosystemId, EcosystemMatrixId};
use crate::log::StoreError;
use crate::projection::{decode_state, CourseState, STATE_VERSION};
use crate::scheduler::{
    Algorithm, BiglearnSparfa, BuiltinAlgorithm, ClueData, ClueRequest, EstimateMemo,
    ExerciseIndex, ExerciseOrder, ExerciseOrderRequest, HistoryType, LocalQuery, ResolvedAlgorithm,
};
use crate::sparfa::SparfaModel;

/// The format version of a [`crate::engine_store::MatrixSlot`] model the
/// engine reads: a [`SparfaModel`] written with
/// [`crate::projection::encode_state`].
pub const MATRIX_FORMAT_VERSION: u32 = STATE_VERSION;

/// A decoded matrix with its exercise index, built once per stored matrix.
#[derive(Debug)]
pub struct DecodedMatrix {
    /// The fitted model.
    pub model: SparfaModel,
    /// Its questions by exercise id.
    pub index: ExerciseIndex,
    /// Its learner estimates by gradebook, shared by every course's
    /// calculations while the matrix is current.
    pub estimates: EstimateMemo,
}

impl DecodedMatrix {
    fn new(model: SparfaModel) -> Self {
        let index = ExerciseIndex::new(&model);
        DecodedMatrix {
            model,
            index,
            estimates: EstimateMemo::default(),
        }
    }
}

/// The fitted matrices of the ecosystems one course refers to.
#[derive(Debug, Default)]
pub struct Matrices {
    models: BTreeMap<EcosystemId, (EcosystemMatrixId, Arc<DecodedMatrix>)>,
    /// Stored matrices that could not be read (their ecosystems run cold).
    pub failures: Vec<String>,
}

/// Decoded matrices by ecosystem, reused while the stored matrix uuid is
/// the same (a matrix blob is decoded once, not once per course bundle).
#[derive(Debug, Default)]
pub struct MatrixCache {
    decoded: FastHashMap<EcosystemId, (EcosystemMatrixId, Arc<DecodedMatrix>)>,
}

impl Matrices {
    /// Loads the stored matrix of every ecosystem `course` refers to
    /// (current, initial, prepared, of its assignments and responses).
    pub fn load(store: &impl EngineStore, course: &CourseState) -> Result<Self, StoreError> {
        Self::load_cached(store, course, &mut MatrixCache::default())
    }

    /// [`Matrices::load`], decoding only matrices `cache` does not hold.
    pub fn load_cached(
        store: &impl EngineStore,
        course: &CourseState,
        cache: &mut MatrixCache,
    ) -> Result<Self, StoreError> {
        let mut matrices = Matrices::default();
        for id in super::wake::ecosystems_of(course) {
            let Some(matrix_uuid) = store.matrix_id(id)? else {
                cache.decoded.remove(&id);
                continue;
            };
            if let Some((cached, model)) = cache.decoded.get(&id) {
                if *cached == matrix_uuid {
                    matrices.models.insert(id, (matrix_uuid, Arc::clone(model)));
                    continue;
                }
            }
            let Some(slot) = store.matrix(id)? else {
                continue;
            };
            if slot.model.format_version != MATRIX_FORMAT_VERSION {
                matrices.failures.push(format!(
                    "matrix {} of ecosystem {id} has format version {}, expected {MATRIX_FORMAT_VERSION}; using cold-start rules",
                    slot.matrix_uuid, slot.model.format_version
                ));
                continue;
            }
            match decode_state::<SparfaModel>(&slot.model.bytes) {
                Ok(model) => {
                    let model = Arc::new(DecodedMatrix::new(model));
                    cache
                        .decoded
                        .insert(id, (slot.matrix_uuid, Arc::clone(&model)));
                    matrices.models.insert(id, (slot.matrix_uuid, model));
                }
                Err(error) => matrices.failures.push(format!(
                    "matrix {} of ecosystem {id} is unreadable ({error}); using cold-start rules",
                    slot.matrix_uuid
                )),
            }
        }
        Ok(matrices)
    }

    /// The matrix uuid of every ecosystem with a readable matrix.
    pub fn ids(&self) -> BTreeMap<EcosystemId, EcosystemMatrixId> {
        self.models
            .iter()
            .map(|(ecosystem, (id, _))| (*ecosystem, *id))
            .collect()
    }

    /// The algorithms over these matrices, each fitted one indexed once.
    pub fn algorithms(&self) -> Algorithms<'_> {
        Algorithms {
            fitted: self
                .models
                .iter()
                .map(|(ecosystem, (id, model))| {
                    let alg =
                        BiglearnSparfa::indexed(*id, &model.model, &model.index, &model.estimates);
                    (*ecosystem, (alg, *id))
                })
                .collect(),
            cold: BiglearnSparfa::unfitted(),
        }
    }
}

/// `biglearn_sparfa` per ecosystem (fitted where a matrix is stored) and
/// `local_query`, built once per bundle.
#[derive(Debug)]
pub struct Algorithms<'m> {
    fitted: BTreeMap<EcosystemId, (BiglearnSparfa<'m>, EcosystemMatrixId)>,
    cold: BiglearnSparfa<'static>,
}

impl Algorithms<'_> {
    /// Both built-in algorithms for `ecosystem`: `local_query`, then
    /// `biglearn_sparfa` (fitted when a matrix is stored, else cold).
    pub fn for_ecosystem(&self, ecosystem: EcosystemId) -> [Builtin<'_>; 2] {
        let sparfa = match self.fitted.get(&ecosystem) {
            Some((alg, id)) => Builtin::Sparfa(alg, Some(*id)),
            None => Builtin::Sparfa(&self.cold, None),
        };
        [Builtin::Local(LocalQuery), sparfa]
    }
}

/// One built-in algorithm, ready for one ecosystem.
#[derive(Debug)]
pub enum Builtin<'a> {
    /// `local_query`.
    Local(LocalQuery),
    /// `biglearn_sparfa` and its fitted matrix id, if any.
    Sparfa(&'a BiglearnSparfa<'a>, Option<EcosystemMatrixId>),
}

impl Builtin<'_> {
    /// Which algorithm.
    pub fn algorithm(&self) -> BuiltinAlgorithm {
        match self {
            Builtin::Local(alg) => alg.algorithm(),
            Builtin::Sparfa(alg, _) => alg.algorithm(),
        }
    }

    /// The name PEs, worst areas and CLUEs are stored under.
    pub fn name(&self) -> AlgorithmName {
        AlgorithmName::builtin(self.algorithm())
    }

    /// The name one SPE variant is stored under.
    pub fn spe_name(&self, history: HistoryType) -> Result<AlgorithmName, String> {
        AlgorithmName::resolved(&ResolvedAlgorithm::BuiltIn {
            algorithm: self.algorithm(),
            history_type: Some(history),
        })
        .map_err(|e| e.to_string())
    }

    /// The matrix a CLUE of this algorithm carries.
    pub fn clue_matrix(&self) -> Option<EcosystemMatrixId> {
        match self {
            Builtin::Local(_) => None,
            Builtin::Sparfa(_, matrix) => *matrix,
        }
    }

    /// The priority order; the error names the algorithm.
    pub fn order(&self, request: &ExerciseOrderRequest<'_>) -> Result<ExerciseOrder, String> {
        match self {
            Builtin::Local(alg) => alg.exercise_order(request).map_err(|e| e.to_string()),
            Builtin::Sparfa(alg, _) => alg
                .exercise_order(request)
                .map_err(|e| format!("biglearn_sparfa exercise order: {e}")),
        }
    }

    /// The CLUE; the error names the algorithm.
    pub fn clue(&self, request: &ClueRequest<'_>) -> Result<ClueData, String> {
        match self {
            Builtin::Local(alg) => alg.clue(request).map_err(|e| e.to_string()),
            Builtin::Sparfa(alg, _) => alg
                .clue(request)
                .map_err(|e| format!("biglearn_sparfa CLUE: {e}")),
        }
    }
}

/// Every name a built-in result of an assignment's PEs is stored under.
pub fn pe_names() -> [AlgorithmName; 2] {
    [
        AlgorithmName::builtin(BuiltinAlgorithm::LocalQuery),
        AlgorithmName::builtin(BuiltinAlgorithm::BiglearnSparfa),
    ]
}

/// Every name a built-in SPE result is stored under.
pub fn spe_names() -> Vec<AlgorithmName> {
    let mut names = Vec::new();
    for algorithm in [
        BuiltinAlgorithm::LocalQuery,
        BuiltinAlgorithm::BiglearnSparfa,
    ] {
        for history in [HistoryType::InstructorDriven, HistoryType::StudentDriven] {
            let resolved = ResolvedAlgorithm::BuiltIn {
                algorithm,
                history_type: Some(history),
            };
            if let Ok(name) = AlgorithmName::resolved(&resolved) {
                names.push(name);
            }
        }
    }
    names
}
