//! Course-level changes through HTTP: exercise exclusions (api.md §8.1
//! item 52) and course ecosystem changes with their statuses (items 35–45,
//! §8.3 preparation from another course, a parked switch).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use biglearn_core::engine::EngineCourseState;
use biglearn_core::engine_store::EngineStore;
use biglearn_core::ids::CourseId;
use biglearn_core::log::BundleLog;
use biglearn_core::projection::CourseState;
use serde_json::{json, Value};
use server_support::*;

fn seqs(response: &Value) -> Vec<u64> {
    response["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence_number"].as_u64().unwrap())
        .collect()
}

#[test]
fn s8_1_item_52_exclusions_store_one_event_with_the_list() {
    let server = TestServer::new();
    server.post("/create_course", course_body(1, 1)).ok();
    let mut seq = 1;
    // Three rounds: the later ones run with 8 and 16 earlier exclusion
    // events in the stream.
    for _round in 0..3 {
        for given in [0u64, 1, 10, 100] {
            for path in [
                "/update_globally_excluded_exercises",
                "/update_course_excluded_exercises",
            ] {
                let body = exclusions_body(1, seq, 1000 + seq, given);
                let answer = server.post(path, body.clone()).ok();
                assert_eq!(answer, json!({"status": "success"}));
                let events = server.course_events(&id(COURSE, 1), seq);
                assert_eq!(events["events"][0]["sequence_number"], seq);
                assert_eq!(
                    events["events"][0]["event_data"]["exclusions"],
                    body["exclusions"]
                );
                seq += 1;
            }
        }
    }
    assert_eq!(server.count_course_events(&id(COURSE, 1)) as u64, seq);
}

fn prepare(c: u64, seq: u64, p: u64, next_eco: u64) -> Value {
    json!({
        "preparation_uuid": id(REQUEST, p),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "next_ecosystem_uuid": id(ECO, next_eco),
        "ecosystem_map": {
            "from_ecosystem_uuid": id(ECO, 1),
            "to_ecosystem_uuid": id(ECO, next_eco),
            "book_container_mappings": [{"from_book_container_uuid": id(BOOK, 11), "to_book_container_uuid": id(BOOK, next_eco * 10 + 1)}],
            "exercise_mappings": [],
        },
        "prepared_at": T0,
    })
}

fn update_eco(c: u64, seq: u64, request: u64, p: u64) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "preparation_uuid": id(REQUEST, p),
        "updated_at": T0,
    })
}

fn update_ecos<const N: usize>(server: &TestServer, items: [Value; N]) -> Value {
    let body = json!({ "update_requests": items.to_vec() });
    server.post("/update_course_ecosystems", body).ok()
}

