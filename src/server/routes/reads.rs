//! The engine reads (api.md §5.7, §5.9; A6): results stored under the
//! requested algorithm name (built-in names are what the engine writes,
//! others what external algorithms pushed), keyed per sub-request, with the
//! production statuses and the `Biglearn-Lag-Events` header (A6b).

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use biglearn_core::engine_store::{
    ClueTarget, EngineStore, ExerciseKey, ExerciseTarget, ResultKind,
};
use biglearn_core::events::{
    clue_data_json, not_real_clue_json, owner_key, parse_result_reads, ClueRead, ExerciseRead,
    ResultReads,
};
use biglearn_core::ids::{CourseId, ExerciseId};
use biglearn_core::log::IdQuery;

use crate::server::{ApiError, App, Reply};

/// One read endpoint: the body decoded by core, then answered from the
/// stored results.
pub fn handle(app: &App, kind: ResultKind, body: &Value) -> Result<Reply, ApiError> {
    match parse_result_reads(kind, body)? {
        ResultReads::Exercises(reads) => exercises(app, kind, &reads),
        ResultReads::Clues(reads) => clues(app, kind, &reads),
    }
}

/// fetch_assignment_pes / fetch_assignment_spes /
/// fetch_practice_worst_areas_exercises.
fn exercises(app: &App, kind: ResultKind, reads: &[ExerciseRead]) -> Result<Reply, ApiError> {
    let target_key = owner_key(kind);
    let (answer_key, status_key, status_prefix) = match kind {
        ResultKind::AssignmentPes => ("pe_responses", "assignment_status", "assignment"),
        ResultKind::AssignmentSpes => ("spe_responses", "assignment_status", "assignment"),
        _ => ("worst_areas_responses", "student_status", "student"),
    };
    let keys: Vec<ExerciseKey> = reads.iter().map(|r| r.key.clone()).collect();
    let mut query = IdQuery::default();
    for key in &keys {
        match key.target {
            ExerciseTarget::AssignmentPes(assignment)
            | ExerciseTarget::AssignmentSpes(assignment) => query.assignments.push(assignment),
            ExerciseTarget::PracticeWorstAreas(student) => query.students.push(student),
        }
    }
    let owners = app
        .registry
        .owners(&query)
        .map_err(ApiError::store("looking up ids"))?;
    let courses: Vec<Option<CourseId>> = keys
        .iter()
        .map(|key| match key.target {
            ExerciseTarget::AssignmentPes(assignment)
            | ExerciseTarget::AssignmentSpes(assignment) => {
                owners.assignments.get(&assignment).copied()
            }
            ExerciseTarget::PracticeWorstAreas(student) => owners.students.get(&student).copied(),
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
                item.insert(target_key.into(), json!(read.owner_uuid));
                let exercises = dedup_truncate(&result.exercise_uuids, read.max_num_exercises);
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
                item.insert(target_key.into(), json!(read.owner_uuid));
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

/// fetch_student_clues / fetch_teacher_clues. Without a stored CLUE the
/// answer carries core's not-real CLUE.
fn clues(app: &App, kind: ResultKind, reads: &[ClueRead]) -> Result<Reply, ApiError> {
    let (answer_key, unknown_owner) = if kind == ResultKind::TeacherClues {
        ("teacher_clue_responses", "course_container_unknown")
    } else {
        ("student_clue_responses", "student_unknown")
    };
    let mut query = IdQuery::default();
    for read in reads {
        match read.key.target {
            ClueTarget::Student { student, .. } => query.students.push(student),
            ClueTarget::Teacher {
                course_container, ..
            } => query.course_containers.push(course_container),
        }
        query.book_containers.push(read.key.target.book_container());
    }
    let owners = app
        .registry
        .owners(&query)
        .map_err(ApiError::store("looking up ids"))?;
    let courses: Vec<Option<CourseId>> = reads
        .iter()
        .map(|read| match read.key.target {
            ClueTarget::Student { student, .. } => owners.students.get(&student).copied(),
            ClueTarget::Teacher {
                course_container, ..
            } => owners.course_containers.get(&course_container).copied(),
        })
        .collect();
    let lag = lag_before_reading(app, &courses)?;
    let keys: Vec<_> = reads.iter().map(|r| r.key.clone()).collect();
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
                "clue_data": clue_data_json(&result.clue_data),
                "clue_status": "clue_ready",
            }),
            None => {
                let ecosystem = owners
                    .book_containers
                    .get(&read.key.target.book_container())
                    .copied();
                let status = match (ecosystem, course) {
                    (None, _) => "book_container_unknown",
                    (Some(_), Some(_)) => "clue_unready",
                    (Some(_), None) => unknown_owner,
                };
                json!({
                    "request_uuid": read.request_uuid,
                    "calculation_uuid": null,
                    "clue_data": not_real_clue_json(ecosystem),
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
