//! Preparation readiness through HTTP (api.md §5.4, scheduler.md S1 fix 11):
//! update_course_ecosystems answers `updated_and_ready` and
//! fetch_course_ecosystem_statuses reports `precompute_is_complete` exactly
//! when the engine has processed the preparation of a known ecosystem, i.e.
//! when the prepared ecosystem's CLUE rows are stored.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use serde_json::{json, Value};
use server_support::*;

/// The ecosystem every course of these tests starts on.
const FIRST_ECO: u64 = 1;
/// The ecosystem the course is prepared for (same exercises, new book ids).
const NEXT_ECO: u64 = 2;
/// An ecosystem no create_ecosystem is ever sent for.
const MISSING_ECO: u64 = 3;

/// prepare_course_ecosystem `REQUEST:p` of course `c` at `seq`, mapping the
/// book and both pages of [`FIRST_ECO`] onto ecosystem `next_eco`.
fn prepare(c: u64, seq: u64, p: u64, next_eco: u64) -> Value {
    let mappings: Vec<Value> = (0..=2u64)
        .map(|k| {
            json!({
                "from_book_container_uuid": id(BOOK, FIRST_ECO * 10 + k),
                "to_book_container_uuid": id(BOOK, next_eco * 10 + k),
            })
        })
        .collect();
    json!({
        "preparation_uuid": id(REQUEST, p),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "next_ecosystem_uuid": id(ECO, next_eco),
        "ecosystem_map": {
            "from_ecosystem_uuid": id(ECO, FIRST_ECO),
            "to_ecosystem_uuid": id(ECO, next_eco),
            "book_container_mappings": mappings,
            "exercise_mappings": [],
        },
        "prepared_at": T0,
    })
}

/// One update_course_ecosystems item `REQUEST:request` of course `c` at
/// `seq` switching to preparation `REQUEST:p`.
fn update_item(c: u64, seq: u64, request: u64, p: u64) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "preparation_uuid": id(REQUEST, p),
        "updated_at": T0,
    })
}

