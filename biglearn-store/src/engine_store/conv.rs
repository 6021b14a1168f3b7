//! Conversions between the engine-store rows and the core value types, and
//! the error type of the engine queries. Every conversion of stored data is
//! checked and reports [`StoreError::Corrupt`] naming the column.

use biglearn_core::engine_store::{
    AlgorithmName, ClueKey, ClueResult, ClueTarget, EngineStoreError, ExerciseKey, ExerciseResult,
    ExerciseTarget, ResultKey, ResultKind, SpyInfo, StateBlob,
};

use biglearn_core::ids::{CalculationId, EcosystemId, EcosystemMatrixId, ExerciseId, RequestId};
use biglearn_core::log::StoreError;
use biglearn_core::scheduler::ClueData;
use uuid::Uuid;

use crate::error::TxError;
use crate::rows::uuid_from_bytes;

/// A failure inside an engine write transaction: the database's, or a
/// rejection by the pure rules (which must roll the transaction back too).
#[derive(Debug)]
pub(crate) enum QueryError {
    /// A statement failed or stored data is corrupt.
    Tx(TxError),
    /// The rules rejected the call.
    Rejected(EngineStoreError),
}

impl From<diesel::result::Error> for QueryError {
    fn from(error: diesel::result::Error) -> Self {
        QueryError::Tx(TxError::from(error))
    }
}

impl From<StoreError> for QueryError {
    fn from(error: StoreError) -> Self {
        QueryError::Tx(TxError::from(error))
    }
}

impl From<TxError> for QueryError {
    fn from(error: TxError) -> Self {
        QueryError::Tx(error)
    }
}

impl From<EngineStoreError> for QueryError {
    fn from(error: EngineStoreError) -> Self {
        QueryError::Rejected(error)
    }
}

/// A uuid as stored (16 bytes).
pub(crate) fn bytes(uuid: &Uuid) -> Vec<u8> {
    uuid.as_bytes().to_vec()
}

/// An exercise list as stored: the uuids' bytes, concatenated.
pub(crate) fn pack_exercises(ids: &[ExerciseId]) -> Vec<u8> {
    ids.iter().flat_map(|id| *id.as_uuid().as_bytes()).collect()
}

/// Inverse of [`pack_exercises`].
pub(crate) fn unpack_exercises(packed: &[u8], column: &str) -> Result<Vec<ExerciseId>, StoreError> {
    if packed.len() % 16 != 0 {
        return Err(StoreError::Corrupt(format!(
            "{column} holds {} bytes, not a whole number of 16-byte uuids",
            packed.len()
        )));
    }
    packed
        .chunks_exact(16)
        .map(|chunk| uuid_from_bytes(chunk, column).map(ExerciseId::from_uuid))
        .collect()
}

/// A stored blob and its format version.
pub(crate) fn blob_from(
    version: i64,
    bytes: Vec<u8>,
    column: &str,
) -> Result<StateBlob, StoreError> {
    let format_version = u32::try_from(version).map_err(|_| {
        StoreError::Corrupt(format!("{column} format_version {version} is not a u32"))
    })?;
    Ok(StateBlob {
        format_version,
        bytes,
    })
}

/// A stored result kind code.
pub(crate) fn kind_from(code: i16, column: &str) -> Result<ResultKind, StoreError> {
    ResultKind::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} holds unknown result kind {code}")))
}

/// Stored spy info text.
pub(crate) fn spy_from(text: &str, column: &str) -> Result<SpyInfo, StoreError> {
    SpyInfo::from_json_text(text)
        .map_err(|e| StoreError::Corrupt(format!("{column} is not a JSON object: {e}")))
}

