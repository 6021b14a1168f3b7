//! Engine reads and external result pushes through HTTP: api.md §8.1 items
//! 17–21 and 53–63, §8.3 (clue precedence, truncation, case-insensitive
//! names, update errors) and §8.4 A6/A6b (reads reflect accepted events
//! once the engine processed them; external names served as pushed).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use axum::http::StatusCode;
use serde_json::{json, Value};
use server_support::*;

fn pe_read(request: u64, assignment: u64, algorithm: &str, max: Option<u64>) -> Value {
    let mut item = json!({
        "request_uuid": id(REQUEST, request),
        "assignment_uuid": id(ASSIGNMENT, assignment),
        "algorithm_name": algorithm,
    });
    if let Some(max) = max {
        item["max_num_exercises"] = json!(max);
    }
    item
}

fn pe_update(request: u64, assignment: u64, algorithm: &str, exercises: &[String]) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "assignment_uuid": id(ASSIGNMENT, assignment),
        "algorithm_name": algorithm,
        "calculation_uuid": id(0xca, request),
        "ecosystem_matrix_uuid": id(0xaa, 1),
        "exercise_uuids": exercises,
        "spy_info": {"why": request},
    })
}

fn clue_update(request: u64, student: u64, book: u64, algorithm: &str, most_likely: f64) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "student_uuid": id(STUDENT, student),
        "book_container_uuid": id(BOOK, book),
        "algorithm_name": algorithm,
        "calculation_uuid": id(0xca, request),
        "clue_data": {"minimum": 0.1, "most_likely": most_likely, "maximum": 0.9, "is_real": true, "ecosystem_uuid": id(ECO, 1)},
    })
}

fn student_clue_read(request: u64, student: u64, book: u64, algorithm: &str) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "student_uuid": id(STUDENT, student),
        "book_container_uuid": id(BOOK, book),
        "algorithm_name": algorithm,
    })
}

#[test]
fn s8_1_items_53_to_55_and_57_58_assignment_pes_and_spes() {
    let server = TestServer::new();
    small_course(&server);
    for (read, update, list, answers, updates_key) in [
        (
            "/fetch_assignment_pes",
            "/update_assignment_pes",
            "pe_requests",
            "pe_responses",
            "pe_updates",
        ),
        (
            "/fetch_assignment_spes",
            "/update_assignment_spes",
            "spe_requests",
            "spe_responses",
            "spe_updates",
        ),
    ] {
        // 53/54: unknown assignment; known assignment without results.
        let answer = server
            .post(
                read,
                json!({list: [pe_read(1, 99, "ext_alg", None), pe_read(2, 1, "ext_alg", None)]}),
            )
            .ok();
        assert_eq!(
            answer[answers],
            json!([
                {"request_uuid": id(REQUEST, 1), "calculation_uuid": null, "ecosystem_matrix_uuid": null,
                 "assignment_uuid": id(ASSIGNMENT, 99), "exercise_uuids": [], "assignment_status": "assignment_unknown", "spy_info": {}},
                {"request_uuid": id(REQUEST, 2), "calculation_uuid": null, "ecosystem_matrix_uuid": null,
                 "assignment_uuid": id(ASSIGNMENT, 1), "exercise_uuids": [], "assignment_status": "assignment_unready", "spy_info": {}},
            ])
        );
        // 57: rows absent → created; accepted per request.
        let list_a = vec![
            exercise(1, 0),
            exercise(1, 1),
            exercise(1, 0),
            exercise(1, 2),
        ];
        let pushed = server
            .post(update, json!({updates_key: [pe_update(10, 1, "Ext_Alg", &list_a), pe_update(11, 99, "other", &[])]}))
            .ok();
        let status_key = updates_key.replace("updates", "update_responses");
        assert_eq!(
            pushed[&status_key],
            json!([
                {"request_uuid": id(REQUEST, 10), "update_status": "accepted"},
                {"request_uuid": id(REQUEST, 11), "update_status": "accepted"},
            ])
        );
        // 55: ready, de-duplicated, truncated; name matched case-insensitively;
        // stored result independent of whether the assignment is known.
        let answer = server
            .post(read, json!({list: [pe_read(3, 1, "EXT_ALG", None), pe_read(4, 1, "ext_alg", Some(2)), pe_read(5, 99, "other", Some(0))]}))
            .ok();
        let items = &answer[answers];
        assert_eq!(items[0]["assignment_status"], "assignment_ready");
        assert_eq!(items[0]["calculation_uuid"], id(0xca, 10));
        assert_eq!(items[0]["ecosystem_matrix_uuid"], id(0xaa, 1));
        assert_eq!(
            items[0]["exercise_uuids"],
            json!([exercise(1, 0), exercise(1, 1), exercise(1, 2)])
        );
        assert_eq!(items[0]["spy_info"], json!({"why": 10}));
        assert_eq!(
            items[1]["exercise_uuids"],
            json!([exercise(1, 0), exercise(1, 1)])
        );
        assert_eq!(items[2]["assignment_status"], "assignment_ready");
        assert_eq!(items[2]["exercise_uuids"], json!([]));
        // 58: same (target, algorithm) again → replaced in place.
        server
            .post(
                update,
                json!({updates_key: [pe_update(12, 1, "ext_alg", &[exercise(2, 5)])]}),
            )
            .ok();
        let answer = server
            .post(read, json!({list: [pe_read(6, 1, "ext_alg", None)]}))
            .ok();
        assert_eq!(answer[answers][0]["calculation_uuid"], id(0xca, 12));
        assert_eq!(
            answer[answers][0]["exercise_uuids"],
            json!([exercise(2, 5)])
        );
    }
}

