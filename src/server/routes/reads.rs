//! The engine reads (api.md §5.7, §5.9; A6): results stored under the
//! requested algorithm name (built-in names are what the engine writes,
//! others what external algorithms pushed), keyed per sub-request, with the
//! production statuses and the `Biglearn-Lag-Events` header (A6b).

use std::collections::HashSet;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use biglearn_core::engine_store::{
    AlgorithmName, ClueData, ClueKey, ClueTarget, EngineStore, ExerciseKey, ExerciseTarget,
    ResultKind,
};
use biglearn_core::events::JsonPath;
use biglearn_core::ids::{
    AssignmentId, BookContainerId, CourseContainerId, CourseId, ExerciseId, StudentId,
};
use biglearn_core::log::IdQuery;

use crate::server::input::{algorithm, bulk, integer_in, uuid, uuid_text, Obj, MAX_EXERCISES};
use crate::server::{ApiError, App, Reply};

struct ExerciseRead {
    request_uuid: String,
    target: Uuid,
    target_raw: String,
    algorithm: AlgorithmName,
    max: Option<u64>,
}

struct ClueRead {
    request_uuid: String,
    owner: Uuid,
    book_container: BookContainerId,
    algorithm: AlgorithmName,
}

/// fetch_assignment_pes / fetch_assignment_spes /
/// fetch_practice_worst_areas_exercises.
pub fn exercises(app: &App, kind: ResultKind, body: &Value) -> Result<Reply, ApiError> {
    let (list_key, target_key, answer_key, status_key, status_prefix) = match kind {
        ResultKind::AssignmentPes => (
            "pe_requests",
            "assignment_uuid",
            "pe_responses",
            "assignment_status",
            "assignment",
        ),
        ResultKind::AssignmentSpes => (
            "spe_requests",
            "assignment_uuid",
            "spe_responses",
            "assignment_status",
            "assignment",
        ),
        _ => (
            "worst_areas_requests",
            "student_uuid",
            "worst_areas_responses",
            "student_status",
            "student",
        ),
    };
    let reads = bulk(body, list_key, |value, path, errs| {
        let o = Obj::new(value, path.clone(), errs)?;
        let request = o.required(errs, "request_uuid", uuid_text);
        let target = o.required(errs, target_key, uuid_text);
        let algorithm = o.required(errs, "algorithm_name", algorithm);
        let max = o.optional(errs, "max_num_exercises", integer_in(0, MAX_EXERCISES));
        let (target, target_raw) = target?;
        Some(ExerciseRead {
            request_uuid: request?.1,
            target,
            target_raw,
            algorithm: algorithm?,
            max: max?,
        })
    })?;
    let target_of = |id: Uuid| match kind {
        ResultKind::AssignmentPes => ExerciseTarget::AssignmentPes(AssignmentId::from_uuid(id)),
        ResultKind::AssignmentSpes => ExerciseTarget::AssignmentSpes(AssignmentId::from_uuid(id)),
        _ => ExerciseTarget::PracticeWorstAreas(StudentId::from_uuid(id)),
    };
    let keys: Vec<ExerciseKey> = reads
        .iter()
        .map(|r| ExerciseKey {
            target: target_of(r.target),
            algorithm: r.algorithm.clone(),
        })
        .collect();
    let mut query = IdQuery::default();
    for read in &reads {
        match kind {
            ResultKind::PracticeWorstAreas => {
                query.students.push(StudentId::from_uuid(read.target))
            }
            _ => query.assignments.push(AssignmentId::from_uuid(read.target)),
        }
    }
    let owners = app
        .registry
        .owners(&query)
        .map_err(ApiError::store("looking up ids"))?;
    let courses: Vec<Option<CourseId>> = reads
        .iter()
        .map(|read| match kind {
            ResultKind::PracticeWorstAreas => owners
                .students
                .get(&StudentId::from_uuid(read.target))
                .copied(),
            _ => owners
                .assignments
                .get(&AssignmentId::from_uuid(read.target))
                .copied(),
        })
        .collect();
    let lag = lag_before_reading(app, &courses)?;
    let results = app
        .store
        .exercise_results(&keys)
        .map_err(ApiError::store("reading exercise results"))?;
    let mut list = Vec::with_capacity(reads.len());
    for ((read, result), course) in reads.iter().zip(results).zip(&courses) {
        let mut item = Map::new();
        item.insert("request_uuid".into(), json!(read.request_uuid));
        match result {
            Some(result) => {
                item.insert(
                    "calculation_uuid".into(),
                    json!(result.calculation_uuid.to_string()),
                );
                item.insert(
                    "ecosystem_matrix_uuid".into(),
                    json!(result.ecosystem_matrix_uuid.to_string()),
                );
                item.insert(target_key.into(), json!(read.target_raw));
                let exercises = dedup_truncate(&result.exercise_uuids, read.max);
                item.insert("exercise_uuids".into(), json!(exercises));
                item.insert(status_key.into(), json!(format!("{status_prefix}_ready")));
                item.insert("spy_info".into(), Value::Object(result.spy_info.0));
            }
            None => {
                let status = if course.is_some() {
                    "unready"
                } else {
                    "unknown"
                };
                item.insert("calculation_uuid".into(), Value::Null);
                item.insert("ecosystem_matrix_uuid".into(), Value::Null);
                item.insert(target_key.into(), json!(read.target_raw));
                item.insert("exercise_uuids".into(), json!([]));
                item.insert(
                    status_key.into(),
                    json!(format!("{status_prefix}_{status}")),
                );
                item.insert("spy_info".into(), json!({}));
            }
        }
        list.push(Value::Object(item));
    }
    Ok(Reply {
        body: json!({ answer_key: list }),
        lag: Some(lag),
    })
}