/// A `usize` limit as a SQL `BIGINT`.
pub(crate) fn limit_i64(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// An algorithm name as stored.
pub(crate) fn algorithm_from(name: String, column: &str) -> Result<AlgorithmName, StoreError> {
    AlgorithmName::new(&name).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// An exercise-result row as selected: kind, target, algorithm, calculation,
/// matrix, packed exercise list, spy info.
pub(crate) type ExerciseRow = (i16, Vec<u8>, String, Vec<u8>, Vec<u8>, Vec<u8>, String);

/// A stored exercise result and its key.
pub(crate) fn exercise_from_row(
    row: ExerciseRow,
) -> Result<(ExerciseKey, ExerciseResult), StoreError> {
    let (kind, target, algorithm, calculation, matrix, list, spy) = row;
    let column = "engine_exercise_results";
    let kind = kind_from(kind, column)?;
    let target = ExerciseTarget::from_parts(kind, uuid_from_bytes(&target, column)?)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} holds CLUE kind {kind:?}")))?;
    let key = ExerciseKey {
        target,
        algorithm: algorithm_from(algorithm, column)?,
    };
    let result = ExerciseResult {
        calculation_uuid: CalculationId::from_uuid(uuid_from_bytes(&calculation, column)?),
        ecosystem_matrix_uuid: EcosystemMatrixId::from_uuid(uuid_from_bytes(&matrix, column)?),
        exercise_uuids: unpack_exercises(&list, "engine_exercise_results.exercise_uuids")?,
        spy_info: spy_from(&spy, "engine_exercise_results.spy_info")?,
    };
    Ok((key, result))
}

/// A CLUE row as selected: kind, owner, book container, algorithm,
/// calculation, matrix, (minimum, most likely, maximum, is_real, ecosystem),
/// spy info.
pub(crate) type ClueRow = (
    i16,
    Vec<u8>,
    Vec<u8>,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    (f64, f64, f64, bool, Option<Vec<u8>>),
    String,
);

/// A stored CLUE and its key.
pub(crate) fn clue_from_row(row: ClueRow) -> Result<(ClueKey, ClueResult), StoreError> {
    let (kind, owner, book_container, algorithm, calculation, matrix, data, spy) = row;
    let (minimum, most_likely, maximum, is_real, ecosystem) = data;
    let column = "engine_clue_results";
    let kind = kind_from(kind, column)?;
    let target = ClueTarget::from_parts(
        kind,
        uuid_from_bytes(&owner, column)?,
        uuid_from_bytes(&book_container, column)?,
    )
    .ok_or_else(|| StoreError::Corrupt(format!("{column} holds exercise kind {kind:?}")))?;
    let key = ClueKey {
        target,
        algorithm: algorithm_from(algorithm, column)?,
    };
    let optional = |value: Option<Vec<u8>>| value.map(|v| uuid_from_bytes(&v, column)).transpose();
    let result = ClueResult {
        calculation_uuid: CalculationId::from_uuid(uuid_from_bytes(&calculation, column)?),
        ecosystem_matrix_uuid: optional(matrix)?.map(EcosystemMatrixId::from_uuid),
        clue_data: ClueData {
            minimum,
            most_likely,
            maximum,
            is_real,
            ecosystem_uuid: optional(ecosystem)?.map(EcosystemId::from_uuid),
        },
        spy_info: spy_from(&spy, "engine_clue_results.spy_info")?,
    };
    Ok((key, result))
}

/// A request-uuid holder row of the exercise table: request uuid, target,
/// algorithm.
pub(crate) type ExerciseHolderRow = (Option<Vec<u8>>, Vec<u8>, String);

/// The request uuids and keys of exercise rows of `kind`.
pub(crate) fn exercise_holders(
    kind: ResultKind,
    rows: Vec<ExerciseHolderRow>,
) -> Result<Vec<(RequestId, ResultKey)>, StoreError> {
    let column = "engine_exercise_results";
    let mut holders = Vec::with_capacity(rows.len());
    for (request, target, algorithm) in rows {
        let Some(request) = request else { continue };
        let target = ExerciseTarget::from_parts(kind, uuid_from_bytes(&target, column)?)
            .ok_or_else(|| StoreError::Corrupt(format!("{column} holds CLUE kind {kind:?}")))?;
        let key = ExerciseKey {
            target,
            algorithm: algorithm_from(algorithm, column)?,
        };
        let request = RequestId::from_uuid(uuid_from_bytes(&request, column)?);
        holders.push((request, ResultKey::Exercise(key)));
    }
    Ok(holders)
}

/// A request-uuid holder row of the CLUE table: request uuid, owner, book
/// container, algorithm.
pub(crate) type ClueHolderRow = (Option<Vec<u8>>, Vec<u8>, Vec<u8>, String);

/// The request uuids and keys of CLUE rows of `kind`.
pub(crate) fn clue_holders(
    kind: ResultKind,
    rows: Vec<ClueHolderRow>,
) -> Result<Vec<(RequestId, ResultKey)>, StoreError> {
    let column = "engine_clue_results";
    let mut holders = Vec::with_capacity(rows.len());
    for (request, owner, book_container, algorithm) in rows {
        let Some(request) = request else { continue };
        let target = ClueTarget::from_parts(
            kind,
            uuid_from_bytes(&owner, column)?,
            uuid_from_bytes(&book_container, column)?,
        )
        .ok_or_else(|| StoreError::Corrupt(format!("{column} holds exercise kind {kind:?}")))?;
        let key = ClueKey {
            target,
            algorithm: algorithm_from(algorithm, column)?,
        };
        let request = RequestId::from_uuid(uuid_from_bytes(&request, column)?);
        holders.push((request, ResultKey::Clue(key)));
    }
    Ok(holders)
}

/// One course-state part to upsert (`super::upsert`).
#[derive(Debug)]
pub(crate) struct NewPartRow<'a> {
    pub consumer: &'a str,
    pub course_uuid: &'a [u8],
    pub part_kind: i16,
    pub part_uuid: Vec<u8>,
    pub format_version: i64,
    pub part: &'a [u8],
}

