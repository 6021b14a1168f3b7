//! A restart loses nothing (a kill -9 and a restart): every acknowledged
//! write is stored exactly once after the server state is dropped and the
//! same SQLite file reopened; the id registry is read from its table, stored
//! with the events, and the engine resumes from its watermark.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use serde_json::json;
use server_support::*;

#[test]
fn restart_in_the_middle_of_a_run_loses_nothing() {
    let mut server = TestServer::new();
    small_course(&server);
    let mut acknowledged = Vec::new();
    for r in 0..20u64 {
        let item = response_item(1, 1, 4 + r, r + 1, 1, 1, r % 3);
        server
            .post("/record_responses", json!({"responses": [item]}))
            .ok();
        acknowledged.push(id(RESPONSE, r + 1));
        if r == 9 {
            server.restart();
        }
    }
    server.restart();
    let events = server.course_events(&id(COURSE, 1), 4);
    let stored: Vec<String> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_uuid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stored, acknowledged,
        "each acknowledged response exactly once, in order"
    );
    // Replays after the restart are still recognised (A4).
    let replay = server
        .post(
            "/record_responses",
            json!({"responses": [response_item(1, 1, 4, 1, 1, 1, 0)]}),
        )
        .ok();
    assert_eq!(replay["recorded_response_uuids"][0], id(RESPONSE, 1));
    assert_eq!(server.count_course_events(&id(COURSE, 1)), 24);
    // The registry is stored: statuses of known ids survive.
    let read = server.read_when_processed(
        "/fetch_student_clues",
        json!({"student_clue_requests": [{"request_uuid": id(REQUEST, 1), "student_uuid": id(STUDENT, 1002),
            "book_container_uuid": id(BOOK, 12), "algorithm_name": "not_built_in"}]}),
    );
    assert_eq!(
        read.body["student_clue_responses"][0]["clue_status"],
        "clue_unready"
    );
    let pes = server.read_when_processed(
        "/fetch_assignment_pes",
        json!({"pe_requests": [{"request_uuid": id(REQUEST, 2), "assignment_uuid": id(ASSIGNMENT, 2), "algorithm_name": "local_query"}]}),
    );
    assert_eq!(
        pes.body["pe_responses"][0]["assignment_status"],
        "assignment_ready"
    );
}
