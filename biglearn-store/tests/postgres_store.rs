//! PostgreSQL-specific behaviour of `SqlStore`: migrations, reopening,
//! atomic rejections, configuration errors, and several store instances
//! (standing in for processes) appending concurrently. Gated on
//! `BIGLEARN_TEST_PG_URL`; every test uses its own schema.

mod common;

use std::sync::Arc;

use biglearn_core::log::{EventLog, StoreError, StreamKind};
use biglearn_store::{BackendKind, PgOptions, SqlStore};
use common::{pg_store, pg_url, scenarios};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    value: Option<String>,
}

/// Every row of every table of the schema behind `url`, in a fixed order.
fn dump(url: &str) -> String {
    let mut conn = PgConnection::establish(url).expect("connect");
    let queries = [
        "SELECT string_agg(concat_ws(',', ord, stream_kind, encode(stream_uuid, 'hex'), sequence_number, encode(event_uuid, 'hex'), event_type, data), '|' ORDER BY ord) AS value FROM events",
        "SELECT string_agg(concat_ws(',', stream_kind, encode(stream_uuid, 'hex'), high_water_mark, coalesce(contiguous_through::text, '-'), coalesce(metadata_sequence_number::text, '-'), coalesce(encode(initial_ecosystem_uuid, 'hex'), '-')), '|' ORDER BY stream_kind, stream_uuid) AS value FROM streams",
        "SELECT string_agg(concat_ws(',', consumer, encode(course_uuid, 'hex'), confirmed), '|' ORDER BY consumer, course_uuid) AS value FROM consumer_watermarks",
        "SELECT string_agg(concat_ws(',', id_kind, encode(id_uuid, 'hex'), encode(owner_uuid, 'hex')), '|' ORDER BY id_kind, id_uuid) AS value FROM id_owners",
    ];
    queries
        .iter()
        .map(|q| {
            let rows: Vec<Text> = diesel::sql_query(*q).load(&mut conn).expect("dump");
            rows.into_iter()
                .next()
                .and_then(|r| r.value)
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A second store on the same schema: another "process".
fn another_process(url: &str) -> SqlStore {
    SqlStore::open_postgres(url, PgOptions::default()).expect("second store")
}

#[test]
fn postgres_migrations_are_idempotent_and_reopening_keeps_everything() {
    let Some(admin) = pg_url() else { return };
    let test = pg_store(&admin);
    assert_eq!(test.store.backend_kind(), BackendKind::Postgres);
    assert!(test.store.sqlite_pragmas().expect("pragmas").is_none());
    test.store.migrate().expect("second migrate");
    scenarios::populate(&test.store);
    let before = scenarios::observe(&test.store);
    scenarios::check_populated(&before);
    let reopened = SqlStore::open(&test.guard.url).expect("reopen with open()");
    assert_eq!(scenarios::observe(&reopened), before);
}

#[test]
fn postgres_rejected_appends_leave_tables_unchanged() {
    let Some(admin) = pg_url() else { return };
    let test = pg_store(&admin);
    let url = test.guard.url.clone();
    scenarios::rejection_is_atomic(&test.store, &|| dump(&url));
}

#[test]
fn postgres_events_are_immutable() {
    let Some(admin) = pg_url() else { return };
    let test = pg_store(&admin);
    scenarios::populate(&test.store);
    let mut conn = PgConnection::establish(&test.guard.url).expect("connect");
    for statement in ["UPDATE events SET data = '{}'", "DELETE FROM events"] {
        let error = conn.batch_execute(statement).expect_err(statement);
        assert!(error.to_string().contains("immutable"), "{error}");
    }
}

#[test]
fn postgres_bad_urls_are_config_errors() {
    let Some(admin) = pg_url() else { return };
    // Nothing listens on port 1; the password must not leak into messages.
    let error = SqlStore::open("postgres://someone:hunter2@127.0.0.1:1/db").expect_err("port 1");
    assert!(
        matches!(&error, StoreError::Config(m) if m.contains("127.0.0.1:1") && !m.contains("hunter2")),
        "{error:?}"
    );
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    let error = SqlStore::open(&format!("{base}/biglearn_no_such_database")).expect_err("no db");
    assert!(
        matches!(&error, StoreError::Config(m) if m.contains("biglearn_no_such_database")),
        "{error:?}"
    );
    let error = SqlStore::open_postgres(
        &admin,
        PgOptions {
            max_connections: 0,
            ..PgOptions::default()
        },
    )
    .expect_err("zero connections");
    assert!(matches!(error, StoreError::Config(_)), "{error:?}");
}

#[test]
fn postgres_two_processes_keep_metadata_gap_free() {
    let Some(admin) = pg_url() else { return };
    let test = pg_store(&admin);
    let stores = vec![
        Arc::new(another_process(&test.guard.url)),
        Arc::new(another_process(&test.guard.url)),
    ];
    scenarios::concurrent_creates(&stores, 4, 25);
    let all = test
        .store
        .fetch_metadatas(StreamKind::Course, 0, 1000)
        .expect("metadata");
    assert_eq!(all.len(), 200);
}

#[test]
fn postgres_two_processes_conflicts_are_rejections() {
    let Some(admin) = pg_url() else { return };
    let test = pg_store(&admin);
    let stores = vec![
        Arc::new(another_process(&test.guard.url)),
        Arc::new(another_process(&test.guard.url)),
    ];
    scenarios::concurrent_conflicts(&stores, 6);
}
