//! The event-writing and event-reading endpoints through HTTP: api.md §8.1
//! items 22–52 (service level), §8.3 (fetch paging, replays, batches) and
//! §8.4 (A2 nested keys, A4 replays and conflicts, A5 metadata numbers).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use axum::http::StatusCode;
use serde_json::{json, Value};
use server_support::*;

fn fetch(server: &TestServer, requests: Vec<Value>, max: u64) -> Vec<Value> {
    server
        .post(
            "/fetch_course_events",
            json!({"course_event_requests": requests, "max_num_events": max}),
        )
        .ok()["course_event_responses"]
        .as_array()
        .unwrap()
        .clone()
}

fn sub(request: u64, course: u64, offset: u64, types: &[&str]) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "event_types": types,
        "course_uuid": id(COURSE, course),
        "sequence_number_offset": offset,
    })
}

fn seqs(response: &Value) -> Vec<u64> {
    response["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence_number"].as_u64().unwrap())
        .collect()
}

fn dates(c: u64, seq: u64, request: u64) -> Value {
    json!({
        "request_uuid": id(REQUEST, request),
        "course_uuid": id(COURSE, c),
        "sequence_number": seq,
        "starts_at": "2017-01-01T00:00:00.000Z",
        "ends_at": "2018-01-01T00:00:00.000Z",
        "updated_at": T0,
    })
}

#[test]
fn s8_1_items_22_23_create_ecosystem_is_stored_once_and_echoed() {
    let server = TestServer::new();
    let body = ecosystem_body(1, json!({"undeclared_book_key": {"kept": true}}));
    let answer = server.post("/create_ecosystem", body.clone()).ok();
    assert_eq!(answer, json!({"created_ecosystem_uuid": id(ECO, 1)}));
    let again = server.post("/create_ecosystem", body.clone()).ok();
    assert_eq!(again, answer);
    let events = server
        .post(
            "/fetch_ecosystem_events",
            json!({"ecosystem_event_requests": [{
                "request_uuid": id(REQUEST, 1),
                "event_types": ["create_ecosystem"],
                "ecosystem_uuid": id(ECO, 1),
                "sequence_number_offset": 0,
            }], "max_num_events": 10}),
        )
        .ok();
    let response = &events["ecosystem_event_responses"][0];
    assert_eq!(response["ecosystem_uuid"], id(ECO, 1));
    assert_eq!(response["is_end"], true);
    assert_eq!(response["is_gap"], false);
    let stored = response["events"].as_array().unwrap();
    assert_eq!(stored.len(), 1, "stored exactly once");
    assert_eq!(stored[0]["event_type"], "create_ecosystem");
    assert_eq!(stored[0]["sequence_number"], 0);
    let data = &stored[0]["event_data"];
    assert_eq!(
        data["book"], body["book"],
        "book kept verbatim, undeclared keys too"
    );
    assert_eq!(data["exercises"], body["exercises"]);
    assert_eq!(data["imported_at"], T0);
}

