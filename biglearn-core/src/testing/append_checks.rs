//! Checks of appends, replays, conflicts, heads and metadata (A4, A5, A10).

use crate::log::*;

use super::fixtures::*;

/// Events land, heads follow (high-water mark and contiguous head), and
/// stored events read back verbatim by uuid.
pub fn append_stores_events_and_heads<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    assert_eq!(head(&store, c), None);
    let receipt = append_ok(&store, vec![response(c, 1, 101), response(c, 3, 103)]);
    assert_eq!(
        receipt,
        AppendReceipt {
            stored: 2,
            replayed: 0
        }
    );
    assert_eq!(head(&store, c), Some(head_of(4, None)));
    append_ok(&store, vec![create_course(1, 50)]);
    assert_eq!(head(&store, c), Some(head_of(4, Some(1))));
    append_ok(&store, vec![response(c, 2, 102)]);
    assert_eq!(head(&store, c), Some(head_of(4, Some(3))));
    append_ok(&store, vec![response(c, 9, 109)]);
    assert_eq!(head(&store, c), Some(head_of(10, Some(3))));
    assert_eq!(
        ok(store.event(event_id(103)), "event"),
        Some(response(c, 3, 103))
    );
    assert_eq!(
        ok(store.event(event_id(1)), "event"),
        Some(create_course(1, 50))
    );
    assert_eq!(ok(store.event(event_id(999)), "event"), None);
    assert_eq!(head(&store, course(2)), None);
}

/// Replaying a stored uuid with the same stream, number and type is a silent
/// success that stores nothing and keeps the first write (A4, O2).
pub fn append_replay_is_silent<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    append_ok(&store, vec![response(c, 0, 100), response(c, 1, 101)]);
    let mut changed = response(c, 1, 101);
    changed.data = EventData::from_json_text(r#"{"changed":true}"#);
    let receipt = append_ok(&store, vec![changed, response(c, 0, 100)]);
    assert_eq!(
        receipt,
        AppendReceipt {
            stored: 0,
            replayed: 2
        }
    );
    assert_eq!(
        ok(store.event(event_id(101)), "event"),
        Some(response(c, 1, 101))
    );
    assert_eq!(head(&store, c), Some(head_of(2, Some(1))));
    let receipt = append_ok(&store, vec![response(c, 1, 101), response(c, 2, 102)]);
    assert_eq!(
        receipt,
        AppendReceipt {
            stored: 1,
            replayed: 1
        }
    );
    assert_eq!(head(&store, c), Some(head_of(3, Some(2))));
}

/// A stored uuid sent with another stream, number or type rejects the whole
/// request (A4) and stores nothing of it.
pub fn append_replay_elsewhere_is_rejected<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    append_ok(&store, vec![response(c, 1, 101)]);
    let variants = [
        response(course(2), 1, 101),
        response(c, 2, 101),
        event(c, 1, 101, EventType::UpdateRoster),
    ];
    for bad in variants {
        let rejection = append_rejected(&store, vec![response(c, 5, 105), bad.clone()]);
        assert_eq!(
            rejection,
            AppendRejection::EventIdReused {
                index: 1,
                event_id: event_id(101),
                existing_stream: c,
                existing_sequence_number: seq(1),
                existing_type: EventType::RecordResponse,
            },
            "replay as {bad:?}"
        );
    }
    assert_eq!(ok(store.event(event_id(105)), "event"), None);
    assert_eq!(head(&store, c), Some(head_of(2, None)));
    assert_eq!(head(&store, course(2)), None);
}

/// A different uuid at a used (stream, number) rejects the whole request:
/// nothing stored, heads unchanged (A4).
pub fn append_conflict_is_atomic<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    append_ok(&store, vec![create_course(1, 50), response(c, 1, 101)]);
    let before = head(&store, c);
    let rejection = append_rejected(
        &store,
        vec![
            response(course(2), 0, 200),
            response(c, 2, 102),
            response(c, 1, 999),
        ],
    );
    assert_eq!(
        rejection,
        AppendRejection::SequenceNumberTaken {
            index: 2,
            stream: c,
            sequence_number: seq(1),
            event_id: event_id(999),
            existing: event_id(101),
        }
    );
    assert_eq!(head(&store, c), before);
    assert_eq!(head(&store, course(2)), None);
    for id in [200, 102, 999] {
        assert_eq!(ok(store.event(event_id(id)), "event"), None, "event {id}");
    }
    assert_eq!(
        ok(store.event(event_id(101)), "event"),
        Some(response(c, 1, 101))
    );
    // The refused numbers are still free.
    append_ok(
        &store,
        vec![response(c, 2, 102), response(course(2), 0, 200)],
    );
}

/// Duplicates inside one request follow the replay rule (A10).
pub fn append_duplicates_in_one_request<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    let receipt = append_ok(&store, vec![response(c, 1, 101), response(c, 1, 101)]);
    assert_eq!(
        receipt,
        AppendReceipt {
            stored: 1,
            replayed: 1
        }
    );
    let rejection = append_rejected(&store, vec![response(c, 2, 102), response(c, 3, 102)]);
    assert!(
        matches!(rejection, AppendRejection::EventIdReused { index: 1, existing_sequence_number, .. } if existing_sequence_number == seq(2)),
        "{rejection:?}"
    );
    let rejection = append_rejected(&store, vec![response(c, 4, 104), response(c, 4, 105)]);
    assert_eq!(
        rejection,
        AppendRejection::SequenceNumberTaken {
            index: 1,
            stream: c,
            sequence_number: seq(4),
            event_id: event_id(105),
            existing: event_id(104),
        }
    );
    assert_eq!(head(&store, c), Some(head_of(2, None)));
    assert_eq!(ok(store.event(event_id(102)), "event"), None);
    assert_eq!(ok(store.event(event_id(104)), "event"), None);
}

