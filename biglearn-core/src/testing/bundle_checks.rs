//! Checks of open gaps (O3) and per-course bundles with confirmed
//! watermarks (O2b, ops.md §1.4).

use crate::log::bundle::gap_filler;
use crate::log::*;

use super::fixtures::*;

fn bundles<S: BundleLog>(store: &S, name: &str, limits: BundleLimits) -> Vec<Bundle> {
    ok(store.next_bundles(&consumer(name), limits), "next_bundles")
}

fn confirm<S: BundleLog>(store: &S, name: &str, course_n: u128, through: u64) {
    ok(
        store.confirm(&consumer(name), course_id(course_n), seq(through)),
        "confirm",
    );
}

fn confirmed<S: BundleLog>(store: &S, name: &str, course_n: u128) -> Option<u64> {
    ok(
        store.confirmed(&consumer(name), course_id(course_n)),
        "confirmed",
    )
    .map(|n| n.get())
}

fn backlog<S: BundleLog>(store: &S, name: &str, course_n: u128) -> u64 {
    ok(
        store.backlog(&consumer(name), course_id(course_n)),
        "backlog",
    )
}

fn shape(bundles: &[Bundle]) -> Vec<(u128, Vec<u64>)> {
    bundles
        .iter()
        .map(|b| (b.course.as_uuid().as_u128(), bundle_numbers(b)))
        .collect()
}

/// The open gaps by stream, without their first-seen times (stores without
/// a clock report none; [`gap_first_seen_times_are_stable`] checks them).
fn sorted_gaps<S: BundleLog>(store: &S) -> Vec<OpenGap> {
    let mut gaps = ok(store.open_gaps(1000), "open_gaps");
    gaps.sort_by_key(|g| g.stream);
    for gap in &mut gaps {
        gap.first_seen_unix_micros = None;
    }
    gaps
}

/// The first-seen time of one course's gap (`Some(None)`: open, no clock).
fn first_seen<S: BundleLog>(store: &S, course_n: u128) -> Option<Option<i64>> {
    ok(store.open_gaps(1000), "open_gaps")
        .into_iter()
        .find(|g| g.stream == course(course_n))
        .map(|g| g.first_seen_unix_micros)
}

/// A gap's first-seen time (O3) is set when the stream becomes blocked,
/// stays fixed while it stays blocked, and is fresh for a later gap; stores
/// without a clock report `None` throughout.
pub fn gap_first_seen_times_are_stable<S: BundleLog>(factory: &dyn Fn() -> S) {
    // 2020-01-01T00:00:00Z: any real clock reads later.
    const EARLIEST: i64 = 1_577_836_800_000_000;
    let store = factory();
    append_ok(
        &store,
        vec![create_course(1, 50), response(course(1), 1, 101)],
    );
    assert_eq!(first_seen(&store, 1), None, "no gap yet");
    append_ok(&store, vec![response(course(1), 4, 104)]);
    let opened = first_seen(&store, 1).expect("gap at 2 is open");
    if let Some(at) = opened {
        assert!(at > EARLIEST, "first seen at {at} µs, before 2020");
    }
    append_ok(&store, vec![response(course(1), 6, 106)]);
    assert_eq!(first_seen(&store, 1), Some(opened), "more events behind it");
    append_ok(
        &store,
        vec![response(course(1), 2, 102), response(course(1), 3, 103)],
    );
    assert_eq!(first_seen(&store, 1), Some(opened), "gap moved to 5");
    append_ok(&store, vec![response(course(1), 5, 105)]);
    assert_eq!(first_seen(&store, 1), None, "gap closed");
    append_ok(&store, vec![response(course(1), 8, 108)]);
    let reopened = first_seen(&store, 1).expect("gap at 7 is open");
    assert_eq!(reopened.is_some(), opened.is_some(), "a clock or none");
    if let (Some(before), Some(after)) = (opened, reopened) {
        assert!(after >= before, "new gap seen at {after} µs < {before} µs");
    }
}