/// One exercise result to upsert (`super::upsert`).
#[derive(Debug)]
pub(crate) struct NewExerciseRow {
    pub kind: i16,
    pub target_uuid: Vec<u8>,
    pub algorithm_name: String,
    pub request_uuid: Option<Vec<u8>>,
    pub calculation_uuid: Vec<u8>,
    pub ecosystem_matrix_uuid: Vec<u8>,
    pub exercise_uuids: Vec<u8>,
    pub spy_info: String,
}

impl NewExerciseRow {
    /// The row of `result` at `key`, held under `request_uuid`.
    pub(crate) fn new(
        key: &ExerciseKey,
        result: &ExerciseResult,
        request_uuid: Option<Vec<u8>>,
    ) -> Self {
        NewExerciseRow {
            kind: key.target.kind().code(),
            target_uuid: bytes(&key.target.uuid()),
            algorithm_name: key.algorithm.as_str().to_owned(),
            request_uuid,
            calculation_uuid: bytes(result.calculation_uuid.as_uuid()),
            ecosystem_matrix_uuid: bytes(result.ecosystem_matrix_uuid.as_uuid()),
            exercise_uuids: pack_exercises(&result.exercise_uuids),
            spy_info: result.spy_info.to_json_text(),
        }
    }
}

/// One CLUE result to upsert (`super::upsert`).
#[derive(Debug)]
pub(crate) struct NewClueRow {
    pub kind: i16,
    pub owner_uuid: Vec<u8>,
    pub book_container_uuid: Vec<u8>,
    pub algorithm_name: String,
    pub request_uuid: Option<Vec<u8>>,
    pub calculation_uuid: Vec<u8>,
    pub ecosystem_matrix_uuid: Option<Vec<u8>>,
    pub minimum: f64,
    pub most_likely: f64,
    pub maximum: f64,
    pub is_real: bool,
    pub clue_ecosystem_uuid: Option<Vec<u8>>,
    pub spy_info: String,
}

impl NewClueRow {
    /// The row of `result` at `key`, held under `request_uuid`.
    pub(crate) fn new(key: &ClueKey, result: &ClueResult, request_uuid: Option<Vec<u8>>) -> Self {
        let data = &result.clue_data;
        NewClueRow {
            kind: key.target.kind().code(),
            owner_uuid: bytes(&key.target.owner_uuid()),
            book_container_uuid: bytes(key.target.book_container().as_uuid()),
            algorithm_name: key.algorithm.as_str().to_owned(),
            request_uuid,
            calculation_uuid: bytes(result.calculation_uuid.as_uuid()),
            ecosystem_matrix_uuid: result.ecosystem_matrix_uuid.map(|m| bytes(m.as_uuid())),
            minimum: data.minimum,
            most_likely: data.most_likely,
            maximum: data.maximum,
            is_real: data.is_real,
            clue_ecosystem_uuid: data.ecosystem_uuid.map(|e| bytes(e.as_uuid())),
            spy_info: result.spy_info.to_json_text(),
        }
    }
}
