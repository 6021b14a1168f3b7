//! The server's id registry is the store's table, written with the events:
//! a second server on the same database sees the ids the first one wrote
//! (whether it started before or after the writes), and a server starts
//! without reading the log: its statuses come from the table alone.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use biglearn::server::App;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use serde_json::{json, Value};
use server_support::*;

/// Another server process on the same database as `first`.
fn second_server(first: &TestServer) -> TestServer {
    TestServer {
        dir: tempfile::tempdir().unwrap(),
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
        app: Some(App::open(&first.config).unwrap()),
        config: first.config.clone(),
    }
}

/// The status of one student CLUE read (an algorithm nothing computes, so
/// the status only depends on which ids are known).
fn student_status(server: &TestServer, student: u64, book: u64) -> Value {
    let answer = server.post(
        "/fetch_student_clues",
        json!({"student_clue_requests": [{"request_uuid": id(REQUEST, 1),
            "student_uuid": id(STUDENT, student), "book_container_uuid": id(BOOK, book),
            "algorithm_name": "not_built_in"}]}),
    );
    answer.ok()["student_clue_responses"][0]["clue_status"].clone()
}

fn teacher_status(server: &TestServer, period: u64) -> Value {
    let answer = server.post(
        "/fetch_teacher_clues",
        json!({"teacher_clue_requests": [{"request_uuid": id(REQUEST, 2),
            "course_container_uuid": id(PERIOD, period), "book_container_uuid": id(BOOK, 11),
            "algorithm_name": "not_built_in"}]}),
    );
    answer.ok()["teacher_clue_responses"][0]["clue_status"].clone()
}

fn assignment_status(server: &TestServer, assignment: u64) -> Value {
    let answer = server.post(
        "/fetch_assignment_pes",
        json!({"pe_requests": [{"request_uuid": id(REQUEST, 3),
            "assignment_uuid": id(ASSIGNMENT, assignment), "algorithm_name": "not_built_in"}]}),
    );
    answer.ok()["pe_responses"][0]["assignment_status"].clone()
}

#[test]
fn a_second_server_sees_the_ids_the_first_wrote() {
    let first = TestServer::new();
    // Started before anything is written: an in-memory registry would
    // never learn of the first server's writes.
    let early = second_server(&first);
    assert_eq!(student_status(&early, 1001, 11), "book_container_unknown");
    assert_eq!(
        early.app().registry.cached(),
        0,
        "unknown ids are not cached"
    );

    small_course(&first);
    for server in [&early, &second_server(&first)] {
        assert_eq!(student_status(server, 1001, 11), "clue_unready");
        assert_eq!(student_status(server, 1002, 12), "clue_unready");
        assert_eq!(student_status(server, 1003, 11), "student_unknown");
        assert_eq!(student_status(server, 1001, 99), "book_container_unknown");
        assert_eq!(teacher_status(server, 1), "clue_unready");
        assert_eq!(teacher_status(server, 2), "course_container_unknown");
        assert_eq!(assignment_status(server, 2), "assignment_unready");
        assert_eq!(assignment_status(server, 3), "assignment_unknown");
    }

    // And the other way round: a write through the second server is seen by
    // the first at once, and a read after one's own write sees it.
    early
        .post(
            "/update_rosters",
            json!({"rosters": [roster_item(1, 4, 40, &[1, 2, 3])]}),
        )
        .ok();
    assert_eq!(student_status(&early, 1003, 11), "clue_unready");
    assert_eq!(student_status(&first, 1003, 11), "clue_unready");
    first
        .post(
            "/create_update_assignments",
            json!({"assignments": [assignment_item(1, 1, 5, 50, 3, 3)]}),
        )
        .ok();
    assert_eq!(assignment_status(&first, 3), "assignment_unready");
    assert_eq!(assignment_status(&early, 3), "assignment_unready");
}

#[test]
fn a_server_starts_from_the_table_without_reading_the_log() {
    let mut server = TestServer::new();
    server
        .post("/create_ecosystem", ecosystem_body(1, json!({})))
        .ok();
    // A log of 12 courses, 40 students each.
    let students: Vec<u64> = (1..=40).collect();
    for c in 1..=12u64 {
        server.post("/create_course", course_body(c, 1)).ok();
        server
            .post(
                "/update_rosters",
                json!({"rosters": [roster_item(c, 1, 100 + c, &students)]}),
            )
            .ok();
    }
    server.app.take().unwrap().shutdown();

    // Take course 7's ids out of the table behind the server's back (the
    // table is immutable for the store, so the test lifts the guard first).
    // Its events stay in the log: a server that rebuilt its registry from
    // the log would know these students again; one that reads the table
    // does not.
    let path = std::path::Path::new(&server.config.database).to_owned();
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute(&format!(
        "DROP TRIGGER id_owners_no_delete; \
         DELETE FROM id_owners WHERE owner_uuid = x'{}'; \
         CREATE TRIGGER id_owners_no_delete BEFORE DELETE ON id_owners \
         BEGIN SELECT RAISE(ABORT, 'id owners are immutable'); END;",
        id(COURSE, 7).replace('-', "")
    ))
    .unwrap();
    drop(conn);

    server.restart();
    assert_eq!(
        server.app().registry.cached(),
        0,
        "the server loaded ids at start"
    );
    assert_eq!(server.count_course_events(&id(COURSE, 7)), 2);
    assert_eq!(student_status(&server, 7001, 11), "student_unknown");
    assert_eq!(teacher_status(&server, 7), "course_container_unknown");
    for c in [1u64, 6, 8, 12] {
        assert_eq!(student_status(&server, c * 1000 + 40, 11), "clue_unready");
        assert_eq!(teacher_status(&server, c), "clue_unready");
    }
    // Only what was read is cached: 4 students, 4 periods, the book.
    assert_eq!(server.app().registry.cached(), 9);
}
