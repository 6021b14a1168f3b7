//! The id registry table (`id_owners`, migration `*_id_registry`) on SQLite
//! and PostgreSQL, a fresh database per test: the migration's backfill of a
//! database whose events were stored before the table existed gives exactly
//! the rows the append path writes; a failed append writes no row; rows are
//! immutable; a second store on the same database reads what the first
//! wrote. (The rules themselves, replays and rejections run in the
//! conformance suite, `conformance_sqlite.rs` / `conformance_postgres.rs`.)
//! The PostgreSQL half is gated on `BIGLEARN_TEST_PG_URL`.

mod common;

use std::path::PathBuf;

use biglearn_core::log::{
    AppendError, Event, EventData, EventLog, EventType, IdQuery, IdRegistry, StreamId,
};
use biglearn_core::testing::fixtures::{append_ok, course, course_id, create_course, request};
use biglearn_core::testing::{
    all_known_courses, assignment, assignment_event, book_container, ecosystem_event, id_query,
    roster_event, student,
};
use biglearn_store::{PgOptions, SqlStore, SqliteOptions};
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// The migration that adds the registry.
const REGISTRY_MIGRATION: &str = "2026-12-07-200000_id_registry";

/// One test database, reachable over a raw connection too.
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    value: Option<String>,
}

impl Db {
    /// A second, independent store on the same database (another process).
    fn open(&self) -> SqlStore {
        match self {
            Db::Sqlite(path) => {
                SqlStore::open_sqlite(path, SqliteOptions::default()).expect("open sqlite")
            }
            Db::Postgres(url) => {
                SqlStore::open_postgres(url, PgOptions::default()).expect("open postgres")
            }
        }
    }

    fn execute(&self, sql: &str) -> Result<(), diesel::result::Error> {
        match self {
            Db::Sqlite(path) => sqlite_conn(path).batch_execute(sql),
            Db::Postgres(url) => pg_conn(url).batch_execute(sql),
        }
    }

    /// Every registry row, in key order.
    fn dump(&self) -> String {
        let rows: Vec<Text> = match self {
            Db::Sqlite(path) => diesel::sql_query(
                "SELECT group_concat(r, '|') AS value FROM (SELECT id_kind || ',' || \
                 lower(hex(id_uuid)) || ',' || lower(hex(owner_uuid)) AS r FROM id_owners \
                 ORDER BY id_kind, id_uuid)",
            )
            .load(&mut sqlite_conn(path)),
            Db::Postgres(url) => diesel::sql_query(
                "SELECT string_agg(concat_ws(',', id_kind, encode(id_uuid, 'hex'), \
                 encode(owner_uuid, 'hex')), '|' ORDER BY id_kind, id_uuid) AS value \
                 FROM id_owners",
            )
            .load(&mut pg_conn(url)),
        }
        .expect("dump id_owners");
        rows.into_iter()
            .next()
            .and_then(|r| r.value)
            .unwrap_or_default()
    }

    /// Undoes the registry migration (its down.sql), as if the database had
    /// been written by a build without it.
    fn revert_registry_migration(&self) {
        fn revert<C: MigrationHarness<B>, B: diesel::backend::Backend>(
            conn: &mut C,
            source: EmbeddedMigrations,
        ) where
            EmbeddedMigrations: MigrationSource<B>,
        {
            let migrations = MigrationSource::<B>::migrations(&source).expect("migrations");
            let registry = migrations
                .iter()
                .find(|m| m.name().to_string() == REGISTRY_MIGRATION)
                .expect("the registry migration is embedded");
            conn.revert_migration(registry.as_ref())
                .expect("revert the registry migration");
        }
        match self {
            Db::Sqlite(path) => revert(&mut sqlite_conn(path), SQLITE_MIGRATIONS),
            Db::Postgres(url) => revert(&mut pg_conn(url), PG_MIGRATIONS),
        }
    }
}

fn sqlite_conn(path: &std::path::Path) -> SqliteConnection {
    let mut conn =
        SqliteConnection::establish(path.to_str().expect("utf-8 path")).expect("open sqlite");
    conn.batch_execute("PRAGMA busy_timeout = 5000;")
        .expect("busy timeout");
    conn
}

fn pg_conn(url: &str) -> PgConnection {
    PgConnection::establish(url).expect("connect to PostgreSQL")
}

