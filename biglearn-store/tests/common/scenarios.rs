//! Store-level scenarios both backends' SQL tests run: a populated log, its
//! observable state, concurrent creators, and the atomicity of rejections.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;

use biglearn_core::log::{
    AppendError, AppendRejection, BundleLimits, BundleLog, EventLog, EventType, OpenGap,
    StreamKind, StreamMetadata,
};
use biglearn_core::testing::fixtures::{
    consumer, course, course_id, create_course, create_ecosystem, ecosystem, event, event_id,
    fetch_request, request, response, seq,
};
use biglearn_core::testing::{assignment_event, roster_event};
use biglearn_store::SqlStore;

/// Everything a client can observe about the populated log.
#[derive(Debug, PartialEq)]
pub struct Observed {
    pub courses: Vec<StreamMetadata>,
    pub ecosystems: Vec<StreamMetadata>,
    pub heads: Vec<Option<biglearn_core::log::StreamHead>>,
    pub fetched: Vec<biglearn_core::log::FetchResponse>,
    pub gaps: Vec<OpenGap>,
    pub confirmed: Option<biglearn_core::log::SequenceNumber>,
    pub bundles: Vec<biglearn_core::log::Bundle>,
}

/// Two ecosystems, three courses (one with a gap at 3), responses, and a
/// consumer that confirmed course 11 through 1.
pub fn populate(store: &SqlStore) {
    let group = vec![
        request(vec![create_ecosystem(1)]),
        request(vec![create_ecosystem(2)]),
        request(vec![create_course(11, 1), response(course(11), 1, 1101)]),
        request(vec![create_course(12, 2)]),
        request(vec![
            create_course(13, 1),
            response(course(13), 1, 1301),
            response(course(13), 2, 1302),
            response(course(13), 4, 1304),
        ]),
    ];
    let outcomes = store.append_group(&group).expect("append group");
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    store
        .append(&request(vec![
            response(course(11), 2, 1102),
            event(course(11), 3, 1103, EventType::UpdateRoster),
        ]))
        .expect("append");
    store
        .confirm(&consumer("sched"), course_id(11), seq(1))
        .expect("confirm");
}

/// Reads back everything [`populate`] made observable.
pub fn observe(store: &SqlStore) -> Observed {
    let streams = [
        course(11),
        course(12),
        course(13),
        ecosystem(1),
        ecosystem(2),
    ];
    let query = biglearn_core::log::FetchQuery {
        requests: vec![
            fetch_request("a", course(11), 0, EventType::ALL),
            fetch_request("b", course(13), 1, [EventType::RecordResponse]),
            fetch_request("c", ecosystem(2), 0, [EventType::CreateEcosystem]),
        ],
        max_num_events: 1000,
    };
    Observed {
        courses: store
            .fetch_metadatas(StreamKind::Course, 0, 100)
            .expect("courses"),
        ecosystems: store
            .fetch_metadatas(StreamKind::Ecosystem, 0, 100)
            .expect("ecosystems"),
        heads: streams
            .iter()
            .map(|s| store.stream_head(*s).expect("head"))
            .collect(),
        fetched: store.fetch_events(&query).expect("fetch"),
        gaps: store.open_gaps(10).expect("gaps"),
        confirmed: store
            .confirmed(&consumer("sched"), course_id(11))
            .expect("confirmed"),
        bundles: store
            .next_bundles(&consumer("sched"), BundleLimits::default())
            .expect("bundles"),
    }
}

/// Checks the populated state in detail (so a reopened store is compared
/// against known values, not only against itself).
pub fn check_populated(observed: &Observed) {
    let numbers: Vec<u64> = observed
        .courses
        .iter()
        .map(|m| m.metadata_sequence_number)
        .collect();
    assert_eq!(numbers, vec![0, 1, 2]);
    assert_eq!(observed.ecosystems.len(), 2);
    assert_eq!(observed.gaps.len(), 1);
    assert_eq!(observed.gaps[0].stream, course(13));
    assert_eq!(observed.gaps[0].missing, seq(3));
    assert_eq!(observed.gaps[0].events_waiting, 1);
    // SQL stores record when the gap was first seen (O3), and keep it.
    assert!(observed.gaps[0].first_seen_unix_micros.is_some());
    assert_eq!(observed.confirmed, Some(seq(1)));
    assert_eq!(observed.fetched[0].events.len(), 4);
    assert!(observed.fetched[1].is_gap);
    let course11: Vec<u64> = observed
        .bundles
        .iter()
        .filter(|b| b.course == course_id(11))
        .flat_map(|b| b.events.iter().map(|e| e.sequence_number.get()))
        .collect();
    assert_eq!(course11, vec![2, 3]);
}

