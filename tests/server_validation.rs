//! A2 through HTTP (api.md §3 rows for malformed input, §8.3, §8.4 A2):
//! every category of client mistake is a 400 whose messages name the JSON
//! path, and nothing of the call is stored; unknown nested keys are kept.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use axum::http::StatusCode;
use serde_json::{json, Value};
use server_support::*;

fn assert_400(server: &TestServer, path: &str, body: Value, expected: &str) {
    let answer = server.post(path, body);
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "{path}: {}",
        answer.body
    );
    assert!(
        answer.errors().iter().any(|e| e.starts_with(expected)),
        "{path}: no error starting with {expected:?} in {:?}",
        answer.errors()
    );
}

#[test]
fn a2_every_category_is_400_with_the_json_path_and_nothing_is_stored() {
    let server = TestServer::new();
    small_course(&server);
    let head = server.course_head(&id(COURSE, 1));
    let good = response_item(1, 1, 4, 1, 1, 1, 0);
    let with = |key: &str, value: Value| {
        let mut item = good.clone();
        item[key] = value;
        json!({"responses": [good.clone(), good.clone(), good.clone(), item]})
    };
    // Missing required field.
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("is_correct");
    assert_400(
        &server,
        "/record_responses",
        json!({"responses": [good.clone(), missing]}),
        "responses[1].is_correct: missing required field",
    );
    // Mistyped field.
    assert_400(
        &server,
        "/record_responses",
        with("is_correct", json!("yes")),
        "responses[3].is_correct: expected a boolean",
    );
    // Bad uuid.
    assert_400(
        &server,
        "/record_responses",
        with("student_uuid", json!("not-a-uuid")),
        "responses[3].student_uuid: expected a uuid",
    );
    // Bad datetime.
    assert_400(
        &server,
        "/record_responses",
        with("responded_at", json!("2017-08-01 12:00")),
        "responses[3].responded_at: expected a UTC datetime",
    );
    // Out-of-range number.
    assert_400(
        &server,
        "/record_responses",
        with("sequence_number", json!(-1)),
        "responses[3].sequence_number: expected a non-negative integer",
    );
    // Unknown top-level key.
    assert_400(
        &server,
        "/record_responses",
        json!({"responses": [], "extra": 1}),
        "extra: unknown field",
    );
    // Too many items.
    let many: Vec<Value> = (0..1001).map(|_| good.clone()).collect();
    assert_400(
        &server,
        "/record_responses",
        json!({"responses": many}),
        "responses: expected at most 1000 items",
    );
    // Unknown enum value.
    assert_400(
        &server,
        "/fetch_course_events",
        json!({"course_event_requests": [{"request_uuid": id(REQUEST, 1), "event_types": ["record_responses"], "course_uuid": id(COURSE, 1), "sequence_number_offset": 0}], "max_num_events": 10}),
        "course_event_requests[0].event_types[0]: expected a course event type",
    );
    // max_num_events out of range.
    assert_400(
        &server,
        "/fetch_course_events",
        json!({"course_event_requests": [], "max_num_events": 1001}),
        "max_num_events: expected an integer from 1 to 1000",
    );
    // Malformed JSON.
    let answer = server.post_bytes("/record_responses", b"{\"responses\": [".to_vec());
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.errors()[0].starts_with("(request body): could not parse"));
    assert_eq!(server.course_head(&id(COURSE, 1)), head, "nothing stored");
}

