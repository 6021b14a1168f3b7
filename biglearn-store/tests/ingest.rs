//! The group-commit [`Ingestor`] and [`drain_bundles`] against the real logs:
//! biglearn-core's `MemoryStore`, SQLite (a durable file) and PostgreSQL
//! (a fresh database, when `BIGLEARN_TEST_PG_URL` is set).

// Test code: a failed unwrap is a failed test (clippy's allow-unwrap-in-tests
// does not reach helper functions of an integration-test crate).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;

use biglearn_core::ids::{CourseId, EcosystemId, EventId};
use biglearn_core::log::{
    AppendError, AppendRejection, AppendRequest, BundleLimits, BundleLog, ConsumerName, Event,
    EventData, EventType, SequenceNumber, StreamId, StreamKind,
};
use biglearn_core::memory::MemoryStore;
use biglearn_store::ingest::DrainError;
use biglearn_store::{drain_bundles, Ingestor, PgOptions, SqlStore, SqliteOptions};
use diesel::{Connection, PgConnection, RunQueryDsl};
use uuid::Uuid;

fn create_course(course: CourseId, ecosystem: EcosystemId) -> Event {
    let data = serde_json::json!({
        "course_uuid": course.to_string(),
        "sequence_number": 0,
        "ecosystem_uuid": ecosystem.to_string(),
        "is_real_course": true,
        "starts_at": "2017-08-01T00:00:00.000000Z",
        "ends_at": "2017-12-20T00:00:00.000000Z",
        "created_at": "2017-07-01T00:00:00.000000Z",
    });
    Event {
        stream: StreamId::Course(course),
        sequence_number: SequenceNumber::ZERO,
        event_id: EventId::from_uuid(*course.as_uuid()),
        event_type: EventType::CreateCourse,
        data: EventData::from_value(&data),
    }
}

fn response(course: CourseId, number: u64) -> Event {
    let id = Uuid::new_v4();
    let data = serde_json::json!({
        "response_uuid": id.to_string(),
        "course_uuid": course.to_string(),
        "sequence_number": number,
        "ecosystem_uuid": "5d5c2d8a-0000-4000-8000-000000000001",
        "trial_uuid": Uuid::new_v4().to_string(),
        "student_uuid": Uuid::new_v4().to_string(),
        "exercise_uuid": Uuid::new_v4().to_string(),
        "is_correct": true,
        "is_real_response": true,
        "responded_at": "2017-09-01T12:00:00.000000Z",
    });
    Event {
        stream: StreamId::Course(course),
        sequence_number: SequenceNumber::new(number).unwrap(),
        event_id: EventId::from_uuid(id),
        event_type: EventType::RecordResponse,
        data: EventData::from_value(&data),
    }
}

fn responses(course: CourseId, numbers: std::ops::Range<u64>) -> AppendRequest {
    AppendRequest {
        events: numbers.map(|n| response(course, n)).collect(),
    }
}

/// 8 threads, each creating 3 courses and then appending 40 requests of 5
/// responses (plus a replay and a conflict each) through one Ingestor.
fn concurrent_ingest<L: BundleLog + 'static>(log: Arc<L>) {
    const THREADS: usize = 8;
    let ingestor = Arc::new(Ingestor::new(Arc::clone(&log)));
    let ecosystem = EcosystemId::from_uuid(Uuid::new_v4());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let ingestor = Arc::clone(&ingestor);
            thread::spawn(move || {
                let courses: Vec<CourseId> = (0..3)
                    .map(|_| CourseId::from_uuid(Uuid::new_v4()))
                    .collect();
                for c in &courses {
                    let receipt = ingestor
                        .append(AppendRequest {
                            events: vec![create_course(*c, ecosystem)],
                        })
                        .unwrap();
                    assert_eq!(receipt.stored, 1);
                }
                let mut next = vec![1u64; courses.len()];
                let mut last = None;
                for i in 0..40 {
                    let c = (i + t) % courses.len();
                    let request = responses(courses[c], next[c]..next[c] + 5);
                    assert_eq!(ingestor.append(request.clone()).unwrap().stored, 5);
                    next[c] += 5;
                    last = Some(request);
                }
                // A replay is acknowledged without storing anything.
                let replay = ingestor.append(last.unwrap()).unwrap();
                assert_eq!((replay.stored, replay.replayed), (0, 5));
                // A new uuid at a used number fails only this request.
                let conflict = ingestor.append(responses(courses[0], 1..2));
                assert!(matches!(
                    conflict,
                    Err(AppendError::Rejected(
                        AppendRejection::SequenceNumberTaken { .. }
                    ))
                ));
                courses.into_iter().zip(next).collect::<Vec<_>>()
            })
        })
        .collect();
    let heads: Vec<(CourseId, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    for (course, next) in &heads {
        let head = log.stream_head(StreamId::Course(*course)).unwrap().unwrap();
        assert_eq!(head.high_water_mark, *next);
        assert_eq!(
            head.contiguous_through,
            Some(SequenceNumber::new(next - 1).unwrap())
        );
    }
    let metadata = log.fetch_metadatas(StreamKind::Course, 0, 1000).unwrap();
    let numbers: Vec<u64> = metadata
        .iter()
        .map(|m| m.metadata_sequence_number)
        .collect();
    assert_eq!(numbers, (0..heads.len() as u64).collect::<Vec<_>>());
    let stats = ingestor.stats();
    assert_eq!(stats.requests as usize, THREADS * (3 + 40 + 2));
    assert!(stats.groups_committed <= stats.requests);
    eprintln!(
        "{} groups for {} requests (mean {:.2})",
        stats.groups_committed,
        stats.requests,
        stats.mean_group_requests()
    );

    // Every course drains in order to its head and is confirmed there.
    let consumer = ConsumerName::new("ingest-test").unwrap();
    let limits = BundleLimits {
        max_courses: 5,
        max_events_per_bundle: 7,
        max_bytes: 1 << 20,
    };
    let mut delivered: BTreeMap<CourseId, Vec<u64>> = BTreeMap::new();
    drain_bundles::<_, std::io::Error, _>(log.as_ref(), &consumer, limits, 10_000, |bundle| {
        let numbers = delivered.entry(bundle.course).or_default();
        numbers.extend(bundle.events.iter().map(|e| e.sequence_number.get()));
        Ok(())
    })
    .unwrap();
    for (course, next) in &heads {
        assert_eq!(
            delivered[course],
            (0..*next).collect::<Vec<_>>(),
            "course {course}"
        );
        assert_eq!(
            log.confirmed(&consumer, *course).unwrap(),
            SequenceNumber::new(next - 1).ok()
        );
        assert_eq!(log.backlog(&consumer, *course).unwrap(), 0);
    }
}