/// The `update_status` of each item of one update_course_ecosystems call.
fn update(server: &TestServer, items: Vec<Value>) -> Vec<String> {
    let answer = server
        .post(
            "/update_course_ecosystems",
            json!({ "update_requests": items }),
        )
        .ok();
    answer["update_responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["update_status"].as_str().unwrap().to_owned())
        .collect()
}

/// The status of course `c`.
fn status(server: &TestServer, c: u64) -> Value {
    let answer = server
        .post(
            "/fetch_course_ecosystem_statuses",
            json!({"request_uuid": id(REQUEST, 77), "course_uuids": [id(COURSE, c)]}),
        )
        .ok();
    answer["course_statuses"][0].clone()
}

/// The `biglearn_sparfa` CLUE of student 1 of course 1 on page 1 of
/// ecosystem `eco`.
fn page_one_clue(server: &TestServer, eco: u64) -> Value {
    let answer = server
        .post(
            "/fetch_student_clues",
            json!({"student_clue_requests": [{
                "request_uuid": id(REQUEST, 88),
                "student_uuid": id(STUDENT, 1001),
                "book_container_uuid": id(BOOK, eco * 10 + 1),
                "algorithm_name": "biglearn_sparfa",
            }]}),
        )
        .ok();
    answer["student_clue_responses"][0].clone()
}

/// [`small_course`] (course 1 on [`FIRST_ECO`], events 0–3), the next
/// ecosystem, and an answer of student 1 (event 4), so the course has CLUE
/// rows to precompute; returns when the engine has processed all of it.
fn course_with_an_answer(server: &TestServer) {
    small_course(server);
    server
        .post("/create_ecosystem", ecosystem_body(NEXT_ECO, json!({})))
        .ok();
    server
        .post(
            "/record_responses",
            json!({"responses": [response_item(1, FIRST_ECO, 4, 1, 1, 1, 0)]}),
        )
        .ok();
    server.wait_until_processed(&id(COURSE, 1));
    assert_eq!(
        page_one_clue(server, FIRST_ECO)["clue_status"],
        "clue_ready"
    );
}

#[test]
fn a_preparation_is_unready_until_the_engine_has_processed_it() {
    let mut server = TestServer::new();
    course_with_an_answer(&server);
    server.pause_engine();
    server
        .post("/prepare_course_ecosystem", prepare(1, 5, 50, NEXT_ECO))
        .ok();

    let pending = status(&server, 1);
    assert_eq!(
        pending["current_ecosystem_preparation_uuid"],
        id(REQUEST, 50)
    );
    let next = &pending["next_ecosystem_status"];
    assert_eq!(next["ecosystem_uuid"], id(ECO, NEXT_ECO));
    assert_eq!(next["ecosystem_is_known"], true);
    assert_eq!(next["ecosystem_is_prepared"], true);
    assert_eq!(next["precompute_is_complete"], false);
    // The create_course ecosystem came from no preparation.
    assert_eq!(
        pending["current_ecosystem_status"]["precompute_is_complete"],
        false
    );
    // "Unready" is the truth: the prepared ecosystem has no CLUE row yet.
    assert_eq!(
        page_one_clue(&server, NEXT_ECO)["clue_status"],
        "clue_unready"
    );

    assert_eq!(
        update(&server, vec![update_item(1, 6, 51, 50)]),
        ["updated_but_unready"]
    );
    let events = server.course_events(&id(COURSE, 1), 6);
    assert_eq!(events["events"][0]["event_uuid"], id(REQUEST, 51));

    server.resume_engine();
    server.wait_until_processed(&id(COURSE, 1));
    let switched = status(&server, 1);
    assert_eq!(switched["current_ecosystem_preparation_uuid"], Value::Null);
    let current = &switched["current_ecosystem_status"];
    assert_eq!(current["ecosystem_uuid"], id(ECO, NEXT_ECO));
    assert_eq!(current["ecosystem_is_prepared"], true);
    assert_eq!(current["precompute_is_complete"], true);
    assert_eq!(
        switched["next_ecosystem_status"]["ecosystem_uuid"],
        Value::Null
    );
}

#[test]
fn a_processed_preparation_is_ready_and_its_clue_rows_exist() {
    let server = TestServer::new();
    course_with_an_answer(&server);
    server
        .post("/prepare_course_ecosystem", prepare(1, 5, 50, NEXT_ECO))
        .ok();
    server.wait_until_processed(&id(COURSE, 1));

    let next = &status(&server, 1)["next_ecosystem_status"];
    assert_eq!(next["ecosystem_uuid"], id(ECO, NEXT_ECO));
    assert_eq!(next["precompute_is_complete"], true);
    // Before the switch the prepared ecosystem's row is already served.
    let clue = page_one_clue(&server, NEXT_ECO);
    assert_eq!(clue["clue_status"], "clue_ready", "{clue}");
    assert_eq!(clue["clue_data"]["ecosystem_uuid"], id(ECO, NEXT_ECO));

    assert_eq!(
        update(&server, vec![update_item(1, 6, 51, 50)]),
        ["updated_and_ready"]
    );
    // One past the highest stored number: the update at 6 was stored.
    assert_eq!(server.course_head(&id(COURSE, 1)), 7);
    let current = &status(&server, 1)["current_ecosystem_status"];
    assert_eq!(current["ecosystem_uuid"], id(ECO, NEXT_ECO));
    assert_eq!(current["precompute_is_complete"], true);
}

#[test]
fn a_preparation_behind_a_gap_stays_unready_until_the_gap_is_filled() {
    let server = TestServer::new();
    for eco in [FIRST_ECO, NEXT_ECO] {
        server
            .post("/create_ecosystem", ecosystem_body(eco, json!({})))
            .ok();
    }
    server
        .post("/create_course", course_body(1, FIRST_ECO))
        .ok();
    // Event 1 is missing, so the running engine cannot reach the
    // preparation at 2: the answer is unready however long we wait.
    server
        .post("/prepare_course_ecosystem", prepare(1, 2, 50, NEXT_ECO))
        .ok();
    assert_eq!(
        update(&server, vec![update_item(1, 3, 51, 50)]),
        ["updated_but_unready"]
    );

    server
        .post(
            "/update_rosters",
            json!({"rosters": [roster_item(1, 1, 1, &[1])]}),
        )
        .ok();
    server.wait_until_processed(&id(COURSE, 1));
    let current = &status(&server, 1)["current_ecosystem_status"];
    assert_eq!(current["ecosystem_uuid"], id(ECO, NEXT_ECO));
    assert_eq!(current["precompute_is_complete"], true);
}

#[test]
fn a_preparation_of_an_unknown_ecosystem_never_reads_as_ready() {
    let server = TestServer::new();
    course_with_an_answer(&server);
    server
        .post("/prepare_course_ecosystem", prepare(1, 5, 50, MISSING_ECO))
        .ok();
    server.wait_until_processed(&id(COURSE, 1));

    let next = &status(&server, 1)["next_ecosystem_status"];
    assert_eq!(next["ecosystem_uuid"], id(ECO, MISSING_ECO));
    assert_eq!(next["ecosystem_is_known"], false);
    assert_eq!(next["ecosystem_is_prepared"], true);
    assert_eq!(next["precompute_is_complete"], false);

    assert_eq!(
        update(&server, vec![update_item(1, 6, 51, 50)]),
        ["updated_but_unready"]
    );
    server.wait_until_processed(&id(COURSE, 1));
    let current = &status(&server, 1)["current_ecosystem_status"];
    assert_eq!(current["ecosystem_uuid"], id(ECO, MISSING_ECO));
    assert_eq!(current["ecosystem_is_known"], false);
    assert_eq!(current["precompute_is_complete"], false);
}

#[test]
fn an_unknown_preparation_answers_preparation_unknown_and_stores_nothing() {
    let server = TestServer::new();
    course_with_an_answer(&server);
    server
        .post("/prepare_course_ecosystem", prepare(1, 5, 50, NEXT_ECO))
        .ok();
    server
        .post("/create_course", course_body(2, FIRST_ECO))
        .ok();
    server
        .post("/prepare_course_ecosystem", prepare(2, 1, 60, NEXT_ECO))
        .ok();
    server.wait_until_processed(&id(COURSE, 1));
    server.wait_until_processed(&id(COURSE, 2));

    // A uuid nothing was stored under, and a processed preparation of
    // another course: both unknown to course 1, nothing stored.
    assert_eq!(
        update(
            &server,
            vec![update_item(1, 6, 51, 99), update_item(1, 6, 52, 60)]
        ),
        ["preparation_unknown", "preparation_unknown"]
    );
    // The head stays one past the preparation at 5: nothing was stored.
    assert_eq!(server.course_head(&id(COURSE, 1)), 6);
    assert_eq!(server.count_course_events(&id(COURSE, 1)), 6);

    // Mixed with a ready one: each item answers for itself and only the
    // known one is stored.
    assert_eq!(
        update(
            &server,
            vec![
                update_item(1, 6, 53, 99),
                update_item(1, 6, 54, 50),
                update_item(1, 7, 55, 60),
            ]
        ),
        [
            "preparation_unknown",
            "updated_and_ready",
            "preparation_unknown"
        ]
    );
    let events = server.course_events(&id(COURSE, 1), 6);
    let uuids: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["event_uuid"])
        .collect();
    assert_eq!(uuids, [&json!(id(REQUEST, 54))]);
    assert_eq!(server.course_head(&id(COURSE, 1)), 7);
}
