//! Update bodies (api.md §5.8, §5.9): results of external algorithms,
//! `{ <list key>: [ update, … ] }` with at most [`MAX_BULK_ITEMS`] updates.
//! Duplicate targets and request uuids held by other rows are the store's
//! to find (they need the stored rows or the whole call).

use serde_json::{Map, Value};
use uuid::Uuid;

use super::clue::clue_data;
use super::{algorithm, update_list_key, Shape, MAX_EXERCISES};
use crate::engine_store::{
    ClueKey, ClueResult, ClueTarget, ExerciseKey, ExerciseResult, ExerciseTarget, ExternalUpdate,
    ResultKind, SpyInfo,
};
use crate::events::decode::{array, bulk, expected, uuid, uuid_with_text, Obj};
use crate::events::path::{At, ValidationErrors};
use crate::events::{Echoed, MAX_BULK_ITEMS};
use crate::ids::{BookContainerId, CalculationId, EcosystemMatrixId, ExerciseId, RequestId};

/// Parses the body of the update endpoint of `kind` into the upserts it
/// asks for, each with its `request_uuid` exactly as sent (echoed back, A9).
///
/// Exercise updates need `request_uuid`, the owner uuid, `algorithm_name`,
/// `calculation_uuid`, `ecosystem_matrix_uuid` and `exercise_uuids` (at
/// most [`MAX_EXERCISES`]), and may add a `spy_info` object (absent or
/// null: `{}`). CLUE updates need `request_uuid`, the owner uuid,
/// `book_container_uuid`, `algorithm_name`, `calculation_uuid` and
/// `clue_data`. Unknown keys of an update are ignored; at the top level and
/// inside `clue_data` they are errors.
pub fn parse_result_updates(
    kind: ResultKind,
    body: &Value,
) -> Result<Vec<Echoed<ExternalUpdate>>, ValidationErrors> {
    let list_key = update_list_key(kind);
    match Shape::of(kind) {
        Shape::Exercises { owner_key, target } => {
            bulk(body, list_key, MAX_BULK_ITEMS, |value, path, errs| {
                exercise_update(value, path, errs, owner_key, target)
            })
        }
        Shape::Clues { owner_key, target } => {
            bulk(body, list_key, MAX_BULK_ITEMS, |value, path, errs| {
                clue_update(value, path, errs, owner_key, target)
            })
        }
    }
}

fn exercise_update(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
    owner_key: &str,
    target: fn(Uuid) -> ExerciseTarget,
) -> Option<Echoed<ExternalUpdate>> {
    let o = Obj::new(value, path, errs)?;
    let request = o.required(errs, "request_uuid", uuid_with_text::<RequestId>);
    let owner = o.required(errs, owner_key, uuid::<Uuid>);
    let algorithm = o.required(errs, "algorithm_name", algorithm);
    let calculation = o.required(errs, "calculation_uuid", uuid::<CalculationId>);
    let matrix = o.required(errs, "ecosystem_matrix_uuid", uuid::<EcosystemMatrixId>);
    let exercises = o.required(
        errs,
        "exercise_uuids",
        array(Some(MAX_EXERCISES as usize), uuid::<ExerciseId>),
    );
    let spy = o.optional(errs, "spy_info", spy_info);
    let (request_uuid, raw_uuid) = request?;
    Some(Echoed {
        raw_uuid,
        event: ExternalUpdate::Exercise {
            request_uuid,
            key: ExerciseKey {
                target: target(owner?),
                algorithm: algorithm?,
            },
            result: ExerciseResult {
                calculation_uuid: calculation?,
                ecosystem_matrix_uuid: matrix?,
                exercise_uuids: exercises?,
                spy_info: SpyInfo(spy?.into_option().unwrap_or_default()),
            },
        },
    })
}

fn clue_update(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
    owner_key: &str,
    target: fn(Uuid, BookContainerId) -> ClueTarget,
) -> Option<Echoed<ExternalUpdate>> {
    let o = Obj::new(value, path, errs)?;
    let request = o.required(errs, "request_uuid", uuid_with_text::<RequestId>);
    let owner = o.required(errs, owner_key, uuid::<Uuid>);
    let book = o.required(errs, "book_container_uuid", uuid::<BookContainerId>);
    let algorithm = o.required(errs, "algorithm_name", algorithm);
    let calculation = o.required(errs, "calculation_uuid", uuid::<CalculationId>);
    let data = o.required(errs, "clue_data", clue_data);
    let (request_uuid, raw_uuid) = request?;
    Some(Echoed {
        raw_uuid,
        event: ExternalUpdate::Clue {
            request_uuid,
            key: ClueKey {
                target: target(owner?, book?),
                algorithm: algorithm?,
            },
            result: ClueResult {
                calculation_uuid: calculation?,
                ecosystem_matrix_uuid: None,
                clue_data: data?,
                spy_info: SpyInfo::default(),
            },
        },
    })
}

/// A `spy_info` object, kept verbatim.
fn spy_info(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map.clone()),
        other => {
            expected(errs, path, "an object", other);
            None
        }
    }
}