#[test]
fn a6_two_algorithms_for_one_assignment_get_their_own_results() {
    let server = TestServer::new();
    small_course(&server);
    server
        .post(
            "/update_assignment_pes",
            json!({"pe_updates": [pe_update(10, 1, "alg_a", &[exercise(1, 0)]), pe_update(11, 1, "alg_b", &[exercise(1, 1)])]}),
        )
        .ok();
    let answer = server
        .post(
            "/fetch_assignment_pes",
            json!({"pe_requests": [pe_read(1, 1, "alg_a", None), pe_read(2, 1, "alg_b", None)]}),
        )
        .ok();
    assert_eq!(
        answer["pe_responses"][0]["exercise_uuids"],
        json!([exercise(1, 0)])
    );
    assert_eq!(
        answer["pe_responses"][1]["exercise_uuids"],
        json!([exercise(1, 1)])
    );
}

#[test]
fn s8_1_item_56_practice_worst_areas_statuses() {
    let server = TestServer::new();
    small_course(&server);
    let read = |request: u64, student: u64| json!({"request_uuid": id(REQUEST, request), "student_uuid": id(STUDENT, student), "algorithm_name": "ext"});
    let answer = server
        .post(
            "/fetch_practice_worst_areas_exercises",
            json!({"worst_areas_requests": [read(1, 5), read(2, 1001)]}),
        )
        .ok();
    let items = &answer["worst_areas_responses"];
    assert_eq!(items[0]["student_status"], "student_unknown");
    assert_eq!(items[0]["student_uuid"], id(STUDENT, 5));
    assert_eq!(items[1]["student_status"], "student_unready");
    let update = json!({"practice_worst_areas_updates": [{
        "request_uuid": id(REQUEST, 3), "student_uuid": id(STUDENT, 1001), "algorithm_name": "ext",
        "calculation_uuid": id(0xca, 3), "ecosystem_matrix_uuid": id(0xaa, 1),
        "exercise_uuids": [exercise(1, 3)],
    }]});
    let pushed = server
        .post("/update_practice_worst_areas_exercises", update)
        .ok();
    assert_eq!(
        pushed,
        json!({"practice_worst_areas_update_responses": [{"request_uuid": id(REQUEST, 3), "update_status": "accepted"}]})
    );
    let answer = server
        .post(
            "/fetch_practice_worst_areas_exercises",
            json!({"worst_areas_requests": [read(4, 1001)]}),
        )
        .ok();
    let item = &answer["worst_areas_responses"][0];
    assert_eq!(item["student_status"], "student_ready");
    assert_eq!(item["exercise_uuids"], json!([exercise(1, 3)]));
    assert_eq!(item["spy_info"], json!({}));
}

