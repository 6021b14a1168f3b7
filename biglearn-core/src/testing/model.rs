//! The model check (random operation sequences against [`Reference`]) and the
//! concurrency smoke test.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use uuid::Uuid;

use crate::log::*;

use super::fixtures::*;
use super::reference::Reference;

/// One step of a random scenario.
#[derive(Debug, Clone)]
enum Op {
    Append(Vec<AppendRequest>),
    Fetch(Vec<FetchRequest>, u32),
    Bundles(usize, BundleLimits),
    Confirm(usize, u128, u64),
}

const CONSUMERS: [&str; 2] = ["scheduler", "sparfa"];
const TYPES: [EventType; 4] = [
    EventType::RecordResponse,
    EventType::UpdateRoster,
    EventType::NoOp,
    EventType::CreateCourse,
];

fn arb_stream() -> impl Strategy<Value = StreamId> {
    prop_oneof![4 => (1u128..4).prop_map(course), 1 => Just(ecosystem(9))]
}

fn canonical_id(stream: StreamId, number: u64, t: usize) -> u128 {
    1_000 + stream.uuid().as_u128() * 100 + number as u128 * 10 + t as u128
}

fn make_event(stream: StreamId, number: u64, t: usize, id: u128, eco: u128) -> Event {
    let mut event_type = TYPES[t];
    if event_type == EventType::CreateCourse && stream.kind() == StreamKind::Ecosystem {
        event_type = EventType::CreateEcosystem;
    }
    let mut e = event(stream, number, id, event_type);
    if event_type == EventType::CreateCourse {
        e.data = EventData::from_json_text(format!(
            r#"{{"ecosystem_uuid":"{}"}}"#,
            Uuid::from_u128(50 + eco)
        ));
    }
    e
}

/// Any event: canonical ids make replays likely, random ones conflicts;
/// creates are mostly at 0.
fn arb_event() -> impl Strategy<Value = Event> {
    (
        arb_stream(),
        0u64..7,
        0usize..4,
        any::<bool>(),
        1u128..12,
        0u128..3,
    )
        .prop_map(|(stream, number, t, canonical, random_id, eco)| {
            let number = if TYPES[t].is_create() && number < 5 {
                0
            } else {
                number
            };
            let id = if canonical {
                canonical_id(stream, number, t)
            } else {
                random_id
            };
            make_event(stream, number, t, id, eco)
        })
}

/// A contiguous run of well-formed events (a create at 0, canonical ids),
/// so streams grow long enough for fetch and bundles to matter.
fn arb_run() -> impl Strategy<Value = AppendRequest> {
    (
        arb_stream(),
        0u64..6,
        prop::collection::vec(0usize..2, 1..4),
        0u128..3,
    )
        .prop_map(|(stream, start, kinds, eco)| {
            let events = kinds
                .into_iter()
                .enumerate()
                .map(|(i, t)| {
                    let number = start + i as u64;
                    let t = if number == 0 {
                        3
                    } else if stream.kind() == StreamKind::Ecosystem {
                        2
                    } else {
                        t
                    };
                    make_event(stream, number, t, canonical_id(stream, number, t), eco)
                })
                .collect();
            request(events)
        })
}

fn arb_op() -> impl Strategy<Value = Op> {
    let request = prop_oneof![
        3 => arb_run(),
        2 => prop::collection::vec(arb_event(), 1..4).prop_map(request),
    ];
    let fetch_req = (
        arb_stream(),
        0u64..6,
        prop::collection::btree_set(0usize..4, 1..4),
        any::<bool>(),
    )
        .prop_map(|(stream, offset, types, all)| {
            let picked: Vec<usize> = if all {
                (0..4).collect()
            } else {
                types.into_iter().collect()
            };
            let types: BTreeSet<EventType> = picked
                .into_iter()
                .map(|t| match (TYPES[t], stream.kind()) {
                    (EventType::CreateCourse, StreamKind::Ecosystem) => EventType::CreateEcosystem,
                    (other, _) => other,
                })
                .collect();
            fetch_request(&format!("r-{stream}-{offset}"), stream, offset, types)
        });
    let limits = (1usize..4, 1usize..5, 0u64..400).prop_map(|(c, e, b)| BundleLimits {
        max_courses: c,
        max_events_per_bundle: e,
        max_bytes: b,
    });
    prop_oneof![
        5 => prop::collection::vec(request, 1..4).prop_map(Op::Append),
        2 => (prop::collection::vec(fetch_req, 0..4), 1u32..12).prop_map(|(r, m)| Op::Fetch(r, m)),
        2 => (0usize..2, limits).prop_map(|(c, l)| Op::Bundles(c, l)),
        2 => (0usize..2, 1u128..4, 0u64..8).prop_map(|(c, k, n)| Op::Confirm(c, k, n)),
    ]
}