/// Gaps stop delivery; a failing consumer gets the same events again.
fn drain_redelivers_and_stops_at_gaps<L: BundleLog + 'static>(log: Arc<L>) {
    let ingestor = Ingestor::new(Arc::clone(&log));
    let ecosystem = EcosystemId::from_uuid(Uuid::new_v4());
    let course = CourseId::from_uuid(Uuid::new_v4());
    ingestor
        .append(AppendRequest {
            events: vec![create_course(course, ecosystem)],
        })
        .unwrap();
    ingestor.append(responses(course, 1..4)).unwrap();
    let late = responses(course, 4..6);
    ingestor.append(responses(course, 6..8)).unwrap(); // behind the gap at 4
    let consumer = ConsumerName::new("redelivery").unwrap();
    let limits = BundleLimits::default();

    let failed = drain_bundles(log.as_ref(), &consumer, limits, 10, |_| {
        Err(std::io::Error::other("down"))
    });
    assert!(matches!(failed, Err(DrainError::Consumer { course: c, .. }) if c == course));
    assert_eq!(
        log.confirmed(&consumer, course).unwrap(),
        None,
        "nothing confirmed after a failure"
    );

    let mut seen = Vec::new();
    let report =
        drain_bundles::<_, std::io::Error, _>(log.as_ref(), &consumer, limits, 10, |bundle| {
            seen.extend(bundle.events.iter().map(|e| e.sequence_number.get()));
            Ok(())
        })
        .unwrap();
    assert_eq!(
        seen,
        vec![0, 1, 2, 3],
        "redelivered from the start, stopped at the gap"
    );
    assert_eq!(report.events, 4);

    ingestor.append(late).unwrap();
    seen.clear();
    drain_bundles::<_, std::io::Error, _>(log.as_ref(), &consumer, limits, 10, |bundle| {
        seen.extend(bundle.events.iter().map(|e| e.sequence_number.get()));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![4, 5, 6, 7],
        "continues after the confirmed point once the gap is filled"
    );
}

#[test]
fn memory_store() {
    concurrent_ingest(Arc::new(MemoryStore::new()));
    drain_redelivers_and_stops_at_gaps(Arc::new(MemoryStore::new()));
}

fn sqlite_store(dir: &tempfile::TempDir, name: &str) -> Arc<SqlStore> {
    let store = SqlStore::open_sqlite(dir.path().join(name), SqliteOptions::default()).unwrap();
    store.migrate().unwrap();
    Arc::new(store)
}

#[test]
fn sqlite_store_file() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_ingest(sqlite_store(&dir, "a.sqlite"));
    drain_redelivers_and_stops_at_gaps(sqlite_store(&dir, "b.sqlite"));
}

/// A database created for one test and dropped afterwards.
struct FreshPg {
    admin: String,
    name: String,
    url: String,
}

impl FreshPg {
    fn create(admin: &str) -> FreshPg {
        let name = format!("biglearn_ingest_test_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(admin).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap();
        let base = admin.split('?').next().unwrap();
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        FreshPg {
            admin: admin.to_owned(),
            url: format!("{server}/{name}"),
            name,
        }
    }

    fn store(&self) -> Arc<SqlStore> {
        let store = SqlStore::open_postgres(&self.url, PgOptions::default()).unwrap();
        store.migrate().unwrap();
        Arc::new(store)
    }
}

impl Drop for FreshPg {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

#[test]
fn postgres_store() {
    let Ok(admin) = std::env::var("BIGLEARN_TEST_PG_URL") else {
        eprintln!("skipped: BIGLEARN_TEST_PG_URL not set");
        return;
    };
    let a = FreshPg::create(&admin);
    concurrent_ingest(a.store());
    let b = FreshPg::create(&admin);
    drain_redelivers_and_stops_at_gaps(b.store());
}