#[test]
fn s8_1_items_59_to_63_student_and_teacher_clues() {
    let server = TestServer::new();
    small_course(&server);
    let answer = server
        .post(
            "/fetch_student_clues",
            json!({"student_clue_requests": [
                student_clue_read(1, 1001, 99, "ext"),   // 59 unknown book container
                student_clue_read(2, 5, 11, "ext"),      // 60 unknown student
                student_clue_read(3, 1001, 11, "ext"),   // 61 no clue yet
            ]}),
        )
        .ok();
    let items = answer["student_clue_responses"].as_array().unwrap();
    assert_eq!(
        items[0],
        json!({"request_uuid": id(REQUEST, 1), "calculation_uuid": null,
               "clue_data": {"minimum": 0, "most_likely": 0.5, "maximum": 1, "is_real": false},
               "clue_status": "book_container_unknown"})
    );
    assert_eq!(items[1]["clue_status"], "student_unknown");
    assert_eq!(items[1]["clue_data"]["ecosystem_uuid"], id(ECO, 1));
    assert_eq!(items[2]["clue_status"], "clue_unready");
    assert_eq!(items[2]["clue_data"]["ecosystem_uuid"], id(ECO, 1));
    // 63: pushed, then replaced in place; stored clue wins even when the
    // container is unknown (§8.3 precedence).
    server
        .post("/update_student_clues", json!({"student_clue_updates": [clue_update(10, 1001, 11, "ext", 0.4), clue_update(11, 5, 99, "ext", 0.6)]}))
        .ok();
    server
        .post(
            "/update_student_clues",
            json!({"student_clue_updates": [clue_update(12, 1001, 11, "ext", 0.7)]}),
        )
        .ok();
    let answer = server
        .post("/fetch_student_clues", json!({"student_clue_requests": [student_clue_read(4, 1001, 11, "EXT"), student_clue_read(5, 5, 99, "ext")]}))
        .ok();
    let items = &answer["student_clue_responses"];
    assert_eq!(items[0]["clue_status"], "clue_ready");
    assert_eq!(items[0]["calculation_uuid"], id(0xca, 12));
    assert_eq!(
        items[0]["clue_data"],
        json!({"minimum": 0.1, "most_likely": 0.7, "maximum": 0.9, "is_real": true, "ecosystem_uuid": id(ECO, 1)})
    );
    assert_eq!(items[1]["clue_status"], "clue_ready");
    // Teacher CLUEs: unknown container, then pushed.
    let teacher_read = |request: u64, container: u64| json!({"request_uuid": id(REQUEST, request), "course_container_uuid": id(PERIOD, container), "book_container_uuid": id(BOOK, 11), "algorithm_name": "ext"});
    let answer = server
        .post(
            "/fetch_teacher_clues",
            json!({"teacher_clue_requests": [teacher_read(6, 9), teacher_read(7, 1)]}),
        )
        .ok();
    assert_eq!(
        answer["teacher_clue_responses"][0]["clue_status"],
        "course_container_unknown"
    );
    assert_eq!(
        answer["teacher_clue_responses"][1]["clue_status"],
        "clue_unready"
    );
    let pushed = server
        .post(
            "/update_teacher_clues",
            json!({"teacher_clue_updates": [{
                "request_uuid": id(REQUEST, 8), "course_container_uuid": id(PERIOD, 1), "book_container_uuid": id(BOOK, 11),
                "algorithm_name": "ext", "calculation_uuid": id(0xca, 8),
                "clue_data": {"minimum": 0.2, "most_likely": 0.5, "maximum": 0.8, "is_real": false},
            }]}),
        )
        .ok();
    assert_eq!(
        pushed["teacher_clue_update_responses"][0]["update_status"],
        "accepted"
    );
    let answer = server
        .post(
            "/fetch_teacher_clues",
            json!({"teacher_clue_requests": [teacher_read(9, 1)]}),
        )
        .ok();
    assert_eq!(
        answer["teacher_clue_responses"][0]["clue_status"],
        "clue_ready"
    );
}

