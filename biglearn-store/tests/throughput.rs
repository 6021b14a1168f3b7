//! Quick append_group throughput figures (ignored by default; the official
//! figures come from `examples/ingest_bench.rs`, through the Ingestor). Run with
//! `cargo test --release -p biglearn-store --test throughput -- --ignored --nocapture`
//! (PostgreSQL also needs `BIGLEARN_TEST_PG_URL`).
//!
//! Each group holds 16 requests of 10 record_response events (~260 bytes of
//! data each), as the group commit of 16 concurrent writers produces; the
//! groups are committed one after another by one thread, as the Ingestor's
//! committer does.

mod common;

use std::time::Instant;

use biglearn_core::log::{AppendRequest, Event, EventData, EventLog, EventType, StreamId};
use biglearn_core::testing::fixtures::{course, create_course, event_id, request, seq};
use biglearn_store::{SqlStore, SqliteOptions, Synchronous};
use uuid::Uuid;

const COURSES: u64 = 256;
const REQUESTS_PER_GROUP: u64 = 16;
const EVENTS_PER_REQUEST: u64 = 10;
const GROUPS: u64 = 400;

fn response(stream: StreamId, number: u64, id: u128) -> Event {
    Event {
        stream,
        sequence_number: seq(number),
        event_id: event_id(id),
        event_type: EventType::RecordResponse,
        data: EventData::from_json_text(format!(
            r#"{{"response_uuid":"{}","course_uuid":"{}","sequence_number":{number},"ecosystem_uuid":"{}","trial_uuid":"{}","student_uuid":"{}","exercise_uuid":"{}","is_correct":true,"is_real_response":true,"responded_at":"2026-11-27T12:00:00Z"}}"#,
            Uuid::from_u128(id),
            stream.uuid(),
            Uuid::from_u128(7),
            Uuid::from_u128(id + 1),
            Uuid::from_u128(id + 2),
            Uuid::from_u128(id + 3),
        )),
    }
}

/// The groups: request r of group g goes to course (g·16 + r) mod 256 and
/// takes that course's next 10 numbers.
fn groups() -> Vec<Vec<AppendRequest>> {
    let mut next = vec![1u64; COURSES as usize];
    let mut id = 1u128 << 64;
    (0..GROUPS)
        .map(|g| {
            (0..REQUESTS_PER_GROUP)
                .map(|r| {
                    let c = ((g * REQUESTS_PER_GROUP + r) % COURSES) as usize;
                    let events = (0..EVENTS_PER_REQUEST)
                        .map(|_| {
                            id += 4;
                            let e = response(course(1 + c as u128), next[c], id);
                            next[c] += 1;
                            e
                        })
                        .collect();
                    request(events)
                })
                .collect()
        })
        .collect()
}

fn measure(label: &str, store: &SqlStore) {
    let creates: Vec<AppendRequest> = (1..=u128::from(COURSES))
        .map(|c| request(vec![create_course(c, 7)]))
        .collect();
    let outcomes = store.append_group(&creates).expect("create courses");
    assert!(outcomes.iter().all(Result::is_ok));
    let groups = groups();
    let start = Instant::now();
    for group in &groups {
        let outcomes = store.append_group(group).expect("append group");
        assert!(outcomes
            .iter()
            .all(|o| o.as_ref().is_ok_and(|r| r.stored == 10)));
    }
    let elapsed = start.elapsed();
    let events = GROUPS * REQUESTS_PER_GROUP * EVENTS_PER_REQUEST;
    let head = store
        .stream_head(course(1))
        .expect("head")
        .expect("course 1");
    assert_eq!(head.high_water_mark, 1 + events / COURSES);
    println!(
        "{label}: {events} events in {GROUPS} groups of {} in {:.3} s = {:.0} events/s ({:.2} ms per group)",
        REQUESTS_PER_GROUP * EVENTS_PER_REQUEST,
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / GROUPS as f64
    );
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn sqlite_append_group_throughput() {
    let cache = SqliteOptions::default().cache_size_kib;
    for (level, cache_size_kib) in [
        (Synchronous::Full, cache),
        (Synchronous::Normal, cache),
        (Synchronous::Normal, 2048),
    ] {
        // In the target directory, on the real disk (not a tmpfs /tmp).
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
        let store = SqlStore::open_sqlite(
            dir.path().join("bench.db"),
            SqliteOptions {
                synchronous: level,
                cache_size_kib,
                ..SqliteOptions::default()
            },
        )
        .expect("open");
        store.migrate().expect("migrate");
        let label = format!(
            "sqlite synchronous={} cache_size={cache_size_kib} KiB",
            level.as_sql()
        );
        measure(&label, &store);
    }
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn postgres_append_group_throughput() {
    let Some(admin) = common::pg_url() else {
        return;
    };
    let test = common::pg_store(&admin);
    measure("postgres", &test.store);
}
