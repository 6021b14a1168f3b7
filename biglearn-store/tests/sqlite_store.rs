//! SQLite-specific behaviour of `SqlStore`: durability settings, migrations,
//! reopening, atomic rejections, configuration errors, concurrency, chunking.

mod common;

use std::sync::Arc;

use biglearn_core::log::{EventLog, StoreError, StreamKind};
use biglearn_core::testing::fixtures::{course, request, response};
use biglearn_store::{BackendKind, SqlStore, SqliteOptions, Synchronous};
use common::scenarios;
use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    value: Option<String>,
}

/// Every row of every table, in a fixed order, read over a separate
/// connection.
fn dump(path: &std::path::Path) -> String {
    let mut conn = SqliteConnection::establish(path.to_str().expect("utf-8 path")).expect("open");
    let queries = [
        "SELECT group_concat(r, '|') AS value FROM (SELECT ord || ',' || stream_kind || ',' || hex(stream_uuid) || ',' || sequence_number || ',' || hex(event_uuid) || ',' || event_type || ',' || data AS r FROM events ORDER BY ord)",
        "SELECT group_concat(r, '|') AS value FROM (SELECT stream_kind || ',' || hex(stream_uuid) || ',' || high_water_mark || ',' || ifnull(contiguous_through, '-') || ',' || ifnull(metadata_sequence_number, '-') || ',' || ifnull(hex(initial_ecosystem_uuid), '-') AS r FROM streams ORDER BY stream_kind, stream_uuid)",
        "SELECT group_concat(r, '|') AS value FROM (SELECT consumer || ',' || hex(course_uuid) || ',' || confirmed AS r FROM consumer_watermarks ORDER BY consumer, course_uuid)",
        "SELECT group_concat(r, '|') AS value FROM (SELECT id_kind || ',' || hex(id_uuid) || ',' || hex(owner_uuid) AS r FROM id_owners ORDER BY id_kind, id_uuid)",
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

#[test]
fn sqlite_durability_settings_are_applied() {
    let test = common::sqlite_file_store();
    let pragmas = test
        .store
        .sqlite_pragmas()
        .expect("pragmas")
        .expect("sqlite");
    assert_eq!(pragmas.durability, Synchronous::Full);
    let reader = pragmas.reader.expect("reader pool");
    for conn in [&pragmas.writer, &reader] {
        assert_eq!(conn.journal_mode, "wal");
        // The store flushes the log itself, after releasing the writer.
        assert_eq!(conn.synchronous, Some(Synchronous::Normal));
        assert_eq!(conn.busy_timeout_ms, 5000);
        assert!(conn.foreign_keys);
    }
    for level in [Synchronous::Normal, Synchronous::Extra] {
        let test = common::sqlite_file_store_with(SqliteOptions {
            synchronous: level,
            busy_timeout: std::time::Duration::from_millis(1234),
            ..SqliteOptions::default()
        });
        let pragmas = test
            .store
            .sqlite_pragmas()
            .expect("pragmas")
            .expect("sqlite");
        assert_eq!(pragmas.durability, level);
        assert_eq!(pragmas.writer.synchronous, Some(Synchronous::Normal));
        assert_eq!(pragmas.writer.busy_timeout_ms, 1234);
        assert_eq!(
            pragmas.reader.expect("reader").synchronous,
            Some(Synchronous::Normal)
        );
    }
    let memory = common::sqlite_memory_store();
    let pragmas = memory.sqlite_pragmas().expect("pragmas").expect("sqlite");
    assert_eq!(pragmas.writer.journal_mode, "memory");
    assert!(pragmas.reader.is_none());
    assert_eq!(memory.backend_kind(), BackendKind::Sqlite);
}

/// At `FULL` and `EXTRA` every event append is followed by one flush of the
/// write-ahead log before it returns; the engine's derived writes are not
/// (the event log can rebuild them, and the next flush covers them too);
/// at `NORMAL` and in memory nothing is flushed.
#[test]
fn appends_flush_the_log_and_derived_writes_do_not() {
    use biglearn_core::engine_store::{EngineStore, Snapshot, StateBlob};
    use biglearn_core::ids::EcosystemId;
    use biglearn_core::log::SequenceNumber;

    let derived_write = |store: &SqlStore| {
        let ecosystem = EcosystemId::from_uuid(uuid::Uuid::from_u128(7));
        let snapshot = Snapshot {
            through: SequenceNumber::new(0).expect("sequence number"),
            blob: StateBlob {
                format_version: 1,
                bytes: vec![1, 2, 3],
            },
        };
        store
            .save_ecosystem_state(ecosystem, &snapshot)
            .expect("derived write");
        let stored = store
            .ecosystem_state(ecosystem)
            .expect("read back")
            .expect("stored");
        assert_eq!(stored.blob.bytes, vec![1, 2, 3]);
    };
    for (level, flushes_per_append) in [
        (Synchronous::Full, 1),
        (Synchronous::Extra, 1),
        (Synchronous::Normal, 0),
    ] {
        let test = common::sqlite_file_store_with(SqliteOptions {
            synchronous: level,
            ..SqliteOptions::default()
        });
        let before = test.store.log_flushes();
        test.store
            .append(&request(vec![response(course(1), 0, 1)]))
            .expect("append");
        let after_append = test.store.log_flushes();
        assert_eq!(after_append - before, flushes_per_append, "{level:?}");
        derived_write(&test.store);
        assert_eq!(test.store.log_flushes(), after_append, "{level:?}");
    }
    let memory = common::sqlite_memory_store();
    memory
        .append(&request(vec![response(course(1), 0, 1)]))
        .expect("append in memory");
    derived_write(&memory);
    assert_eq!(memory.log_flushes(), 0);
}

#[test]
fn sqlite_migrations_are_idempotent_and_reopening_keeps_everything() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("log.db");
    let location = format!("sqlite://{}", path.display());
    let before = {
        let store = SqlStore::open(&location).expect("open");
        store.migrate().expect("second migrate");
        scenarios::populate(&store);
        scenarios::observe(&store)
    };
    scenarios::check_populated(&before);
    let store = SqlStore::open(path.to_str().expect("utf-8")).expect("reopen");
    store.migrate().expect("migrate again");
    assert_eq!(scenarios::observe(&store), before);
}

#[test]
fn sqlite_rejected_appends_leave_tables_unchanged() {
    let test = common::sqlite_file_store();
    let path = test.guard.path().join("log.db");
    scenarios::rejection_is_atomic(&test.store, &|| dump(&path));
}

#[test]
fn sqlite_events_are_immutable() {
    let test = common::sqlite_file_store();
    scenarios::populate(&test.store);
    let path = test.guard.path().join("log.db");
    let mut conn = SqliteConnection::establish(path.to_str().expect("utf-8")).expect("open");
    for statement in ["UPDATE events SET data = '{}'", "DELETE FROM events"] {
        let error = conn.batch_execute(statement).expect_err(statement);
        assert!(error.to_string().contains("immutable"), "{error}");
    }
}

#[test]
fn sqlite_bad_locations_are_config_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("no/such/dir/log.db");
    let error = SqlStore::open_sqlite(&missing, SqliteOptions::default()).expect_err("missing dir");
    assert!(
        matches!(&error, StoreError::Config(m) if m.contains("no/such/dir")),
        "{error:?}"
    );
    for location in ["", "   ", "sqlite://", "mysql://localhost/db"] {
        let error = SqlStore::open(location).expect_err(location);
        assert!(
            matches!(error, StoreError::Config(_)),
            "{location:?}: {error:?}"
        );
    }
    let not_a_database = dir.path().join("text.db");
    std::fs::write(&not_a_database, "this is not a database file, ".repeat(200)).expect("write");
    let error = SqlStore::open(not_a_database.to_str().expect("utf-8")).expect_err("garbage");
    assert!(matches!(error, StoreError::Config(_)), "{error:?}");
}