#[test]
fn s8_3_update_errors_duplicate_target_missing_field_and_reused_request_uuid() {
    let server = TestServer::new();
    small_course(&server);
    let duplicate = server.post(
        "/update_assignment_pes",
        json!({"pe_updates": [pe_update(1, 1, "ext", &[]), pe_update(2, 1, "EXT", &[])]}),
    );
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);
    let message = &duplicate.errors()[0];
    assert!(
        message.contains("pe_updates[1]") && message.contains("pe_updates[0]"),
        "{message}"
    );
    let mut missing = pe_update(3, 1, "ext", &[]);
    missing.as_object_mut().unwrap().remove("calculation_uuid");
    let answer = server.post("/update_assignment_pes", json!({"pe_updates": [missing]}));
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.errors(),
        vec!["pe_updates[0].calculation_uuid: missing required field"]
    );
    let mut no_clue = clue_update(4, 1001, 11, "ext", 0.5);
    no_clue.as_object_mut().unwrap().remove("clue_data");
    let answer = server.post(
        "/update_student_clues",
        json!({"student_clue_updates": [no_clue]}),
    );
    assert_eq!(
        answer.errors(),
        vec!["student_clue_updates[0].clue_data: missing required field"]
    );
    // 422: request uuid reused for another row; nothing of the call stored.
    server
        .post(
            "/update_assignment_pes",
            json!({"pe_updates": [pe_update(5, 1, "ext", &[])]}),
        )
        .ok();
    let reused = server.post(
        "/update_assignment_pes",
        json!({"pe_updates": [pe_update(6, 2, "ext", &[exercise(1, 1)]), pe_update(5, 2, "other", &[])]}),
    );
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reused.errors()[0].starts_with("pe_updates[1].request_uuid"),
        "{:?}",
        reused.errors()
    );
    let answer = server
        .post(
            "/fetch_assignment_pes",
            json!({"pe_requests": [pe_read(7, 2, "ext", None)]}),
        )
        .ok();
    assert_eq!(
        answer["pe_responses"][0]["assignment_status"],
        "assignment_unready"
    );
}

#[test]
fn a6_a6b_engine_reads_reflect_accepted_events_once_processed() {
    let server = TestServer::new();
    small_course(&server);
    server
        .post(
            "/record_responses",
            json!({"responses": [response_item(1, 1, 4, 1, 1, 1, 0), response_item(1, 1, 5, 2, 1, 1, 1)]}),
        )
        .ok();
    let clue_body = json!({"student_clue_requests": [
        student_clue_read(1, 1001, 11, "local_query"),
        student_clue_read(2, 1001, 11, "biglearn_sparfa"),
    ]});
    let answer = server.read_when_processed("/fetch_student_clues", clue_body);
    for item in answer.body["student_clue_responses"].as_array().unwrap() {
        assert_eq!(item["clue_status"], "clue_ready", "{item}");
        assert!(item["calculation_uuid"].is_string());
    }
    let pes = server.read_when_processed(
        "/fetch_assignment_pes",
        json!({"pe_requests": [pe_read(3, 1, "biglearn_sparfa", None), pe_read(4, 1, "Local_Query", None)]}),
    );
    for item in pes.body["pe_responses"].as_array().unwrap() {
        assert_eq!(item["assignment_status"], "assignment_ready", "{item}");
    }
    let spes = server.read_when_processed(
        "/fetch_assignment_spes",
        json!({"spe_requests": [pe_read(5, 1, "student_driven_biglearn_sparfa", None)]}),
    );
    assert_eq!(
        spes.body["spe_responses"][0]["assignment_status"],
        "assignment_ready"
    );
    // A newer response changes what the engine serves: the calculation uuid
    // is derived from the last event that dirtied the CLUE.
    let before = server.read_when_processed(
        "/fetch_student_clues",
        json!({"student_clue_requests": [student_clue_read(6, 1001, 11, "local_query")]}),
    );
    server
        .post(
            "/record_responses",
            json!({"responses": [response_item(1, 1, 6, 3, 1, 1, 2)]}),
        )
        .ok();
    let after = server.read_when_processed(
        "/fetch_student_clues",
        json!({"student_clue_requests": [student_clue_read(6, 1001, 11, "local_query")]}),
    );
    assert_ne!(
        before.body["student_clue_responses"][0]["calculation_uuid"],
        after.body["student_clue_responses"][0]["calculation_uuid"]
    );
}

