//! Smoke test of the server on PostgreSQL (BIGLEARN_TEST_PG_URL): a fresh
//! database per run, a small course written and read back through HTTP.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::json;
use server_support::*;

#[test]
fn postgres_smoke_write_read_and_engine() {
    let Ok(url) = std::env::var("BIGLEARN_TEST_PG_URL") else {
        println!("skipped: BIGLEARN_TEST_PG_URL not set");
        return;
    };
    let name = format!("biglearn_server_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let db_url = format!("{base}/{name}");
    {
        let store = biglearn_store::SqlStore::open(&db_url).unwrap();
        let server = TestServer::on_store(store, &db_url);
        small_course(&server);
        server
            .post(
                "/record_responses",
                json!({"responses": [response_item(1, 1, 4, 1, 1, 1, 0)]}),
            )
            .ok();
        assert_eq!(server.count_course_events(&id(COURSE, 1)), 5);
        let read = server.read_when_processed(
            "/fetch_assignment_pes",
            json!({"pe_requests": [{"request_uuid": id(REQUEST, 1), "assignment_uuid": id(ASSIGNMENT, 1), "algorithm_name": "biglearn_sparfa"}]}),
        );
        assert_eq!(
            read.body["pe_responses"][0]["assignment_status"],
            "assignment_ready"
        );
    }
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
}