/// Runs `test` on a fresh SQLite file, then (when configured) on a fresh
/// PostgreSQL schema.
fn on_every_backend(test: impl Fn(&SqlStore, &Db)) {
    let sqlite = common::sqlite_file_store();
    test(
        &sqlite.store,
        &Db::Sqlite(sqlite.guard.path().join("log.db")),
    );
    if let Some(admin) = common::pg_url() {
        let pg = common::pg_store(&admin);
        test(&pg.store, &Db::Postgres(pg.guard.url.clone()));
    }
}

/// An event of `event_type` on `stream` with verbatim `data`.
fn raw(stream: StreamId, number: u64, id: u128, event_type: EventType, data: &str) -> Event {
    Event {
        data: EventData::from_json_text(data),
        ..biglearn_core::testing::fixtures::event(stream, number, id, event_type)
    }
}

/// Events with ids, including a second owner for taken ids, upper-case hex,
/// and malformed data the rules skip (entirely or entry by entry).
fn varied_events(store: &SqlStore) {
    append_ok(store, vec![ecosystem_event(50, &[500, 501])]);
    append_ok(
        store,
        vec![
            create_course(1, 50),
            roster_event(course(1), 1, 101, &[10, 11], &[20, 21]),
            assignment_event(course(1), 2, 102, 30),
        ],
    );
    append_ok(
        store,
        vec![
            roster_event(course(2), 0, 200, &[12, 10], &[22, 20]),
            assignment_event(course(2), 1, 201, 31),
            assignment_event(course(2), 2, 202, 30),
            raw(
                course(2),
                3,
                203,
                EventType::UpdateRoster,
                r#"{"students":[{"student_uuid":"1D000000-0000-4000-8000-0000000000AA"},
                   7, {"student_uuid":17}, {"student_uuid":"not-a-uuid"},
                   {"student_uuid":"1d0000000000400080000000000000ab"},
                   {"student_uuid":{"x":"1d000000-0000-4000-8000-0000000000ac"}}],
                   "course_containers":{"container_uuid":"1d000000-0000-4000-8000-0000000000ad"}}"#,
            ),
            raw(
                course(2),
                4,
                204,
                EventType::CreateUpdateAssignment,
                "this is not JSON",
            ),
            raw(
                course(2),
                5,
                205,
                EventType::CreateUpdateAssignment,
                r#"["1d000000-0000-4000-8000-0000000000ae"]"#,
            ),
            raw(
                course(2),
                6,
                206,
                EventType::RecordResponse,
                r#"{"assignment_uuid":"1d000000-0000-4000-8000-0000000000af"}"#,
            ),
        ],
    );
}

#[test]
fn registry_backfill_matches_the_append_path() {
    on_every_backend(|store, db| {
        varied_events(store);
        let written = db.dump();
        // 2 book containers, 3 course containers, 4 students (one upper
        // case), 2 assignments.
        assert_eq!(written.split('|').count(), 11, "{written}");
        assert!(
            written.contains("1d0000000000400080000000000000aa"),
            "{written}"
        );

        db.revert_registry_migration();
        let gone = db.execute("SELECT * FROM id_owners");
        assert!(gone.is_err(), "the table should be gone");

        let reopened = db.open();
        reopened.migrate().expect("migrate again");
        assert_eq!(db.dump(), written);
        let owners = reopened
            .id_owners(&id_query(&[20, 22, 0xaa], &[30, 31], &[10], &[500]))
            .expect("lookup");
        assert_eq!(owners.students.get(&student(20)), Some(&course_id(1)));
        assert_eq!(owners.students.get(&student(0xaa)), Some(&course_id(2)));
        assert_eq!(owners.assignments.get(&assignment(30)), Some(&course_id(1)));
        assert_eq!(owners.len(), 7, "{owners:?}");
        // Appends after the backfill keep the first owner.
        append_ok(
            &reopened,
            vec![roster_event(course(3), 0, 300, &[], &[20, 23])],
        );
        let owners = reopened
            .id_owners(&id_query(&[20, 23], &[], &[], &[]))
            .expect("lookup");
        assert_eq!(owners.students.get(&student(20)), Some(&course_id(1)));
        assert_eq!(owners.students.get(&student(23)), Some(&course_id(3)));
    });
}

