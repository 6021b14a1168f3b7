//! Read bodies (api.md §5.7, §5.9): `{ <list key>: [ sub-request, … ] }`
//! with at most [`MAX_BULK_ITEMS`] sub-requests.

use serde_json::Value;
use uuid::Uuid;

use super::{algorithm, read_list_key, Shape, MAX_EXERCISES};
use crate::engine_store::{ClueKey, ExerciseKey, ResultKind};
use crate::events::decode::{bulk, integer_in, uuid, uuid_with_text, Obj};
use crate::events::path::{At, ValidationErrors};
use crate::events::MAX_BULK_ITEMS;
use crate::ids::BookContainerId;

/// One sub-request of fetch_assignment_pes, fetch_assignment_spes or
/// fetch_practice_worst_areas_exercises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExerciseRead {
    /// `request_uuid` exactly as sent (echoed back, A9).
    pub request_uuid: String,
    /// The assignment or student uuid exactly as sent (echoed back).
    pub owner_uuid: String,
    /// The stored result asked for.
    pub key: ExerciseKey,
    /// How many exercises to return at most; `None` (absent or null) for
    /// the whole list.
    pub max_num_exercises: Option<u64>,
}

/// One sub-request of fetch_student_clues or fetch_teacher_clues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClueRead {
    /// `request_uuid` exactly as sent (echoed back, A9).
    pub request_uuid: String,
    /// The stored CLUE asked for.
    pub key: ClueKey,
}

/// A parsed read body, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultReads {
    /// fetch_assignment_pes / _spes / fetch_practice_worst_areas_exercises.
    Exercises(Vec<ExerciseRead>),
    /// fetch_student_clues / fetch_teacher_clues.
    Clues(Vec<ClueRead>),
}

/// Parses the body of the read endpoint of `kind`: every sub-request needs
/// `request_uuid`, the owner uuid (see [`super::owner_key`]) and
/// `algorithm_name`; exercise reads may add `max_num_exercises` (0 to
/// [`MAX_EXERCISES`]), CLUE reads need `book_container_uuid`. Unknown keys
/// of a sub-request are ignored; at the top level they are errors.
///
/// ```
/// use biglearn_core::engine_store::ResultKind;
/// use biglearn_core::events::{parse_result_reads, ResultReads};
/// let body = serde_json::json!({"pe_requests": [{
///     "request_uuid": "1E2D3C4B-0000-4000-8000-000000000001",
///     "assignment_uuid": "1e2d3c4b-0000-4000-8000-000000000002",
///     "algorithm_name": "Biglearn_SPARFA",
/// }]});
/// let Ok(ResultReads::Exercises(reads)) = parse_result_reads(ResultKind::AssignmentPes, &body)
/// else { panic!("valid") };
/// assert_eq!(reads[0].request_uuid, "1E2D3C4B-0000-4000-8000-000000000001");
/// assert_eq!(reads[0].key.algorithm.as_str(), "biglearn_sparfa");
/// assert_eq!(reads[0].max_num_exercises, None);
/// ```
pub fn parse_result_reads(kind: ResultKind, body: &Value) -> Result<ResultReads, ValidationErrors> {
    let list_key = read_list_key(kind);
    match Shape::of(kind) {
        Shape::Exercises { owner_key, target } => {
            bulk(body, list_key, MAX_BULK_ITEMS, |value, path, errs| {
                exercise_read(value, path, errs, owner_key, target)
            })
            .map(ResultReads::Exercises)
        }
        Shape::Clues { owner_key, target } => {
            bulk(body, list_key, MAX_BULK_ITEMS, |value, path, errs| {
                clue_read(value, path, errs, owner_key, target)
            })
            .map(ResultReads::Clues)
        }
    }
}

fn exercise_read(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
    owner_key: &str,
    target: fn(Uuid) -> crate::engine_store::ExerciseTarget,
) -> Option<ExerciseRead> {
    let o = Obj::new(value, path, errs)?;
    let request = o.required(errs, "request_uuid", uuid_with_text::<Uuid>);
    let owner = o.required(errs, owner_key, uuid_with_text::<Uuid>);
    let algorithm = o.required(errs, "algorithm_name", algorithm);
    let max = o.optional(errs, "max_num_exercises", integer_in(0, MAX_EXERCISES));
    let (owner, owner_uuid) = owner?;
    Some(ExerciseRead {
        request_uuid: request?.1,
        owner_uuid,
        key: ExerciseKey {
            target: target(owner),
            algorithm: algorithm?,
        },
        max_num_exercises: max?.into_option(),
    })
}

fn clue_read(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
    owner_key: &str,
    target: fn(Uuid, BookContainerId) -> crate::engine_store::ClueTarget,
) -> Option<ClueRead> {
    let o = Obj::new(value, path, errs)?;
    let request = o.required(errs, "request_uuid", uuid_with_text::<Uuid>);
    let owner = o.required(errs, owner_key, uuid::<Uuid>);
    let book = o.required(errs, "book_container_uuid", uuid::<BookContainerId>);
    let algorithm = o.required(errs, "algorithm_name", algorithm);
    Some(ClueRead {
        request_uuid: request?.1,
        key: ClueKey {
            target: target(owner?, book?),
            algorithm: algorithm?,
        },
    })
}
