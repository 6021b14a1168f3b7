//! The practical limit: the same rows written with plain diesel batched
//! INSERTs into an empty table of the events table's shape (same columns,
//! same unique indexes, no triggers), with the same durability settings, one
//! transaction per `rows_per_commit` rows — no duplicate checks, no stream
//! heads, no group commit machinery.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use biglearn_core::log::{Event, StreamKind};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

diesel::table! {
    /// The benchmark's copy of the events table.
    raw_events (event_uuid) {
        /// `0` course, `1` ecosystem.
        stream_kind -> SmallInt,
        /// The stream uuid.
        stream_uuid -> Binary,
        /// Position in the stream.
        sequence_number -> BigInt,
        /// The event uuid.
        event_uuid -> Binary,
        /// `EventType::code`.
        event_type -> SmallInt,
        /// JSON text.
        data -> Text,
    }
}

/// One row to insert. Without `treat_none_as_default_value = false` diesel
/// would insert a batch row by row on SQLite (any field could be DEFAULT).
#[derive(diesel::Insertable)]
#[diesel(table_name = raw_events)]
#[diesel(treat_none_as_default_value = false)]
pub struct RawRow<'a> {
    stream_kind: i16,
    stream_uuid: &'a [u8],
    sequence_number: i64,
    event_uuid: &'a [u8],
    event_type: i16,
    data: &'a str,
}

impl<'a> RawRow<'a> {
    /// The row of one event.
    pub fn of(event: &'a Event) -> Self {
        let stream_uuid = match &event.stream {
            biglearn_core::log::StreamId::Course(id) => id.as_uuid().as_bytes(),
            biglearn_core::log::StreamId::Ecosystem(id) => id.as_uuid().as_bytes(),
        };
        RawRow {
            stream_kind: match event.stream.kind() {
                StreamKind::Course => 0,
                StreamKind::Ecosystem => 1,
            },
            stream_uuid,
            sequence_number: event.sequence_number.as_i64(),
            event_uuid: event.event_id.as_uuid().as_bytes(),
            event_type: event.event_type.code(),
            data: event.data.as_str(),
        }
    }
}

const SQLITE_DDL: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    PRAGMA cache_size = -32768;
    PRAGMA temp_store = MEMORY;
    PRAGMA wal_autocheckpoint = 4000;
    CREATE TABLE raw_events (
        ord INTEGER PRIMARY KEY,
        stream_kind SMALLINT NOT NULL,
        stream_uuid BLOB NOT NULL,
        sequence_number BIGINT NOT NULL CHECK (sequence_number >= 0),
        event_uuid BLOB NOT NULL,
        event_type SMALLINT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE UNIQUE INDEX raw_events_position ON raw_events (stream_kind, stream_uuid, sequence_number);
    CREATE UNIQUE INDEX raw_events_event_uuid ON raw_events (event_uuid);
";

const PG_DDL: &str = "
    CREATE TABLE raw_events (
        stream_kind SMALLINT NOT NULL,
        stream_uuid BYTEA NOT NULL,
        sequence_number BIGINT NOT NULL CHECK (sequence_number >= 0),
        event_uuid BYTEA NOT NULL,
        event_type SMALLINT NOT NULL,
        data TEXT NOT NULL,
        ord BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (stream_kind, stream_uuid, sequence_number)
    );
    CREATE UNIQUE INDEX raw_events_event_uuid ON raw_events (event_uuid);
";

/// Where the raw rows go.
pub enum RawTarget {
    /// A SQLite file (or `:memory:`), WAL + synchronous FULL.
    Sqlite(String),
    /// A PostgreSQL URL (default synchronous_commit = on).
    Postgres(String),
}

/// Inserts `rows` in commits of `rows_per_commit` rows from `writers`
/// threads (each its own connection, taking the next chunk in order).
/// `progress` is called with the number of rows of each commit.
pub fn insert_rows(
    target: &RawTarget,
    rows: &[RawRow<'_>],
    rows_per_commit: usize,
    writers: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Duration, String> {
    let rows_per_commit = rows_per_commit.max(1);
    // The schema connection stays open until the end: a shared-cache
    // in-memory SQLite database lives only while a connection holds it.
    let _schema_connection: Box<dyn std::any::Any> = match target {
        RawTarget::Sqlite(path) => {
            let mut conn =
                SqliteConnection::establish(path).map_err(|e| format!("raw sqlite {path}: {e}"))?;
            conn.batch_execute(SQLITE_DDL)
                .map_err(|e| format!("raw sqlite schema: {e}"))?;
            Box::new(conn)
        }
        RawTarget::Postgres(url) => {
            let mut conn =
                PgConnection::establish(url).map_err(|e| format!("raw postgres: {e}"))?;
            conn.batch_execute(PG_DDL)
                .map_err(|e| format!("raw postgres schema: {e}"))?;
            Box::new(conn)
        }
    };
    let chunks: Vec<&[RawRow<'_>]> = rows.chunks(rows_per_commit).collect();
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers.max(1))
            .map(|_| scope.spawn(|| writer(target, &chunks, &next, progress)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a raw writer panicked".to_string())?)
            .collect::<Result<Vec<()>, String>>()
    })?;
    Ok(start.elapsed())
}

/// SQLite binds at most 32,766 parameters per statement: 6 per row.
const MAX_ROWS_PER_STATEMENT: usize = 5_000;

fn writer(
    target: &RawTarget,
    chunks: &[&[RawRow<'_>]],
    next: &AtomicUsize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), String> {
    match target {
        RawTarget::Sqlite(path) => {
            let mut conn =
                SqliteConnection::establish(path).map_err(|e| format!("raw sqlite {path}: {e}"))?;
            conn.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL; \
                 PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY; \
                 PRAGMA wal_autocheckpoint = 4000;",
            )
            .map_err(|e| format!("raw sqlite pragmas: {e}"))?;
            while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                conn.immediate_transaction(|c| {
                    for part in chunk.chunks(MAX_ROWS_PER_STATEMENT) {
                        diesel::insert_into(raw_events::table)
                            .values(part)
                            .execute(c)?;
                    }
                    Ok::<_, diesel::result::Error>(())
                })
                .map_err(|e| format!("raw sqlite insert: {e}"))?;
                progress(chunk.len() as u64);
            }
        }
        RawTarget::Postgres(url) => {
            let mut conn =
                PgConnection::establish(url).map_err(|e| format!("raw postgres: {e}"))?;
            while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                conn.transaction(|c| {
                    for part in chunk.chunks(MAX_ROWS_PER_STATEMENT) {
                        diesel::insert_into(raw_events::table)
                            .values(part)
                            .execute(c)?;
                    }
                    Ok::<_, diesel::result::Error>(())
                })
                .map_err(|e| format!("raw postgres insert: {e}"))?;
                progress(chunk.len() as u64);
            }
        }
    }
    Ok(())
}