/// In a group, a bad request fails alone; later requests see earlier accepted
/// ones and never the rejected one (O2a).
pub fn append_group_isolates_bad_requests<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    let group = vec![
        request(vec![response(c, 1, 101)]),
        request(vec![response(c, 2, 102), response(c, 1, 999)]),
        request(vec![response(c, 2, 202)]),
        request(vec![response(c, 1, 101), response(c, 3, 102)]),
    ];
    let outcomes = ok(store.append_group(&group), "append_group");
    assert_eq!(outcomes.len(), 4);
    assert_eq!(
        outcomes[0],
        Ok(AppendReceipt {
            stored: 1,
            replayed: 0
        })
    );
    assert!(matches!(
        outcomes[1],
        Err(AppendRejection::SequenceNumberTaken { index: 1, .. })
    ));
    assert_eq!(
        outcomes[2],
        Ok(AppendReceipt {
            stored: 1,
            replayed: 0
        })
    );
    assert_eq!(
        outcomes[3],
        Ok(AppendReceipt {
            stored: 1,
            replayed: 1
        })
    );
    assert_eq!(
        ok(store.event(event_id(202)), "event"),
        Some(response(c, 2, 202))
    );
    assert_eq!(
        ok(store.event(event_id(102)), "event"),
        Some(response(c, 3, 102))
    );
    assert_eq!(ok(store.event(event_id(999)), "event"), None);
    assert_eq!(head(&store, c), Some(head_of(4, None)));
    assert_eq!(ok(store.append_group(&[]), "append_group"), vec![]);
}

/// Create events only at 0 and only in their own kind of stream; other
/// types only in course streams; no_op in both (api.md §4.2).
pub fn append_rejects_misplaced_events<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let mut late_create = create_course(1, 50);
    late_create.sequence_number = seq(1);
    let mut course_in_ecosystem = create_course(2, 50);
    course_in_ecosystem.stream = ecosystem(2);
    let mut ecosystem_in_course = create_ecosystem(3);
    ecosystem_in_course.stream = course(3);
    let cases = [
        late_create,
        course_in_ecosystem,
        ecosystem_in_course,
        response(ecosystem(4), 1, 104),
    ];
    for bad in cases {
        let rejection = append_rejected(&store, vec![bad.clone()]);
        assert_eq!(
            rejection,
            AppendRejection::InvalidPlacement {
                index: 0,
                event_type: bad.event_type,
                stream: bad.stream,
                sequence_number: bad.sequence_number,
            }
        );
        assert_eq!(head(&store, bad.stream), None);
    }
    append_ok(
        &store,
        vec![
            event(ecosystem(5), 1, 105, EventType::NoOp),
            event(course(5), 1, 106, EventType::NoOp),
        ],
    );
}

/// Metadata numbers are assigned when create events are stored: gap-free,
/// per kind, in commit order; replays change nothing; fetch_metadatas pages
/// by offset (A5, api.md §4.8).
pub fn metadata_numbers_are_gap_free<S: BundleLog>(factory: &dyn Fn() -> S) {
    let store = factory();
    let metas = |kind, offset, max| ok(store.fetch_metadatas(kind, offset, max), "fetch_metadatas");
    assert_eq!(metas(StreamKind::Course, 0, 10), vec![]);
    append_ok(&store, vec![create_ecosystem(50)]);
    // An early non-create event makes the stream known but not numbered.
    append_ok(&store, vec![response(course(2), 1, 201)]);
    append_ok(&store, vec![create_course(1, 50)]);
    let group = vec![
        request(vec![create_course(3, 51), create_ecosystem(51)]),
        request(vec![create_course(4, 51), response(course(1), 0, 999)]),
        request(vec![create_course(2, 52)]),
    ];
    let outcomes = ok(store.append_group(&group), "append_group");
    assert!(outcomes[0].is_ok() && outcomes[1].is_err() && outcomes[2].is_ok());
    // Replaying a create, even with other data, keeps its number and ecosystem.
    let receipt = append_ok(&store, vec![create_course(1, 59)]);
    assert_eq!(
        receipt,
        AppendReceipt {
            stored: 0,
            replayed: 1
        }
    );
    let expect = |stream, number, eco: Option<u128>| StreamMetadata {
        stream,
        metadata_sequence_number: number,
        initial_ecosystem: eco.map(ecosystem_id),
    };
    assert_eq!(
        metas(StreamKind::Course, 0, 10),
        vec![
            expect(course(1), 0, Some(50)),
            expect(course(3), 1, Some(51)),
            expect(course(2), 2, Some(52)),
        ]
    );
    assert_eq!(
        metas(StreamKind::Ecosystem, 0, 10),
        vec![
            expect(ecosystem(50), 0, None),
            expect(ecosystem(51), 1, None)
        ]
    );
    assert_eq!(
        metas(StreamKind::Course, 1, 1),
        vec![expect(course(3), 1, Some(51))]
    );
    assert_eq!(metas(StreamKind::Course, 2, 10).len(), 1);
    assert_eq!(metas(StreamKind::Course, 3, 10), vec![]);
    assert_eq!(metas(StreamKind::Course, 0, 0), vec![]);
    assert_eq!(head(&store, course(4)), None);
}
