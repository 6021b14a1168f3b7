//! Checks of the fetch algorithm of api.md §4.7 against a backend.

use crate::log::*;

use super::fixtures::*;

const R: EventType = EventType::RecordResponse;
const U: EventType = EventType::UpdateRoster;

/// Unknown streams and offsets at or past the high-water mark are inactive:
/// no events, not a gap, at the end.
pub fn fetch_inactive_streams<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    assert!(fetch(&store, vec![], 10).is_empty());
    append_ok(&store, vec![response(c, 0, 100), response(c, 1, 101)]);
    let got = fetch(
        &store,
        vec![
            fetch_request("unknown", course(2), 0, [R]),
            fetch_request("past", c, 2, [R]),
            fetch_request("far", c, 1000, [R]),
        ],
        10,
    );
    assert_eq!(got.len(), 3);
    for (response, id) in got.iter().zip(["unknown", "past", "far"]) {
        assert_eq!(response.request_uuid, id);
        assert_eq!(summary(response), (vec![], false, true), "{id}");
    }
    assert_eq!(got[0].stream, course(2));
}

/// The offset is inclusive, only requested types are returned, events come
/// back verbatim in ascending order; an active stream with nothing of the
/// requested types answers caught-up.
pub fn fetch_filters_types_from_inclusive_offset<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    append_ok(
        &store,
        vec![
            response(c, 3, 103),
            create_course(1, 50),
            event(c, 1, 101, U),
            response(c, 2, 102),
            event(c, 4, 104, U),
        ],
    );
    let got = fetch(&store, vec![fetch_request("a", c, 2, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![2, 3], false, true));
    assert_eq!(
        got[0].events,
        vec![response(c, 2, 102), response(c, 3, 103)]
    );
    let got = fetch(&store, vec![fetch_request("a", c, 0, course_types())], 10);
    assert_eq!(summary(&got[0]), (vec![0, 1, 2, 3, 4], false, true));
    assert_eq!(got[0].events[0], create_course(1, 50));
    let got = fetch(&store, vec![fetch_request("a", c, 4, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![], false, true));
    let got = fetch(
        &store,
        vec![fetch_request("a", c, 0, [EventType::CreateCourse])],
        10,
    );
    assert_eq!(summary(&got[0]), (vec![0], false, true));
}

/// Reading stops before a missing number (is_gap), including when the
/// offset is at the missing number; filling it lets reading continue.
pub fn fetch_stops_at_gaps<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    append_ok(
        &store,
        vec![
            response(c, 0, 100),
            response(c, 1, 101),
            response(c, 3, 103),
            response(c, 4, 104),
        ],
    );
    let got = fetch(&store, vec![fetch_request("a", c, 0, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![0, 1], true, false));
    let got = fetch(&store, vec![fetch_request("a", c, 2, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![], true, false));
    let got = fetch(&store, vec![fetch_request("a", c, 3, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![], true, false));
    // Missing 0: a stream created by a later event first.
    append_ok(&store, vec![response(course(2), 1, 201)]);
    let got = fetch(&store, vec![fetch_request("b", course(2), 0, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![], true, false));
    // Filling the gap with a no_op (O3) lets readers through.
    append_ok(&store, vec![event(c, 2, 102, EventType::NoOp)]);
    let got = fetch(&store, vec![fetch_request("a", c, 0, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![0, 1, 3, 4], false, true));
}

/// The call-wide cap pages fairly across sub-requests by distance from each
/// offset; a truncated answer is neither a gap nor the end; a starved
/// sub-request gets no events, not a gap, not the end.
pub fn fetch_pages_fairly_across_streams<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let (a, b, c) = (course(1), course(2), course(3));
    append_ok(
        &store,
        (0..6).map(|n| response(a, n, 100 + n as u128)).collect(),
    );
    append_ok(
        &store,
        (0..13).map(|n| response(b, n, 200 + n as u128)).collect(),
    );
    append_ok(&store, vec![response(c, 0, 300)]);
    let requests = || {
        vec![
            fetch_request("a", a, 0, [R]),
            fetch_request("b", b, 10, [R]),
            fetch_request("c", c, 0, [R]),
        ]
    };
    let got = fetch(&store, requests(), 5);
    assert_eq!(summary(&got[0]), (vec![0, 1], false, false));
    assert_eq!(summary(&got[1]), (vec![10, 11], false, false));
    assert_eq!(summary(&got[2]), (vec![0], false, true));
    let got = fetch(&store, requests(), 2);
    assert_eq!(summary(&got[0]), (vec![0], false, false));
    assert_eq!(summary(&got[1]), (vec![10], false, false));
    assert_eq!(summary(&got[2]), (vec![], false, false));
    let got = fetch(&store, requests(), 1000);
    assert_eq!(summary(&got[0]), (vec![0, 1, 2, 3, 4, 5], false, true));
    assert_eq!(summary(&got[1]), (vec![10, 11, 12], false, true));
    // Exactly enough room still knows it reached the end.
    let got = fetch(&store, vec![fetch_request("a", a, 0, [R])], 6);
    assert_eq!(summary(&got[0]), (vec![0, 1, 2, 3, 4, 5], false, true));
}

/// The 32,000,000-bit cap: one oversized event still comes back alone, and
/// the survivors are a prefix of the fair order.
pub fn fetch_caps_bytes_with_big_event<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let (a, b) = (course(1), course(2));
    let cap_bytes = (FETCH_BIT_CAP / 8) as usize;
    append_ok(
        &store,
        vec![sized(a, 0, 100, cap_bytes + 1000), response(a, 1, 101)],
    );
    let got = fetch(&store, vec![fetch_request("a", a, 0, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![0], false, false));
    assert_eq!(got[0].events[0].data.as_str().len(), cap_bytes + 1000);
    let got = fetch(&store, vec![fetch_request("a", a, 1, [R])], 10);
    assert_eq!(summary(&got[0]), (vec![1], false, true));
    // Two events of 60 % of the cap: a0 then b0 in fair order; b0 is dropped.
    let sixty = cap_bytes * 3 / 5;
    append_ok(&store, vec![sized(b, 0, 200, sixty), response(b, 1, 201)]);
    let mut small_first = vec![sized(course(3), 0, 300, sixty), response(course(3), 1, 301)];
    small_first.push(response(course(3), 2, 302));
    append_ok(&store, small_first);
    let got = fetch(
        &store,
        vec![
            fetch_request("c", course(3), 0, [R]),
            fetch_request("b", b, 0, [R]),
        ],
        10,
    );
    assert_eq!(summary(&got[0]), (vec![0], false, false));
    assert_eq!(summary(&got[1]), (vec![], false, false));
}

/// Ecosystem streams fetch the same way.
pub fn fetch_ecosystem_streams<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let e = ecosystem(7);
    append_ok(&store, vec![create_ecosystem(7)]);
    let got = fetch(
        &store,
        vec![fetch_request("e", e, 0, [EventType::CreateEcosystem])],
        10,
    );
    assert_eq!(summary(&got[0]), (vec![0], false, true));
    assert_eq!(got[0].events, vec![create_ecosystem(7)]);
    let got = fetch(
        &store,
        vec![fetch_request("e", e, 1, [EventType::CreateEcosystem])],
        10,
    );
    assert_eq!(summary(&got[0]), (vec![], false, true));
    // A course and an ecosystem with the same uuid are different streams.
    let got = fetch(
        &store,
        vec![fetch_request("c", course(7), 0, course_types())],
        10,
    );
    assert_eq!(summary(&got[0]), (vec![], false, true));
}