/// Streams blocked at a missing number are listed with the events waiting
/// behind it; a no_op at the missing number closes the gap (O3).
pub fn open_gaps_are_listed_and_filled<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    assert_eq!(sorted_gaps(&store), vec![]);
    append_ok(
        &store,
        vec![create_course(1, 50), response(course(1), 1, 101)],
    );
    append_ok(
        &store,
        vec![response(course(1), 4, 104), response(course(1), 6, 106)],
    );
    append_ok(&store, vec![response(course(2), 2, 202)]);
    append_ok(
        &store,
        vec![create_course(3, 50), response(course(3), 1, 301)],
    );
    append_ok(&store, vec![event(ecosystem(9), 1, 901, EventType::NoOp)]);
    let gap = |stream, missing, events_waiting| OpenGap {
        stream,
        missing: seq(missing),
        events_waiting,
        first_seen_unix_micros: None,
    };
    assert_eq!(
        sorted_gaps(&store),
        vec![
            gap(course(1), 2, 2),
            gap(course(2), 0, 1),
            gap(ecosystem(9), 0, 1)
        ]
    );
    assert_eq!(ok(store.open_gaps(2), "open_gaps").len(), 2);
    assert_eq!(ok(store.open_gaps(0), "open_gaps").len(), 0);
    append_ok(&store, vec![gap_filler(course(1), seq(2))]);
    // Re-running the repair is a replay; the filler's uuid is deterministic.
    let receipt = append_ok(&store, vec![gap_filler(course(1), seq(2))]);
    assert_eq!(
        receipt,
        AppendReceipt {
            stored: 0,
            replayed: 1
        }
    );
    append_ok(&store, vec![gap_filler(course(1), seq(3))]);
    // A repair racing a real event at a filled number is refused.
    let rejection = append_rejected(&store, vec![gap_filler(course(3), seq(1))]);
    assert!(matches!(
        rejection,
        AppendRejection::SequenceNumberTaken { .. }
    ));
    append_ok(&store, vec![create_ecosystem(9)]);
    assert_eq!(
        sorted_gaps(&store),
        vec![gap(course(1), 5, 1), gap(course(2), 0, 1)]
    );
}

/// Bundles hold the contiguous run after the watermark and never go past a
/// gap; ecosystem streams are not bundled.
pub fn bundles_are_contiguous_and_stop_at_gaps<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let limits = BundleLimits::default();
    assert_eq!(bundles(&store, "sched", limits), vec![]);
    append_ok(&store, vec![create_ecosystem(50)]);
    append_ok(
        &store,
        vec![response(course(1), 1, 101), response(course(1), 2, 102)],
    );
    assert_eq!(bundles(&store, "sched", limits), vec![], "0 is missing");
    append_ok(
        &store,
        vec![create_course(1, 50), response(course(1), 4, 104)],
    );
    let got = bundles(&store, "sched", limits);
    assert_eq!(shape(&got), vec![(1, vec![0, 1, 2])]);
    assert_eq!(got[0].events[0], create_course(1, 50));
    assert_eq!(got[0].last_sequence_number(), Some(seq(2)));
    confirm(&store, "sched", 1, 2);
    assert_eq!(bundles(&store, "sched", limits), vec![]);
    append_ok(&store, vec![response(course(1), 3, 103)]);
    assert_eq!(
        shape(&bundles(&store, "sched", limits)),
        vec![(1, vec![3, 4])]
    );
}

/// Confirmation is monotonic (lower values ignored) and clamped to the
/// contiguous head; before any confirmation the watermark is `None`.
pub fn bundles_confirm_is_monotonic_and_clamped<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    assert_eq!(confirmed(&store, "sched", 1), None);
    confirm(&store, "sched", 1, 5);
    assert_eq!(
        confirmed(&store, "sched", 1),
        None,
        "nothing to confirm yet"
    );
    append_ok(
        &store,
        (0..4)
            .map(|n| response(course(1), n, 100 + n as u128))
            .collect(),
    );
    append_ok(&store, vec![response(course(1), 6, 106)]);
    confirm(&store, "sched", 1, 2);
    assert_eq!(confirmed(&store, "sched", 1), Some(2));
    confirm(&store, "sched", 1, 1);
    assert_eq!(confirmed(&store, "sched", 1), Some(2));
    confirm(&store, "sched", 1, 2);
    assert_eq!(confirmed(&store, "sched", 1), Some(2));
    confirm(&store, "sched", 1, 100);
    assert_eq!(
        confirmed(&store, "sched", 1),
        Some(3),
        "clamped to the contiguous head"
    );
    append_ok(
        &store,
        vec![response(course(1), 4, 104), response(course(1), 5, 105)],
    );
    assert_eq!(
        shape(&bundles(&store, "sched", BundleLimits::default())),
        vec![(1, vec![4, 5, 6])]
    );
    confirm(&store, "sched", 1, 6);
    assert_eq!(confirmed(&store, "sched", 1), Some(6));
    confirm(&store, "sched", 2, 0);
    assert_eq!(confirmed(&store, "sched", 2), None, "unknown course");
}