/// `threads` threads per store each create `per_thread` courses (plus one
/// response each) through their own store handle; afterwards metadata
/// numbers must be exactly 0..n, each course once, and every event stored.
pub fn concurrent_creates(stores: &[Arc<SqlStore>], threads: usize, per_thread: usize) {
    let mut handles = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for t in 0..threads {
            let store = Arc::clone(store);
            handles.push(thread::spawn(move || {
                for i in 0..per_thread {
                    let n = 1_000_000 + ((s * threads + t) * per_thread + i) as u128;
                    let outcome = store.append(&request(vec![
                        create_course(n, 1),
                        response(course(n), 1, n + 10_000_000),
                    ]));
                    assert!(outcome.is_ok(), "create course {n}: {outcome:?}");
                }
            }));
        }
    }
    for handle in handles {
        handle.join().expect("creator thread");
    }
    let total = stores.len() * threads * per_thread;
    let metadata = stores[0]
        .fetch_metadatas(StreamKind::Course, 0, (total + 10) as u32)
        .expect("metadata");
    let numbers: Vec<u64> = metadata
        .iter()
        .map(|m| m.metadata_sequence_number)
        .collect();
    assert_eq!(numbers, (0..total as u64).collect::<Vec<_>>());
    let distinct: BTreeSet<_> = metadata.iter().map(|m| m.stream).collect();
    assert_eq!(distinct.len(), total);
}

/// Several threads race to append a different event at the same position,
/// and to store one event uuid in different streams: exactly one of each
/// race wins and every loser gets the rejection of the pure rules, never a
/// backend error.
pub fn concurrent_conflicts(stores: &[Arc<SqlStore>], racers: usize) {
    for round in 0..5u128 {
        let mut handles = Vec::new();
        for r in 0..racers {
            let store = Arc::clone(&stores[r % stores.len()]);
            handles.push(thread::spawn(move || {
                let same_position = store.append(&request(vec![response(
                    course(500 + round),
                    7,
                    5_000_000 + round * 1000 + r as u128,
                )]));
                let same_uuid = store.append(&request(vec![response(
                    course(600 + round * 100 + r as u128),
                    0,
                    6_000_000 + round,
                )]));
                (same_position, same_uuid)
            }));
        }
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("racer"))
            .collect();
        let wins = results.iter().filter(|(p, _)| p.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        for (position, _) in &results {
            if let Err(e) = position {
                assert!(
                    matches!(
                        e,
                        AppendError::Rejected(AppendRejection::SequenceNumberTaken { .. })
                    ),
                    "round {round}: {e:?}"
                );
            }
        }
        let wins = results.iter().filter(|(_, u)| u.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        for (_, same_uuid) in &results {
            if let Err(e) = same_uuid {
                assert!(
                    matches!(
                        e,
                        AppendError::Rejected(AppendRejection::EventIdReused { .. })
                    ),
                    "round {round}: {e:?}"
                );
            }
        }
        assert!(stores[0]
            .event(event_id(6_000_000 + round))
            .expect("event")
            .is_some());
    }
}

/// Rejected requests (a taken number after new events and a create, a uuid
/// reused elsewhere, a misplaced event) leave `dump()` (every table, in a
/// fixed order) unchanged.
pub fn rejection_is_atomic(store: &SqlStore, dump: &dyn Fn() -> String) {
    populate(store);
    let before = dump();
    let rejected = request(vec![
        response(course(11), 10, 9001),
        create_course(14, 1),
        response(course(12), 5, 9002),
        roster_event(course(12), 6, 9005, &[1], &[2, 3]),
        assignment_event(course(14), 1, 9006, 4),
        response(course(11), 1, 9003), // 1 is held by 1101
    ]);
    let outcome = store.append(&rejected);
    assert!(
        matches!(
            outcome,
            Err(AppendError::Rejected(
                AppendRejection::SequenceNumberTaken { .. }
            ))
        ),
        "{outcome:?}"
    );
    let replay_elsewhere = request(vec![response(course(12), 6, 1101)]);
    assert!(matches!(
        store.append(&replay_elsewhere),
        Err(AppendError::Rejected(AppendRejection::EventIdReused { .. }))
    ));
    let misplaced = request(vec![event(course(12), 0, 9004, EventType::CreateEcosystem)]);
    assert!(matches!(
        store.append(&misplaced),
        Err(AppendError::Rejected(
            AppendRejection::InvalidPlacement { .. }
        ))
    ));
    assert_eq!(dump(), before, "rejected appends changed the tables");
    assert!(store.event(event_id(9001)).expect("event").is_none());
    assert!(store.stream_head(course(14)).expect("head").is_none());
}