#[test]
fn sqlite_concurrent_creates_keep_metadata_gap_free() {
    let test = common::sqlite_file_store();
    let path = test.guard.path().join("log.db");
    // A second store on the same file stands in for a second process.
    let second = SqlStore::open_sqlite(&path, SqliteOptions::default()).expect("second");
    let stores = vec![
        Arc::new(second),
        Arc::new(SqlStore::open_sqlite(&path, SqliteOptions::default()).expect("third")),
    ];
    scenarios::concurrent_creates(&stores, 4, 25);
    let all = test
        .store
        .fetch_metadatas(StreamKind::Course, 0, 1000)
        .expect("metadata");
    assert_eq!(all.len(), 200);
}

#[test]
fn sqlite_concurrent_conflicts_are_rejections() {
    let test = common::sqlite_file_store();
    let path = test.guard.path().join("log.db");
    let other = SqlStore::open_sqlite(&path, SqliteOptions::default()).expect("other");
    let stores = vec![
        Arc::new(other),
        Arc::new(SqlStore::open_sqlite(&path, SqliteOptions::default()).expect("third")),
    ];
    scenarios::concurrent_conflicts(&stores, 6);
}

#[test]
fn sqlite_large_groups_are_chunked_under_the_parameter_limit() {
    let store = common::sqlite_memory_store();
    // 12,000 events bind 72,000 parameters: more than twice SQLite's limit.
    let events: Vec<_> = (0..12_000u64)
        .map(|n| response(course(1), n, 100_000 + u128::from(n)))
        .collect();
    let receipt = store.append(&request(events.clone())).expect("append");
    assert_eq!(receipt.stored, 12_000);
    let head = store.stream_head(course(1)).expect("head").expect("known");
    assert_eq!(head.high_water_mark, 12_000);
    assert_eq!(head.contiguous_through.map(|s| s.get()), Some(11_999));
    let replay = store.append(&request(events)).expect("replay");
    assert_eq!((replay.stored, replay.replayed), (0, 12_000));
}
