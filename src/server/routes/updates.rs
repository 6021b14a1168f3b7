//! The five update_* endpoints (api.md §5.8, §5.9): results of external
//! algorithms, upserted on (target, algorithm) in one transaction, last
//! write wins, served under the algorithm name given (A6). A duplicate
//! target in one call is a 400 naming both positions (A10); a request uuid
//! held by another row is a 422 (A4).

use serde_json::{json, Value};
use uuid::Uuid;

use biglearn_core::engine_store::{
    ClueKey, ClueResult, ClueTarget, EngineStore, EngineStoreError, ExerciseKey, ExerciseResult,
    ExerciseTarget, ExternalUpdate, ResultKind, SpyInfo,
};
use biglearn_core::ids::{
    AssignmentId, BookContainerId, CalculationId, CourseContainerId, EcosystemMatrixId, ExerciseId,
    RequestId, StudentId,
};

use crate::server::input::{
    algorithm, array, bulk, clue_data, spy_info, uuid, uuid_text, Obj, MAX_EXERCISES,
};
use crate::server::{ApiError, App, Reply};

/// Handles one update_* endpoint.
pub fn handle(app: &App, kind: ResultKind, body: &Value) -> Result<Reply, ApiError> {
    let (list_key, answer_key) = match kind {
        ResultKind::AssignmentPes => ("pe_updates", "pe_update_responses"),
        ResultKind::AssignmentSpes => ("spe_updates", "spe_update_responses"),
        ResultKind::PracticeWorstAreas => (
            "practice_worst_areas_updates",
            "practice_worst_areas_update_responses",
        ),
        ResultKind::StudentClues => ("student_clue_updates", "student_clue_update_responses"),
        ResultKind::TeacherClues => ("teacher_clue_updates", "teacher_clue_update_responses"),
    };
    let items: Vec<(String, ExternalUpdate)> = if kind.is_clue() {
        bulk(body, list_key, |value, path, errs| {
            clue_item(kind, value, path, errs)
        })?
    } else {
        bulk(body, list_key, |value, path, errs| {
            exercise_item(kind, value, path, errs)
        })?
    };
    let updates: Vec<ExternalUpdate> = items.iter().map(|(_, u)| u.clone()).collect();
    app.store.upsert_external(&updates).map_err(|error| match error {
        EngineStoreError::DuplicateTarget { first, second, key } => ApiError::invalid(format!(
            "{list_key}[{second}]: writes {key} like {list_key}[{first}]; a call may write each target once"
        )),
        EngineStoreError::NonFiniteClue { index, .. } => ApiError::invalid(format!(
            "{list_key}[{index}].clue_data: numbers must be finite"
        )),
        EngineStoreError::RequestUuidConflict {
            index,
            request_uuid,
            holder,
        } => ApiError::Conflict(vec![format!(
            "{list_key}[{index}].request_uuid: {request_uuid} is already used by {holder}"
        )]),
        EngineStoreError::Store(source) => ApiError::Store {
            during: "storing results",
            source,
        },
        other => ApiError::Internal(other.to_string()),
    })?;
    let list: Vec<Value> = items
        .iter()
        .map(|(raw, _)| json!({ "request_uuid": raw, "update_status": "accepted" }))
        .collect();
    Ok(Reply::json(json!({ answer_key: list })))
}

fn exercise_item(
    kind: ResultKind,
    value: &Value,
    path: &biglearn_core::events::JsonPath,
    errs: &mut crate::server::input::Errors,
) -> Option<(String, ExternalUpdate)> {
    let target_key = if kind == ResultKind::PracticeWorstAreas {
        "student_uuid"
    } else {
        "assignment_uuid"
    };
    let o = Obj::new(value, path.clone(), errs)?;
    let request = o.required(errs, "request_uuid", uuid_text);
    let target = o.required(errs, target_key, uuid);
    let algorithm = o.required(errs, "algorithm_name", algorithm);
    let calculation = o.required(errs, "calculation_uuid", uuid);
    let matrix = o.required(errs, "ecosystem_matrix_uuid", uuid);
    let exercises = o.required(errs, "exercise_uuids", |v, p, e| {
        array(v, p, e, MAX_EXERCISES as usize, uuid)
    });
    let spy = o.optional(errs, "spy_info", spy_info);
    let (request_uuid, raw) = request?;
    let target: Uuid = target?;
    let target = match kind {
        ResultKind::AssignmentPes => ExerciseTarget::AssignmentPes(AssignmentId::from_uuid(target)),
        ResultKind::AssignmentSpes => {
            ExerciseTarget::AssignmentSpes(AssignmentId::from_uuid(target))
        }
        _ => ExerciseTarget::PracticeWorstAreas(StudentId::from_uuid(target)),
    };
    Some((
        raw,
        ExternalUpdate::Exercise {
            request_uuid: RequestId::from_uuid(request_uuid),
            key: ExerciseKey {
                target,
                algorithm: algorithm?,
            },
            result: ExerciseResult {
                calculation_uuid: CalculationId::from_uuid(calculation?),
                ecosystem_matrix_uuid: EcosystemMatrixId::from_uuid(matrix?),
                exercise_uuids: exercises?.into_iter().map(ExerciseId::from_uuid).collect(),
                spy_info: SpyInfo(spy?.unwrap_or_default()),
            },
        },
    ))
}

fn clue_item(
    kind: ResultKind,
    value: &Value,
    path: &biglearn_core::events::JsonPath,
    errs: &mut crate::server::input::Errors,
) -> Option<(String, ExternalUpdate)> {
    let owner_key = if kind == ResultKind::TeacherClues {
        "course_container_uuid"
    } else {
        "student_uuid"
    };
    let o = Obj::new(value, path.clone(), errs)?;
    let request = o.required(errs, "request_uuid", uuid_text);
    let owner = o.required(errs, owner_key, uuid);
    let book = o.required(errs, "book_container_uuid", uuid);
    let algorithm = o.required(errs, "algorithm_name", algorithm);
    let calculation = o.required(errs, "calculation_uuid", uuid);
    let data = o.required(errs, "clue_data", clue_data);
    let (request_uuid, raw) = request?;
    let book_container = BookContainerId::from_uuid(book?);
    let owner = owner?;
    let target = if kind == ResultKind::TeacherClues {
        ClueTarget::Teacher {
            course_container: CourseContainerId::from_uuid(owner),
            book_container,
        }
    } else {
        ClueTarget::Student {
            student: StudentId::from_uuid(owner),
            book_container,
        }
    };
    Some((
        raw,
        ExternalUpdate::Clue {
            request_uuid: RequestId::from_uuid(request_uuid),
            key: ClueKey {
                target,
                algorithm: algorithm?,
            },
            result: ClueResult {
                calculation_uuid: CalculationId::from_uuid(calculation?),
                ecosystem_matrix_uuid: None,
                clue_data: data?,
                spy_info: SpyInfo::default(),
            },
        },
    ))
}