fn statuses(server: &TestServer, courses: &[u64]) -> Vec<Value> {
    server
        .post(
            "/fetch_course_ecosystem_statuses",
            json!({"request_uuid": id(REQUEST, 77), "course_uuids": courses.iter().map(|c| id(COURSE, *c)).collect::<Vec<_>>()}),
        )
        .ok()["course_statuses"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn s8_1_items_35_to_45_course_ecosystem_changes_and_statuses() {
    let server = TestServer::new();
    // Readiness (`updated_and_ready`, `precompute_is_complete`) follows the
    // engine's progress (S1 fix 11); paused, nothing is precomputed and the
    // answers below are deterministic. tests/server_readiness.rs covers the
    // engine's side.
    server.pause_engine();
    server
        .post("/create_ecosystem", ecosystem_body(1, json!({})))
        .ok();
    server
        .post("/create_ecosystem", ecosystem_body(2, json!({})))
        .ok();
    // Item 41: unknown course.
    let unknown = &statuses(&server, &[1])[0];
    assert_eq!(unknown["course_uuid"], id(COURSE, 1));
    assert_eq!(unknown["course_is_known"], false);
    assert_eq!(unknown["current_ecosystem_preparation_uuid"], Value::Null);
    assert_eq!(
        unknown["current_ecosystem_status"]["ecosystem_uuid"],
        Value::Null
    );
    assert_eq!(
        unknown["next_ecosystem_status"]["ecosystem_is_known"],
        false
    );
    server.post("/create_course", course_body(1, 1)).ok();
    // Item 42: known course, no preparation.
    let known = &statuses(&server, &[1])[0];
    assert_eq!(known["course_is_known"], true);
    assert_eq!(
        known["current_ecosystem_status"]["ecosystem_uuid"],
        id(ECO, 1)
    );
    assert_eq!(
        known["current_ecosystem_status"]["ecosystem_is_known"],
        true
    );
    assert_eq!(
        known["current_ecosystem_status"]["ecosystem_is_prepared"],
        false
    );
    assert_eq!(
        known["next_ecosystem_status"]["ecosystem_uuid"],
        Value::Null
    );
    // Items 36, 35: prepare stored with ecosystem_uuid renamed; a replay
    // stores nothing new.
    let accepted = server
        .post("/prepare_course_ecosystem", prepare(1, 1, 50, 2))
        .ok();
    assert_eq!(accepted, json!({"status": "accepted"}));
    server
        .post("/prepare_course_ecosystem", prepare(1, 1, 50, 2))
        .ok();
    let events = server.course_events(&id(COURSE, 1), 1);
    assert_eq!(seqs(&events), vec![1]);
    let data = &events["events"][0]["event_data"];
    assert_eq!(data["ecosystem_uuid"], id(ECO, 2));
    assert_eq!(data["ecosystem_map"], prepare(1, 1, 50, 2)["ecosystem_map"]);
    // Item 43: pending preparation reported.
    let pending = &statuses(&server, &[1])[0];
    assert_eq!(
        pending["current_ecosystem_preparation_uuid"],
        id(REQUEST, 50)
    );
    assert_eq!(
        pending["current_ecosystem_status"]["ecosystem_uuid"],
        id(ECO, 1)
    );
    assert_eq!(
        pending["next_ecosystem_status"]["ecosystem_uuid"],
        id(ECO, 2)
    );
    assert_eq!(
        pending["next_ecosystem_status"]["ecosystem_is_prepared"],
        true
    );
    assert_eq!(
        pending["next_ecosystem_status"]["precompute_is_complete"],
        false
    );
    // Items 37, 39 and §8.3: unknown preparation, another course's
    // preparation (no event), known preparation (event stored).
    server.post("/create_course", course_body(2, 1)).ok();
    server
        .post("/prepare_course_ecosystem", prepare(2, 1, 60, 2))
        .ok();
    let answer = update_ecos(
        &server,
        [
            update_eco(1, 2, 51, 99),
            update_eco(1, 2, 52, 60),
            update_eco(1, 2, 53, 50),
        ],
    );
    assert_eq!(
        answer,
        json!({"update_responses": [
            {"request_uuid": id(REQUEST, 51), "update_status": "preparation_unknown"},
            {"request_uuid": id(REQUEST, 52), "update_status": "preparation_unknown"},
            {"request_uuid": id(REQUEST, 53), "update_status": "updated_but_unready"},
        ]})
    );
    let events = server.course_events(&id(COURSE, 1), 2);
    assert_eq!(seqs(&events), vec![2]);
    assert_eq!(events["events"][0]["event_uuid"], id(REQUEST, 53));
    // Item 45: the update made, the prepared ecosystem is current.
    let updated = &statuses(&server, &[1, 2]);
    assert_eq!(
        updated[0]["current_ecosystem_preparation_uuid"],
        Value::Null
    );
    assert_eq!(
        updated[0]["current_ecosystem_status"]["ecosystem_uuid"],
        id(ECO, 2)
    );
    assert_eq!(
        updated[0]["current_ecosystem_status"]["ecosystem_is_prepared"],
        true
    );
    assert_eq!(
        updated[0]["next_ecosystem_status"]["ecosystem_uuid"],
        Value::Null
    );
    assert_eq!(
        updated[1]["current_ecosystem_preparation_uuid"],
        id(REQUEST, 60)
    );
    // A conflicting update (used number) → 422, nothing stored.
    let conflict = server.post(
        "/update_course_ecosystems",
        json!({"update_requests": [update_eco(1, 99, 54, 99), update_eco(1, 1, 55, 50)]}),
    );
    assert_eq!(conflict.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        conflict.errors()[0].starts_with("update_requests[1]: "),
        "{:?}",
        conflict.errors()
    );
    assert_eq!(server.count_course_events(&id(COURSE, 1)), 3);
}

/// The course the server's engine has stored for `c` once its watermark
/// reaches `through` (bounded: panics after 30 s).
fn engine_course(server: &TestServer, c: u64, through: u64) -> CourseState {
    let app = server.app();
    let course = CourseId::parse(&id(COURSE, c)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while app
        .store
        .confirmed(&app.consumer, course)
        .unwrap()
        .map_or(true, |done| done.get() < through)
    {
        assert!(
            Instant::now() < deadline,
            "the engine did not get to {through}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let snapshot = app.store.course_state(&app.consumer, course).unwrap();
    EngineCourseState::from_snapshot(course, &snapshot.unwrap())
        .unwrap()
        .course
}

/// Once the engine has applied course 1 through `through`: its stored
/// course has the `parked` switch and is in `eco`, and the status says the
/// same (current `eco`, prepared and precomputed when it came from a
/// preparation, nothing pending).
fn engine_and_status_agree(server: &TestServer, through: u64, parked: Option<u64>, eco: u64) {
    let engine = engine_course(server, 1, through);
    let parked = parked.map(|p| id(REQUEST, p));
    assert_eq!(engine.parked.map(|p| p.preparation.to_string()), parked);
    assert_eq!(engine.current_ecosystem.unwrap().to_string(), id(ECO, eco));
    let status = &statuses(server, &[1])[0];
    let prepared = eco != 1;
    let current = json!({"ecosystem_uuid": id(ECO, eco), "ecosystem_is_known": true,
        "ecosystem_is_prepared": prepared, "precompute_is_complete": prepared});
    assert_eq!(status["current_ecosystem_status"], current);
    let pending = &status["current_ecosystem_preparation_uuid"];
    let next = &status["next_ecosystem_status"]["ecosystem_uuid"];
    assert_eq!([pending, next], [&Value::Null, &Value::Null]);
}

/// S1 fix 13: an update whose preparation the engine has not applied yet
/// parks the switch; the statuses say what the engine has, not what the
/// raw events would suggest.
#[test]
fn a_parked_ecosystem_switch_is_reported_as_the_engine_sees_it() {
    let server = TestServer::new();
    for e in [1, 2] {
        server
            .post("/create_ecosystem", ecosystem_body(e, json!({})))
            .ok();
    }
    server.post("/create_course", course_body(1, 1)).ok();
    // The preparation is stored at 3 and the update naming it at 1; 2 is a
    // gap, so the engine applies 0 and 1 and waits.
    server
        .post("/prepare_course_ecosystem", prepare(1, 3, 50, 2))
        .ok();
    let answer = update_ecos(&server, [update_eco(1, 1, 51, 50)]);
    assert_eq!(
        answer["update_responses"][0]["update_status"],
        "updated_but_unready"
    );
    engine_and_status_agree(&server, 1, Some(50), 1);
    // Filling the gap lets the engine apply the preparation, which makes
    // the parked switch: nothing is pending any more.
    let exclusions = exclusions_body(1, 2, 52, 0);
    server
        .post("/update_course_excluded_exercises", exclusions)
        .ok();
    engine_and_status_agree(&server, 3, None, 2);
}