#[test]
fn registry_backfill_of_an_empty_log_and_of_a_log_without_ids() {
    on_every_backend(|store, db| {
        db.revert_registry_migration();
        let reopened = db.open();
        reopened.migrate().expect("migrate an empty log");
        assert_eq!(db.dump(), "");
        append_ok(
            store,
            vec![raw(
                course(1),
                0,
                100,
                EventType::RecordResponse,
                r#"{"student_uuid":"1d000000-0000-4000-8000-000000000014"}"#,
            )],
        );
        db.revert_registry_migration();
        db.open().migrate().expect("migrate a log without ids");
        assert_eq!(db.dump(), "");
        assert_eq!(all_known_courses(store, 10), vec![course_id(1)]);
    });
}

#[test]
fn registry_failed_append_writes_no_row() {
    on_every_backend(|store, db| {
        let fail = match db {
            Db::Sqlite(_) => {
                "CREATE TRIGGER fail_heads BEFORE INSERT ON streams \
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
            }
            Db::Postgres(_) => {
                "CREATE FUNCTION fail_heads() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'injected failure'; END; $$; \
                 CREATE TRIGGER fail_heads BEFORE INSERT ON streams \
                 FOR EACH ROW EXECUTE FUNCTION fail_heads();"
            }
        };
        db.execute(fail).expect("install the failing trigger");
        let roster = request(vec![
            ecosystem_event(50, &[500]),
            roster_event(course(1), 0, 100, &[10], &[20]),
        ]);
        match store.append(&roster) {
            Err(AppendError::Store(error)) => {
                assert!(error.to_string().contains("injected failure"), "{error}")
            }
            other => panic!("the append should fail in the store, got {other:?}"),
        }
        assert_eq!(db.dump(), "", "a failed append left registry rows");
        assert!(store
            .id_owners(&id_query(&[20], &[], &[10], &[500]))
            .expect("lookup")
            .is_empty());
        db.execute("DROP TRIGGER fail_heads ON streams")
            .or_else(|_| db.execute("DROP TRIGGER fail_heads"))
            .expect("drop the failing trigger");
        store
            .append(&roster)
            .expect("append once the failure is gone");
        assert_eq!(
            store
                .id_owners(&id_query(&[20], &[], &[10], &[500]))
                .expect("lookup")
                .len(),
            3
        );
    });
}

#[test]
fn registry_rows_are_immutable() {
    on_every_backend(|store, db| {
        append_ok(store, vec![roster_event(course(1), 0, 100, &[10], &[20])]);
        for statement in [
            "UPDATE id_owners SET owner_uuid = id_uuid",
            "DELETE FROM id_owners",
        ] {
            let error = db.execute(statement).expect_err(statement);
            assert!(error.to_string().contains("immutable"), "{error}");
        }
        assert_eq!(db.dump().split('|').count(), 2);
    });
}

#[test]
fn registry_second_store_reads_what_the_first_wrote() {
    on_every_backend(|store, db| {
        let second = db.open();
        let query = id_query(&[20], &[30], &[10], &[500]);
        assert!(second.id_owners(&query).expect("lookup").is_empty());
        append_ok(store, vec![ecosystem_event(50, &[500])]);
        append_ok(
            store,
            vec![
                roster_event(course(1), 0, 100, &[10], &[20]),
                assignment_event(course(1), 1, 101, 30),
            ],
        );
        let owners = second.id_owners(&query).expect("lookup");
        assert_eq!(owners.len(), 4, "{owners:?}");
        assert_eq!(
            owners.book_containers.get(&book_container(500)).copied(),
            Some(biglearn_core::testing::fixtures::ecosystem_id(50))
        );
        // And the other way round.
        append_ok(&second, vec![roster_event(course(2), 0, 200, &[], &[21])]);
        let owners = store
            .id_owners(&id_query(&[21], &[], &[], &[]))
            .expect("lookup");
        assert_eq!(owners.students.get(&student(21)), Some(&course_id(2)));
        assert_eq!(
            all_known_courses(&second, 1),
            vec![course_id(1), course_id(2)]
        );
        assert!(store
            .id_owners(&IdQuery::default())
            .expect("empty")
            .is_empty());
    });
}