#[test]
fn a2_read_and_update_bodies_are_validated_with_paths() {
    let server = TestServer::new();
    assert_400(
        &server,
        "/fetch_assignment_pes",
        json!({"pe_requests": [{"request_uuid": id(REQUEST, 1), "assignment_uuid": id(ASSIGNMENT, 1), "algorithm_name": "", "max_num_exercises": 1001}]}),
        "pe_requests[0].algorithm_name: expected an algorithm name",
    );
    assert_400(
        &server,
        "/fetch_assignment_pes",
        json!({"pe_requests": [{"request_uuid": id(REQUEST, 1), "assignment_uuid": id(ASSIGNMENT, 1), "algorithm_name": "x", "max_num_exercises": 1001}]}),
        "pe_requests[0].max_num_exercises: expected an integer from 0 to 1000",
    );
    assert_400(
        &server,
        "/fetch_student_clues",
        json!({"student_clue_requests": [{"request_uuid": id(REQUEST, 1), "student_uuid": 5, "book_container_uuid": id(BOOK, 1), "algorithm_name": "x"}]}),
        "student_clue_requests[0].student_uuid: expected a uuid",
    );
    assert_400(
        &server,
        "/update_teacher_clues",
        json!({"teacher_clue_updates": [{"request_uuid": id(REQUEST, 1), "course_container_uuid": id(PERIOD, 1), "book_container_uuid": id(BOOK, 1),
            "algorithm_name": "x", "calculation_uuid": id(0xca, 1), "clue_data": {"minimum": 1.5, "most_likely": 0.5, "maximum": 1, "is_real": true, "odd": 1}}]}),
        "teacher_clue_updates[0].clue_data.minimum: expected a number from 0 to 1",
    );
    assert_400(
        &server,
        "/update_teacher_clues",
        json!({"teacher_clue_updates": [{"request_uuid": id(REQUEST, 1), "course_container_uuid": id(PERIOD, 1), "book_container_uuid": id(BOOK, 1),
            "algorithm_name": "x", "calculation_uuid": id(0xca, 1), "clue_data": {"minimum": 0.5, "most_likely": 0.5, "maximum": 1, "is_real": true, "odd": 1}}]}),
        "teacher_clue_updates[0].clue_data.odd: unknown field",
    );
    assert_400(
        &server,
        "/fetch_course_ecosystem_statuses",
        json!({"request_uuid": id(REQUEST, 1), "course_uuids": ["x"]}),
        "course_uuids[0]: expected a uuid",
    );
    assert_400(
        &server,
        "/fetch_course_metadatas",
        json!({"metadata_sequence_number_offset": 0, "max_num_metadatas": 0}),
        "max_num_metadatas: expected an integer from 1 to 1000",
    );
}

#[test]
fn a2_fuzzed_bodies_never_produce_500() {
    let server = TestServer::new();
    small_course(&server);
    let values = [
        json!(null),
        json!(-1),
        json!(1.5),
        json!("x"),
        json!([]),
        json!({}),
        json!(true),
        json!(u64::MAX),
    ];
    let template = json!({"responses": [response_item(1, 1, 4, 1, 1, 1, 0)]});
    let keys: Vec<String> = template["responses"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for path in biglearn::server::Endpoint::ALL
        .iter()
        .map(|e| format!("/{}", e.name()))
    {
        for (i, value) in values.iter().enumerate() {
            let mut body = template.clone();
            body["responses"][0][&keys[i % keys.len()]] = value.clone();
            let answer = server.post(&path, body);
            assert!(
                answer.status.as_u16() < 500,
                "{path}: {} {}",
                answer.status,
                answer.body
            );
            let answer = server.post(&path, json!({"responses": value, "pe_requests": value}));
            assert!(
                answer.status.as_u16() < 500,
                "{path}: {} {}",
                answer.status,
                answer.body
            );
        }
    }
}

#[test]
fn a9_upper_case_uuids_find_the_same_stream_and_echo_as_sent() {
    let server = TestServer::new();
    small_course(&server);
    let mut item = response_item(1, 1, 4, 1, 1, 1, 0);
    item["course_uuid"] = json!(id(COURSE, 1).to_uppercase());
    item["response_uuid"] = json!(id(RESPONSE, 1).to_uppercase());
    let answer = server
        .post("/record_responses", json!({"responses": [item]}))
        .ok();
    assert_eq!(
        answer["recorded_response_uuids"][0],
        id(RESPONSE, 1).to_uppercase()
    );
    assert_eq!(server.count_course_events(&id(COURSE, 1)), 5);
    let read = server
        .post(
            "/fetch_assignment_pes",
            json!({"pe_requests": [{"request_uuid": id(REQUEST, 5).to_uppercase(), "assignment_uuid": id(ASSIGNMENT, 1).to_uppercase(), "algorithm_name": "x"}]}),
        )
        .ok();
    assert_eq!(
        read["pe_responses"][0]["request_uuid"],
        id(REQUEST, 5).to_uppercase()
    );
    assert_eq!(
        read["pe_responses"][0]["assignment_status"],
        "assignment_unready"
    );
}