/// Without a confirmation the same events are handed out again (a crash
/// between fetch and confirm means redelivery: at-least-once).
pub fn bundles_redeliver_until_confirmed<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let limits = BundleLimits::default();
    append_ok(
        &store,
        (0..5)
            .map(|n| response(course(1), n, 100 + n as u128))
            .collect(),
    );
    let first = bundles(&store, "sched", limits);
    assert_eq!(shape(&first), vec![(1, vec![0, 1, 2, 3, 4])]);
    assert_eq!(bundles(&store, "sched", limits), first);
    confirm(&store, "sched", 1, 1);
    assert_eq!(
        shape(&bundles(&store, "sched", limits)),
        vec![(1, vec![2, 3, 4])]
    );
    assert_eq!(backlog(&store, "sched", 1), 3);
}

/// Each consumer has its own watermark; backlog counts contiguous,
/// unconfirmed events (A6b lag).
pub fn bundles_consumers_are_independent<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let limits = BundleLimits::default();
    assert_eq!(backlog(&store, "sched", 1), 0);
    append_ok(
        &store,
        (0..4)
            .map(|n| response(course(1), n, 100 + n as u128))
            .collect(),
    );
    append_ok(&store, vec![response(course(1), 9, 109)]);
    assert_eq!(backlog(&store, "sched", 1), 4);
    confirm(&store, "sched", 1, 3);
    assert_eq!(backlog(&store, "sched", 1), 0);
    assert_eq!(backlog(&store, "sparfa", 1), 4);
    assert_eq!(bundles(&store, "sched", limits), vec![]);
    assert_eq!(
        shape(&bundles(&store, "sparfa", limits)),
        vec![(1, vec![0, 1, 2, 3])]
    );
    assert_eq!(confirmed(&store, "sparfa", 1), None);
}

/// Bundles respect max_courses, max_events_per_bundle and the shared byte
/// budget, where the first event of each bundle always moves.
pub fn bundles_respect_limits<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    for c in 1..=3u128 {
        append_ok(
            &store,
            (0..5)
                .map(|n| sized(course(c), n, c * 100 + n as u128, 100))
                .collect(),
        );
    }
    let limits = |max_courses, max_events_per_bundle, max_bytes| BundleLimits {
        max_courses,
        max_events_per_bundle,
        max_bytes,
    };
    let got = bundles(&store, "sched", limits(2, 3, 1_000_000));
    assert_eq!(shape(&got), vec![(1, vec![0, 1, 2]), (2, vec![0, 1, 2])]);
    let got = bundles(&store, "sched", limits(10, 100, 250));
    assert_eq!(
        shape(&got),
        vec![(1, vec![0, 1]), (2, vec![0]), (3, vec![0])]
    );
    let got = bundles(&store, "sched", limits(10, 100, 0));
    assert_eq!(shape(&got), vec![(1, vec![0]), (2, vec![0]), (3, vec![0])]);
    append_ok(&store, vec![sized(course(4), 0, 400, 100_000)]);
    let got = bundles(&store, "sched", limits(10, 100, 1000));
    assert_eq!(got.len(), 4);
    assert_eq!(shape(&got)[3], (4, vec![0]));
}

/// Courses are served oldest waiting first: by when the first unconfirmed
/// event was stored, ties by course id.
pub fn bundles_serve_oldest_waiting_first<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let one = BundleLimits {
        max_courses: 1,
        ..BundleLimits::default()
    };
    append_ok(&store, vec![response(course(3), 0, 300)]);
    append_ok(
        &store,
        vec![response(course(1), 1, 101), response(course(2), 0, 200)],
    );
    append_ok(&store, vec![response(course(1), 0, 100)]);
    let order = |store: &S| {
        shape(&bundles(store, "sched", BundleLimits::default()))
            .into_iter()
            .map(|(c, _)| c)
            .collect::<Vec<_>>()
    };
    assert_eq!(order(&store), vec![3, 2, 1]);
    assert_eq!(shape(&bundles(&store, "sched", one)), vec![(3, vec![0])]);
    confirm(&store, "sched", 3, 0);
    append_ok(&store, vec![response(course(3), 1, 301)]);
    assert_eq!(order(&store), vec![2, 1, 3]);
    // Events of one group: insertion order is request order.
    let group = vec![
        request(vec![response(course(6), 0, 600)]),
        request(vec![response(course(5), 0, 500)]),
    ];
    ok(store.append_group(&group), "append_group");
    assert_eq!(order(&store), vec![2, 1, 3, 6, 5]);
}
