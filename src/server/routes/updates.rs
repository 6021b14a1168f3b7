//! The five update_* endpoints (api.md §5.8, §5.9): results of external
//! algorithms, upserted on (target, algorithm) in one transaction, last
//! write wins, served under the algorithm name given (A6). Core decodes the
//! body; a duplicate target in one call is a 400 naming both positions
//! (A10); a request uuid held by another row is a 422 (A4).

use serde_json::{json, Value};

use biglearn_core::engine_store::{EngineStore, EngineStoreError, ExternalUpdate, ResultKind};
use biglearn_core::events::{parse_result_updates, update_list_key};

use crate::server::{ApiError, App, Reply};

/// Handles one update_* endpoint.
pub fn handle(app: &App, kind: ResultKind, body: &Value) -> Result<Reply, ApiError> {
    let list_key = update_list_key(kind);
    let answer_key = match kind {
        ResultKind::AssignmentPes => "pe_update_responses",
        ResultKind::AssignmentSpes => "spe_update_responses",
        ResultKind::PracticeWorstAreas => "practice_worst_areas_update_responses",
        ResultKind::StudentClues => "student_clue_update_responses",
        ResultKind::TeacherClues => "teacher_clue_update_responses",
    };
    let items = parse_result_updates(kind, body)?;
    let updates: Vec<ExternalUpdate> = items.iter().map(|item| item.event.clone()).collect();
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
        .map(|item| json!({ "request_uuid": item.raw_uuid, "update_status": "accepted" }))
        .collect();
    Ok(Reply::json(json!({ answer_key: list })))
}
