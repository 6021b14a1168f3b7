use uuid::Uuid;

use super::*;
use crate::ids::{CourseId, EventId};

fn seq(n: u64) -> SequenceNumber {
    SequenceNumber::new(n).unwrap()
}

fn cid(n: u128) -> CourseId {
    CourseId::from_uuid(Uuid::from_u128(n))
}

fn ev(number: u64, bytes: usize) -> Event {
    // `{"p":"…"}` is 8 bytes plus the padding.
    Event {
        stream: StreamId::Course(cid(1)),
        sequence_number: seq(number),
        event_id: EventId::from_uuid(Uuid::from_u128(100 + number as u128)),
        event_type: EventType::RecordResponse,
        data: EventData::from_json_text(format!(r#"{{"p":"{}"}}"#, "x".repeat(bytes - 8))),
    }
}

#[test]
fn pending_range_and_backlog() {
    assert_eq!(pending_range(None, None), None);
    assert_eq!(pending_range(None, Some(seq(0))), Some((seq(0), seq(0))));
    assert_eq!(
        pending_range(Some(seq(2)), Some(seq(5))),
        Some((seq(3), seq(5)))
    );
    assert_eq!(pending_range(Some(seq(5)), Some(seq(5))), None);
    assert_eq!(
        pending_range(Some(SequenceNumber::MAX), Some(SequenceNumber::MAX)),
        None
    );
    assert_eq!(backlog(None, None), 0);
    assert_eq!(backlog(None, Some(seq(4))), 5);
    assert_eq!(backlog(Some(seq(1)), Some(seq(4))), 3);
    assert_eq!(backlog(Some(seq(4)), Some(seq(4))), 0);
}

#[test]
fn confirm_is_clamped_and_monotonic() {
    assert_eq!(confirm_target(None, seq(3), None), None);
    assert_eq!(confirm_target(None, seq(3), Some(seq(5))), Some(seq(3)));
    assert_eq!(confirm_target(None, seq(9), Some(seq(5))), Some(seq(5)));
    assert_eq!(confirm_target(Some(seq(4)), seq(3), Some(seq(5))), None);
    assert_eq!(confirm_target(Some(seq(4)), seq(4), Some(seq(5))), None);
    assert_eq!(
        confirm_target(Some(seq(4)), seq(5), Some(seq(5))),
        Some(seq(5))
    );
    assert_eq!(confirm_target(Some(seq(5)), seq(9), Some(seq(5))), None);
}

#[test]
fn waiting_courses_oldest_first_then_by_course() {
    let w = |since, course| WaitingCourse {
        since,
        course: cid(course),
        first: seq(0),
        last: seq(0),
    };
    let ordered = order_waiting(vec![w(5, 1), w(2, 3), w(2, 2), w(9, 0)], 3);
    assert_eq!(ordered, vec![w(2, 2), w(2, 3), w(5, 1)]);
}

#[test]
fn cutter_takes_contiguous_events_up_to_the_event_cap() {
    let limits = BundleLimits {
        max_courses: 10,
        max_events_per_bundle: 3,
        max_bytes: 1_000,
    };
    let mut cutter = BundleCutter::new(limits);
    let bundle = cutter
        .cut(cid(1), vec![ev(0, 10), ev(1, 10), ev(2, 10), ev(3, 10)])
        .unwrap();
    assert_eq!(bundle.last_sequence_number(), Some(seq(2)));
    assert_eq!(cutter.bytes_used(), 30);
    let bundle = cutter
        .cut(cid(2), vec![ev(4, 10), ev(5, 10), ev(7, 10)])
        .unwrap();
    assert_eq!(bundle.events.len(), 2, "stops at the discontinuity");
    assert_eq!(cutter.cut(cid(3), vec![]), None);
}

#[test]
fn byte_budget_is_shared_and_first_event_always_moves() {
    let limits = BundleLimits {
        max_courses: 10,
        max_events_per_bundle: 100,
        max_bytes: 100,
    };
    let mut cutter = BundleCutter::new(limits);
    let first = cutter
        .cut(cid(1), vec![ev(0, 40), ev(1, 40), ev(2, 40)])
        .unwrap();
    assert_eq!(first.events.len(), 2);
    // Budget has 20 bytes left: the next bundle still gets its first event.
    let second = cutter.cut(cid(2), vec![ev(0, 500), ev(1, 10)]).unwrap();
    assert_eq!(second.events.len(), 1);
    assert_eq!(cutter.bytes_used(), 580);
    // An event exactly filling the budget is taken.
    let mut cutter = BundleCutter::new(limits);
    assert_eq!(
        cutter
            .cut(cid(1), vec![ev(0, 60), ev(1, 40), ev(2, 8)])
            .unwrap()
            .events
            .len(),
        2
    );
}

#[test]
fn zero_event_cap_still_moves_one_event() {
    let limits = BundleLimits {
        max_courses: 1,
        max_events_per_bundle: 0,
        max_bytes: 0,
    };
    let mut cutter = BundleCutter::new(limits);
    assert_eq!(cutter.max_events(), 1);
    assert_eq!(
        cutter
            .cut(cid(1), vec![ev(0, 10), ev(1, 10)])
            .unwrap()
            .events
            .len(),
        1
    );
}

#[test]
fn open_gap_detection() {
    let stream = StreamId::Course(cid(1));
    let head = |hwm, c: Option<u64>| StreamHead {
        high_water_mark: hwm,
        contiguous_through: c.map(seq),
    };
    assert_eq!(open_gap(stream, head(0, None), 0), None);
    assert_eq!(open_gap(stream, head(3, Some(2)), 3), None);
    assert_eq!(
        open_gap(stream, head(6, Some(2)), 5),
        Some(OpenGap {
            stream,
            missing: seq(3),
            events_waiting: 2,
            first_seen_unix_micros: None,
        })
    );
    assert_eq!(
        open_gap(stream, head(4, None), 2),
        Some(OpenGap {
            stream,
            missing: seq(0),
            events_waiting: 2,
            first_seen_unix_micros: None,
        })
    );
}

#[test]
fn gap_filler_is_a_deterministic_no_op() {
    let stream = StreamId::Course(cid(1));
    let filler = gap_filler(stream, seq(3));
    assert_eq!(filler.event_type, EventType::NoOp);
    assert_eq!((filler.stream, filler.sequence_number), (stream, seq(3)));
    assert_eq!(filler, gap_filler(stream, seq(3)));
    assert_ne!(filler.event_id, gap_filler(stream, seq(4)).event_id);
    let other_kind = gap_filler(
        StreamId::Ecosystem(crate::ids::EcosystemId::from_uuid(Uuid::from_u128(1))),
        seq(3),
    );
    assert_ne!(filler.event_id, other_kind.event_id);
    assert_eq!(filler.event_id.as_uuid().get_version_num(), 8);
    let data = filler.data.to_value().unwrap();
    assert_eq!(data["sequence_number"], 3);
    assert_eq!(data["course_uuid"], cid(1).to_string());
    assert_eq!(
        other_kind.data.to_value().unwrap()["ecosystem_uuid"],
        Uuid::from_u128(1).to_string()
    );
    // Pinned: the uuid is stored, so it must never change between builds.
    assert_eq!(filler.event_id.to_string(), PINNED_FILLER_ID);
}

/// FNV-1a 128 over the inputs above, computed independently with Python.
const PINNED_FILLER_ID: &str = "c2de79a6-0f53-81a3-83ee-4f1d63851d51";