/// The stored list without duplicates (first occurrence kept), then the
/// first `max` (api.md §5.7).
fn dedup_truncate(exercises: &[ExerciseId], max: Option<u64>) -> Vec<String> {
    let limit = max.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
    let mut seen = HashSet::with_capacity(exercises.len());
    exercises
        .iter()
        .filter(|e| seen.insert(**e))
        .take(limit)
        .map(ToString::to_string)
        .collect()
}

/// fetch_student_clues / fetch_teacher_clues.
pub fn clues(app: &App, kind: ResultKind, body: &Value) -> Result<Reply, ApiError> {
    let teacher = kind == ResultKind::TeacherClues;
    let (list_key, owner_key, answer_key, unknown_owner) = if teacher {
        (
            "teacher_clue_requests",
            "course_container_uuid",
            "teacher_clue_responses",
            "course_container_unknown",
        )
    } else {
        (
            "student_clue_requests",
            "student_uuid",
            "student_clue_responses",
            "student_unknown",
        )
    };
    let reads = bulk(body, list_key, |value, path: &JsonPath, errs| {
        let o = Obj::new(value, path.clone(), errs)?;
        let request = o.required(errs, "request_uuid", uuid_text);
        let owner = o.required(errs, owner_key, uuid);
        let book = o.required(errs, "book_container_uuid", uuid);
        let algorithm = o.required(errs, "algorithm_name", algorithm);
        Some(ClueRead {
            request_uuid: request?.1,
            owner: owner?,
            book_container: BookContainerId::from_uuid(book?),
            algorithm: algorithm?,
        })
    })?;
    let keys: Vec<ClueKey> = reads
        .iter()
        .map(|r| ClueKey {
            target: if teacher {
                ClueTarget::Teacher {
                    course_container: CourseContainerId::from_uuid(r.owner),
                    book_container: r.book_container,
                }
            } else {
                ClueTarget::Student {
                    student: StudentId::from_uuid(r.owner),
                    book_container: r.book_container,
                }
            },
            algorithm: r.algorithm.clone(),
        })
        .collect();
    let mut query = IdQuery::default();
    for read in &reads {
        if teacher {
            query
                .course_containers
                .push(CourseContainerId::from_uuid(read.owner));
        } else {
            query.students.push(StudentId::from_uuid(read.owner));
        }
        query.book_containers.push(read.book_container);
    }
    let owners = app
        .registry
        .owners(&query)
        .map_err(ApiError::store("looking up ids"))?;
    let courses: Vec<Option<CourseId>> = reads
        .iter()
        .map(|read| {
            if teacher {
                owners
                    .course_containers
                    .get(&CourseContainerId::from_uuid(read.owner))
                    .copied()
            } else {
                owners
                    .students
                    .get(&StudentId::from_uuid(read.owner))
                    .copied()
            }
        })
        .collect();
    let lag = lag_before_reading(app, &courses)?;
    let results = app
        .store
        .clue_results(&keys)
        .map_err(ApiError::store("reading CLUEs"))?;
    let mut list = Vec::with_capacity(reads.len());
    for ((read, result), course) in reads.iter().zip(results).zip(&courses) {
        let item = match result {
            Some(result) => json!({
                "request_uuid": read.request_uuid,
                "calculation_uuid": result.calculation_uuid.to_string(),
                "clue_data": clue_json(&result.clue_data),
                "clue_status": "clue_ready",
            }),
            None => {
                let ecosystem = owners.book_containers.get(&read.book_container);
                let mut data = json!({
                    "minimum": 0,
                    "most_likely": 0.5,
                    "maximum": 1,
                    "is_real": false,
                });
                let status = match ecosystem {
                    None => "book_container_unknown",
                    Some(ecosystem) => {
                        data["ecosystem_uuid"] = json!(ecosystem.to_string());
                        if course.is_some() {
                            "clue_unready"
                        } else {
                            unknown_owner
                        }
                    }
                };
                json!({
                    "request_uuid": read.request_uuid,
                    "calculation_uuid": null,
                    "clue_data": data,
                    "clue_status": status,
                })
            }
        };
        list.push(item);
    }
    Ok(Reply {
        body: json!({ answer_key: list }),
        lag: Some(lag),
    })
}

/// The lag (A6b) of the courses a read touches, taken BEFORE the results are
/// read: the engine commits results and its watermark together, so a lag of 0
/// here promises that the results read next reflect every event accepted
/// before this request. (Taken after the read, an engine commit in between
/// would pair stale results with a lag of 0.)
fn lag_before_reading(app: &App, courses: &[Option<CourseId>]) -> Result<u64, ApiError> {
    app.lag(courses.iter().flatten().copied())
        .map_err(ApiError::store("computing the lag"))
}

/// A stored CLUE as its `clue_data` object.
fn clue_json(data: &ClueData) -> Value {
    let mut value = json!({
        "minimum": data.minimum,
        "most_likely": data.most_likely,
        "maximum": data.maximum,
        "is_real": data.is_real,
    });
    if let Some(ecosystem) = data.ecosystem_uuid {
        value["ecosystem_uuid"] = json!(ecosystem.to_string());
    }
    value
}