#[test]
fn s8_1_items_24_25_create_course_is_stored_once_with_its_fields() {
    let server = TestServer::new();
    let answer = server.post("/create_course", course_body(1, 1)).ok();
    assert_eq!(answer, json!({"created_course_uuid": id(COURSE, 1)}));
    server.post("/create_course", course_body(1, 1)).ok();
    let response = server.course_events(&id(COURSE, 1), 0);
    let events = response["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    let data = &events[0]["event_data"];
    assert_eq!(data["ecosystem_uuid"], id(ECO, 1));
    assert_eq!(data["is_real_course"], true);
    assert_eq!(data["starts_at"], "2017-01-01T00:00:00.000000Z");
    assert_eq!(data["ends_at"], "2030-01-01T00:00:00.000000Z");
    assert_eq!(data["created_at"], T0);
    // A4: the same course uuid with another ecosystem is a different
    // create event at the same place: rejected, nothing changes (§9 item 9).
    let other = server.post("/create_course", course_body(1, 2));
    assert_eq!(other.status, StatusCode::OK, "a replay of the create uuid");
    let metadata = server
        .post(
            "/fetch_course_metadatas",
            json!({"metadata_sequence_number_offset": 0, "max_num_metadatas": 10}),
        )
        .ok();
    assert_eq!(
        metadata["course_responses"][0]["initial_ecosystem_uuid"],
        id(ECO, 1)
    );
}

#[test]
fn s8_1_items_26_27_course_active_dates_and_occupied_sequence_number() {
    let server = TestServer::new();
    server.post("/create_course", course_body(1, 1)).ok();
    let answer = server
        .post("/update_course_active_dates", dates(1, 1, 1))
        .ok();
    assert_eq!(answer, json!({"updated_course_uuid": id(COURSE, 1)}));
    let conflict = server.post("/update_course_active_dates", dates(1, 1, 2));
    assert_eq!(conflict.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(conflict.errors().len(), 1);
    assert!(
        conflict.errors()[0].contains("sequence number 1"),
        "{:?}",
        conflict.errors()
    );
    let events = server.course_events(&id(COURSE, 1), 0);
    assert_eq!(seqs(&events), vec![0, 1]);
    assert_eq!(events["events"][1]["event_uuid"], id(REQUEST, 1));
    assert_eq!(
        events["events"][1]["event_data"]["starts_at"],
        "2017-01-01T00:00:00.000Z"
    );
}

#[test]
fn s8_1_items_28_to_30_and_a5_metadata_paging_and_numbering() {
    let server = TestServer::new();
    let page = |offset: u64, max: u64| {
        server
            .post(
                "/fetch_course_metadatas",
                json!({"metadata_sequence_number_offset": offset, "max_num_metadatas": max}),
            )
            .ok()["course_responses"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(page(0, 10).is_empty(), "item 28: no courses");
    let eco_page = server
        .post(
            "/fetch_ecosystem_metadatas",
            json!({"metadata_sequence_number_offset": 0, "max_num_metadatas": 10}),
        )
        .ok();
    assert_eq!(eco_page, json!({"ecosystem_responses": []}));
    server.post("/create_course", course_body(1, 1)).ok();
    // Course 2 gets events before its create_course (A5: no number yet).
    server
        .post("/update_course_active_dates", dates(2, 1, 20))
        .ok();
    server.post("/create_course", course_body(3, 1)).ok();
    let numbers: Vec<(Value, Value)> = page(0, 10)
        .iter()
        .map(|c| (c["uuid"].clone(), c["metadata_sequence_number"].clone()))
        .collect();
    assert_eq!(
        numbers,
        vec![
            (json!(id(COURSE, 1)), json!(0)),
            (json!(id(COURSE, 3)), json!(1))
        ]
    );
    // A consumer paging from its last seen number (2) still finds course 2.
    server.post("/create_course", course_body(2, 1)).ok();
    let later = page(2, 10);
    assert_eq!(later.len(), 1);
    assert_eq!(later[0]["uuid"], id(COURSE, 2));
    assert_eq!(later[0]["initial_ecosystem_uuid"], id(ECO, 1));
    assert_eq!(page(0, 2).len(), 2, "page size respected");
    assert_eq!(page(1, 10).len(), 2, "offset inclusive");
    // Ecosystems: exactly those >= offset.
    for e in 1..=3 {
        server
            .post("/create_ecosystem", ecosystem_body(e, json!({})))
            .ok();
    }
    let ecosystems = server
        .post(
            "/fetch_ecosystem_metadatas",
            json!({"metadata_sequence_number_offset": 1, "max_num_metadatas": 10}),
        )
        .ok();
    assert_eq!(
        ecosystems,
        json!({"ecosystem_responses": [
            {"uuid": id(ECO, 2), "metadata_sequence_number": 1},
            {"uuid": id(ECO, 3), "metadata_sequence_number": 2},
        ]})
    );
}

/// Course `c` with create_course (0), dates (1) and exclusions at `later`.
fn course_with(server: &TestServer, c: u64, later: &[u64]) {
    server.post("/create_course", course_body(c, 1)).ok();
    server
        .post("/update_course_active_dates", dates(c, 1, c * 100 + 1))
        .ok();
    for seq in later {
        server
            .post(
                "/update_course_excluded_exercises",
                exclusions_body(c, *seq, c * 100 + seq, 1),
            )
            .ok();
    }
}

#[test]
fn s8_1_item_31_fetch_returns_requested_types_to_the_end() {
    let server = TestServer::new();
    course_with(&server, 1, &[2]);
    course_with(&server, 2, &[2]);
    let types = ["create_course", "update_course_excluded_exercises"];
    let responses = fetch(
        &server,
        vec![sub(1, 1, 0, &types), sub(2, 2, 0, &types)],
        100,
    );
    for (i, response) in responses.iter().enumerate() {
        assert_eq!(response["request_uuid"], id(REQUEST, i as u64 + 1));
        assert_eq!(response["course_uuid"], id(COURSE, i as u64 + 1));
        assert_eq!(seqs(response), vec![0, 2]);
        assert_eq!(
            response["events"][1]["event_type"],
            "update_course_excluded_exercises"
        );
        assert_eq!(response["is_gap"], false);
        assert_eq!(response["is_end"], true);
    }
}

#[test]
fn s8_1_item_32_fetch_stops_at_a_gap() {
    let server = TestServer::new();
    course_with(&server, 1, &[3]);
    course_with(&server, 2, &[3]);
    let types = ["create_course", "update_course_excluded_exercises"];
    let responses = fetch(
        &server,
        vec![sub(1, 1, 0, &types), sub(2, 2, 0, &types)],
        100,
    );
    for response in &responses {
        assert_eq!(seqs(response), vec![0]);
        assert_eq!(response["is_gap"], true);
        assert_eq!(response["is_end"], false);
    }
    // An offset at the missing number: empty, is_gap.
    let at_gap = fetch(&server, vec![sub(1, 1, 2, &ALL_COURSE_TYPES)], 100);
    assert_eq!(seqs(&at_gap[0]), Vec::<u64>::new());
    assert_eq!(at_gap[0]["is_gap"], true);
    // Filling the gap lets readers continue.
    server
        .post("/update_course_active_dates", dates(1, 2, 150))
        .ok();
    let filled = fetch(&server, vec![sub(1, 1, 0, &ALL_COURSE_TYPES)], 100);
    assert_eq!(seqs(&filled[0]), vec![0, 1, 2, 3]);
    assert_eq!(filled[0]["is_end"], true);
}

#[test]
fn s8_1_items_33_34_fetch_ecosystem_events_and_gaps() {
    let server = TestServer::new();
    server
        .post("/create_ecosystem", ecosystem_body(1, json!({})))
        .ok();
    let request = |offset: u64| {
        server.post(
            "/fetch_ecosystem_events",
            json!({"ecosystem_event_requests": [{
                "request_uuid": id(REQUEST, 1),
                "event_types": ["no_op", "create_ecosystem"],
                "ecosystem_uuid": id(ECO, 1),
                "sequence_number_offset": offset,
            }], "max_num_events": 10}),
        )
    };
    let response = request(0).ok()["ecosystem_event_responses"][0].clone();
    assert_eq!(seqs(&response), vec![0]);
    assert_eq!(response["is_end"], true);
    let beyond = request(5).ok()["ecosystem_event_responses"][0].clone();
    assert_eq!(beyond["events"], json!([]));
    assert_eq!(beyond["is_end"], true);
    assert_eq!(beyond["is_gap"], false);
}

#[test]
fn s8_3_fetch_cap_is_call_wide_and_fair() {
    let server = TestServer::new();
    for c in 1..=3 {
        course_with(&server, c, &[2, 3, 4]);
    }
    let subs = (1..=3).map(|c| sub(c, c, 0, &ALL_COURSE_TYPES)).collect();
    let responses = fetch(&server, subs, 4);
    let got: Vec<Vec<u64>> = responses.iter().map(seqs).collect();
    assert_eq!(got, vec![vec![0, 1], vec![0], vec![0]]);
    for response in &responses {
        assert_eq!(response["is_end"], false);
        assert_eq!(response["is_gap"], false);
    }
    // Unknown stream: empty and at the end; type filter excluding the rest:
    // at the end.
    let other = fetch(
        &server,
        vec![
            sub(7, 99, 0, &ALL_COURSE_TYPES),
            sub(8, 1, 1, &["create_course"]),
        ],
        10,
    );
    assert_eq!(other[0]["events"], json!([]));
    assert_eq!(other[0]["is_end"], true);
    assert_eq!(other[1]["events"], json!([]));
    assert_eq!(other[1]["is_end"], true);
}

#[test]
fn a4_replayed_uuid_is_success_and_stored_once() {
    let server = TestServer::new();
    small_course(&server);
    let body = json!({"responses": [response_item(1, 1, 4, 1, 1, 1, 0)]});
    let first = server.post("/record_responses", body.clone()).ok();
    let again = server.post("/record_responses", body).ok();
    assert_eq!(first, again);
    assert_eq!(first, json!({"recorded_response_uuids": [id(RESPONSE, 1)]}));
    assert_eq!(server.count_course_events(&id(COURSE, 1)), 5);
}

#[test]
fn a4_different_uuid_at_a_used_sequence_number_is_422_and_nothing_stored() {
    let server = TestServer::new();
    small_course(&server);
    server
        .post(
            "/record_responses",
            json!({"responses": [response_item(1, 1, 4, 1, 1, 1, 0)]}),
        )
        .ok();
    // Item 0 is new and fine, item 1 takes the used number 4.
    let answer = server.post(
        "/record_responses",
        json!({"responses": [
            response_item(1, 1, 5, 2, 1, 1, 1),
            response_item(1, 1, 4, 3, 1, 1, 2),
        ]}),
    );
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = answer.errors();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("responses[1]: "), "{errors:?}");
    assert_eq!(
        server.count_course_events(&id(COURSE, 1)),
        5,
        "nothing of the call stored"
    );
    assert_eq!(
        server.course_head(&id(COURSE, 1)),
        5,
        "no stream head moved"
    );
}

#[test]
fn a4_same_uuid_at_another_number_stream_or_type_is_422() {
    let server = TestServer::new();
    small_course(&server);
    server
        .post(
            "/record_responses",
            json!({"responses": [response_item(1, 1, 4, 1, 1, 1, 0)]}),
        )
        .ok();
    let moved = server.post(
        "/record_responses",
        json!({"responses": [response_item(1, 1, 9, 1, 1, 1, 0)]}),
    );
    assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other_course = server.post(
        "/record_responses",
        json!({"responses": [response_item(2, 1, 4, 1, 1, 1, 0)]}),
    );
    assert_eq!(other_course.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut as_dates = dates(1, 4, 0);
    as_dates["request_uuid"] = json!(id(RESPONSE, 1));
    let other_type = server.post("/update_course_active_dates", as_dates);
    assert_eq!(other_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(other_type.errors()[0].starts_with("(request body): "));
    assert_eq!(server.course_head(&id(COURSE, 2)), 0);
    assert_eq!(server.count_course_events(&id(COURSE, 1)), 5);
}

#[test]
fn s8_1_items_50_51_record_responses_dedups_and_keeps_order() {
    let server = TestServer::new();
    small_course(&server);
    let empty = server
        .post("/record_responses", json!({"responses": []}))
        .ok();
    assert_eq!(empty, json!({"recorded_response_uuids": []}));
    server
        .post(
            "/record_responses",
            json!({"responses": [
                response_item(1, 1, 4, 1, 1, 1, 0),
                response_item(1, 1, 5, 2, 1, 1, 1),
            ]}),
        )
        .ok();
    // Four responses, each sent twice, two already stored; upper-case uuid
    // echoed as sent (A9).
    let mut upper = response_item(1, 1, 7, 4, 1, 1, 2);
    upper["response_uuid"] = json!(id(RESPONSE, 4).to_uppercase());
    let items = vec![
        response_item(1, 1, 4, 1, 1, 1, 0),
        response_item(1, 1, 6, 3, 2, 2, 0),
        response_item(1, 1, 5, 2, 1, 1, 1),
        upper.clone(),
        response_item(1, 1, 6, 3, 2, 2, 0),
        upper,
        response_item(1, 1, 4, 1, 1, 1, 0),
        response_item(1, 1, 5, 2, 1, 1, 1),
    ];
    let answer = server
        .post("/record_responses", json!({"responses": items}))
        .ok();
    assert_eq!(
        answer,
        json!({"recorded_response_uuids": [
            id(RESPONSE, 1), id(RESPONSE, 3), id(RESPONSE, 2), id(RESPONSE, 4).to_uppercase(),
        ]})
    );
    let events = server.course_events(&id(COURSE, 1), 4);
    assert_eq!(seqs(&events), vec![4, 5, 6, 7]);
    let stored = &events["events"][3];
    assert_eq!(stored["event_uuid"], id(RESPONSE, 4), "stored lower case");
    assert_eq!(
        stored["event_data"]["responded_at"], T0,
        "datetime text identical"
    );
    assert_eq!(stored["event_data"]["is_correct"], true);
}

#[test]
fn s8_1_items_46_47_update_rosters() {
    let server = TestServer::new();
    server.post("/create_course", course_body(1, 1)).ok();
    let mut item = roster_item(1, 1, 1, &[1, 2, 3]);
    item["course_containers"][0]["archived_at"] = Value::Null;
    item["students"][1]["dropped_at"] = json!(T0);
    let answer = server
        .post("/update_rosters", json!({"rosters": [item.clone()]}))
        .ok();
    assert_eq!(
        answer,
        json!({"updated_rosters": [{"request_uuid": id(REQUEST, 1), "updated_course_uuid": id(COURSE, 1)}]})
    );
    let events = server.course_events(&id(COURSE, 1), 1);
    let data = &events["events"][0]["event_data"];
    assert_eq!(data["course_containers"], item["course_containers"]);
    assert_eq!(data["students"], item["students"]);
    let conflict = server.post(
        "/update_rosters",
        json!({"rosters": [roster_item(1, 1, 2, &[4])]}),
    );
    assert_eq!(conflict.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(conflict.errors()[0].starts_with("rosters[0]: "));
    assert_eq!(server.count_course_events(&id(COURSE, 1)), 2);
}

#[test]
fn s8_1_items_48_49_create_update_assignments() {
    let server = TestServer::new();
    server
        .post("/create_ecosystem", ecosystem_body(1, json!({})))
        .ok();
    server.post("/create_course", course_body(1, 1)).ok();
    let item = assignment_item(1, 1, 1, 1, 1, 1);
    let answer = server
        .post(
            "/create_update_assignments",
            json!({"assignments": [item.clone()]}),
        )
        .ok();
    assert_eq!(
        answer,
        json!({"updated_assignments": [{"request_uuid": id(REQUEST, 1), "updated_assignment_uuid": id(ASSIGNMENT, 1)}]})
    );
    let events = server.course_events(&id(COURSE, 1), 1);
    let data = &events["events"][0]["event_data"];
    for key in [
        "assignment_uuid",
        "assigned_exercises",
        "assigned_book_container_uuids",
        "goal_num_tutor_assigned_pes",
        "created_at",
    ] {
        assert_eq!(data[key], item[key], "{key}");
    }
    // A2: undeclared nested key kept verbatim.
    assert_eq!(
        data["exclusion_info"]["closes_at"],
        "2017-08-09T12:00:00.000000Z"
    );
    // Item 48: a conflict stores neither event nor assignment.
    let conflict = server.post(
        "/create_update_assignments",
        json!({"assignments": [assignment_item(1, 1, 2, 2, 2, 1), assignment_item(1, 1, 1, 3, 3, 1)]}),
    );
    assert_eq!(conflict.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(conflict.errors()[0].starts_with("assignments[1]: "));
    assert_eq!(server.count_course_events(&id(COURSE, 1)), 2);
    let pes = server
        .post(
            "/fetch_assignment_pes",
            json!({"pe_requests": [{"request_uuid": id(REQUEST, 9), "assignment_uuid": id(ASSIGNMENT, 2), "algorithm_name": "x"}]}),
        )
        .ok();
    assert_eq!(
        pes["pe_responses"][0]["assignment_status"],
        "assignment_unknown"
    );
}