fn compare<S: BundleLog>(store: &S, model: &Reference) -> Result<(), TestCaseError> {
    let mut streams = model.streams();
    streams.extend((1u128..4).map(course));
    streams.insert(ecosystem(9));
    for stream in &streams {
        prop_assert_eq!(
            head(store, *stream),
            model.head(*stream),
            "head of {}",
            stream
        );
    }
    for kind in [StreamKind::Course, StreamKind::Ecosystem] {
        let got = ok(store.fetch_metadatas(kind, 0, 1000), "fetch_metadatas");
        let want = model.metadata.get(&kind).cloned().unwrap_or_default();
        prop_assert_eq!(got, want, "metadata of {:?}", kind);
    }
    let mut gaps = ok(store.open_gaps(1000), "open_gaps");
    gaps.sort_by_key(|g| g.stream);
    // First-seen times depend on the store's clock (checked by
    // `gap_first_seen_times_are_stable`); the model keeps none.
    for gap in &mut gaps {
        gap.first_seen_unix_micros = None;
    }
    prop_assert_eq!(gaps, model.open_gaps());
    for name in CONSUMERS {
        for c in 1u128..4 {
            let who = consumer(name);
            let got = ok(store.confirmed(&who, course_id(c)), "confirmed");
            prop_assert_eq!(
                got,
                model.watermarks.get(&(who.clone(), course_id(c))).copied()
            );
            let got = ok(store.backlog(&who, course_id(c)), "backlog");
            prop_assert_eq!(got, model.backlog(&who, course_id(c)));
        }
    }
    Ok(())
}

fn run_ops<S: BundleLog>(store: &S, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut model = Reference::default();
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Append(group) => {
                let got = ok(store.append_group(&group), "append_group");
                let want: Vec<_> = group.iter().map(|r| model.append(r)).collect();
                prop_assert_eq!(got, want, "step {}: append outcomes", step);
            }
            Op::Fetch(requests, max_num_events) => {
                let query = FetchQuery {
                    requests,
                    max_num_events,
                };
                let got = ok(store.fetch_events(&query), "fetch_events");
                let want = fetch_events(&query, &model)
                    .map_err(|e| TestCaseError::fail(format!("reference fetch: {e}")))?;
                prop_assert_eq!(got, want, "step {}: fetch", step);
            }
            Op::Bundles(c, limits) => {
                let who = consumer(CONSUMERS[c]);
                let got = ok(store.next_bundles(&who, limits), "next_bundles");
                prop_assert_eq!(
                    got,
                    model.next_bundles(&who, limits),
                    "step {}: bundles",
                    step
                );
            }
            Op::Confirm(c, k, n) => {
                let who = consumer(CONSUMERS[c]);
                ok(store.confirm(&who, course_id(k), seq(n)), "confirm");
                model.confirm(&who, course_id(k), seq(n));
            }
        }
        compare(store, &model)?;
    }
    Ok(())
}

/// Random sequences of append groups, fetches, bundle calls and
/// confirmations give exactly the reference model's answers (32 cases, a
/// fresh store per case).
pub fn model_check<S: BundleLog>(factory: &dyn Fn() -> S) {
    let config = Config {
        cases: 32,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = prop::collection::vec(arb_op(), 1..40);
    if let Err(failure) = runner.run(&strategy, |ops| run_ops(&factory(), ops)) {
        panic!("backend differs from the reference model: {failure}");
    }
}

/// Several threads append to one store at once (replays, conflicts and new
/// courses) while another reads; every accepted event is stored once and
/// the heads and metadata numbers stay consistent.
pub fn concurrent_appends_smoke<S: BundleLog>(factory: &dyn Fn() -> S) {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 25;
    let store = factory();
    let c = course(1);
    let contested = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (store, contested) = (&store, &contested);
            scope.spawn(move || {
                let creates = vec![create_course(1, 50), create_course(10 + t as u128, 50)];
                append_ok(store, creates);
                for i in 0..PER_THREAD {
                    let n = 1 + t * PER_THREAD + i;
                    let group = vec![
                        request(vec![response(c, n, 10_000 + n as u128)]),
                        request(vec![response(c, 5_000, 20_000 + (t * 100 + i) as u128)]),
                    ];
                    let outcomes = ok(store.append_group(&group), "append_group");
                    assert_eq!(
                        outcomes[0],
                        Ok(AppendReceipt {
                            stored: 1,
                            replayed: 0
                        })
                    );
                    if outcomes[1].is_ok() {
                        contested.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            });
        }
        let store = &store;
        scope.spawn(move || {
            for _ in 0..20 {
                let got = fetch(store, vec![fetch_request("r", c, 0, course_types())], 1000);
                let numbers = summary(&got[0]).0;
                let expected: Vec<u64> = (0..numbers.len() as u64).collect();
                assert_eq!(numbers, expected, "a reader sees a contiguous prefix");
            }
        });
    });
    assert_eq!(
        contested.into_inner(),
        1,
        "exactly one writer wins a contested number"
    );
    let last = THREADS * PER_THREAD;
    assert_eq!(head(&store, c), Some(head_of(5_001, Some(last))));
    let got = fetch(&store, vec![fetch_request("r", c, 0, course_types())], 1000);
    assert_eq!(summary(&got[0]).0.len() as u64, last + 1);
    let metas = ok(
        store.fetch_metadatas(StreamKind::Course, 0, 1000),
        "fetch_metadatas",
    );
    let numbers: Vec<u64> = metas.iter().map(|m| m.metadata_sequence_number).collect();
    assert_eq!(numbers, (0..THREADS + 1).collect::<Vec<_>>());
    let streams: BTreeSet<StreamId> = metas.iter().map(|m| m.stream).collect();
    assert_eq!(streams.len() as u64, THREADS + 1);
}