#[test]
fn a6b_lag_header_counts_unprocessed_events_of_the_touched_courses() {
    let server = TestServer::new();
    small_course(&server);
    // A gap at 4: events 5 and 6 are accepted but cannot be processed.
    server
        .post(
            "/record_responses",
            json!({"responses": [response_item(1, 1, 5, 1, 1, 1, 0), response_item(1, 1, 6, 2, 1, 1, 1)]}),
        )
        .ok();
    let read = json!({"pe_requests": [pe_read(1, 1, "biglearn_sparfa", None)]});
    // O3: the open gap and its age become visible in /metrics (the runner
    // lists gaps on its tick; bounded poll).
    let metrics_text = || {
        let answer = server.send(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        );
        answer.body.as_str().unwrap().to_owned()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut text = metrics_text();
    while !text.contains("biglearn_open_gaps 1") {
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        text = metrics_text();
    }
    assert!(
        text.contains(&format!(
            "biglearn_gap_events_waiting{{stream=\"course {}\",missing=\"4\"}} 2",
            id(COURSE, 1)
        )),
        "{text}"
    );
    // The engine processes 0..=3; 5 and 6 wait behind the gap and count
    // as lag: once the backlog before the gap is processed, the lag is 2.
    loop {
        let answer = server.post("/fetch_assignment_pes", read.clone());
        if answer.lag() == Some(2) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lag stayed {:?}",
            answer.lag()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let age: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("biglearn_oldest_gap_age_seconds "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(age >= 0.0);
    let unknown = server
        .post(
            "/fetch_assignment_pes",
            json!({"pe_requests": [pe_read(2, 99, "biglearn_sparfa", None)]}),
        )
        .ok();
    assert_eq!(
        unknown["pe_responses"][0]["assignment_status"],
        "assignment_unknown"
    );
    // Filling the gap makes 4, 5, 6 processable; eventually lag 0 again and
    // the engine has seen all three.
    server
        .post(
            "/record_responses",
            json!({"responses": [response_item(1, 1, 4, 3, 1, 1, 2)]}),
        )
        .ok();
    let answer = server.read_when_processed("/fetch_assignment_pes", read);
    assert_eq!(answer.lag(), Some(0));
    let metrics = server.send(
        axum::http::Request::get("/metrics")
            .body(axum::body::Body::empty())
            .unwrap(),
    );
    let text = metrics.body.as_str().unwrap().to_owned();
    assert!(
        text.contains("biglearn_engine_events_applied_total 7"),
        "{text}"
    );
    // The engine's busy time, so that events per busy second (what
    // `simulate` prints) can be read off /metrics too.
    let step_seconds: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("biglearn_engine_step_seconds_total "))
        .and_then(|value| value.parse().ok())
        .expect("biglearn_engine_step_seconds_total in /metrics");
    assert!(step_seconds > 0.0, "{text}");
}
