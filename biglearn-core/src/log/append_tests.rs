use uuid::Uuid;

use super::*;
use crate::ids::CourseId;

fn course(n: u128) -> StreamId {
    StreamId::Course(CourseId::from_uuid(Uuid::from_u128(n)))
}

fn ecosystem(n: u128) -> StreamId {
    StreamId::Ecosystem(EcosystemId::from_uuid(Uuid::from_u128(n)))
}

fn seq(n: u64) -> SequenceNumber {
    SequenceNumber::new(n).unwrap()
}

fn ev(stream: StreamId, number: u64, id: u128, event_type: EventType) -> Event {
    Event {
        stream,
        sequence_number: seq(number),
        event_id: EventId::from_uuid(Uuid::from_u128(id)),
        event_type,
        data: EventData::from_json_text(format!(r#"{{"n":{number}}}"#)),
    }
}

fn create_course(stream: StreamId, id: u128, eco: u128) -> Event {
    Event {
        data: EventData::from_json_text(format!(
            r#"{{"course_uuid":"{}","ecosystem_uuid":"{}"}}"#,
            stream.uuid(),
            Uuid::from_u128(eco)
        )),
        ..ev(stream, 0, id, EventType::CreateCourse)
    }
}

fn req(events: Vec<Event>) -> AppendRequest {
    AppendRequest { events }
}

/// Applies a plan to a snapshot the way a backend would, so tests can chain
/// groups (every stream and id kept).
fn apply(snapshot: &mut AppendSnapshot, plan: &AppendPlan) {
    for event in &plan.inserts {
        snapshot
            .ids_by_position
            .insert((event.stream, event.sequence_number), event.event_id);
        snapshot.events_by_id.insert(event.event_id, event.clone());
    }
    for (stream, head) in &plan.heads {
        snapshot.heads.insert(*stream, *head);
        let above = snapshot
            .ids_by_position
            .keys()
            .filter(|(s, n)| s == stream && head.contiguous_through.map_or(true, |c| *n > c))
            .map(|(_, n)| *n)
            .collect::<std::collections::BTreeSet<_>>();
        snapshot
            .stored_above_contiguous
            .insert(*stream, above.into_iter().collect());
    }
    for m in &plan.metadata {
        snapshot
            .next_metadata_number
            .insert(m.stream.kind(), m.metadata_sequence_number + 1);
    }
}

#[test]
fn stores_new_events_and_sets_heads() {
    let c = course(1);
    let plan = plan_append(
        &[req(vec![
            ev(c, 1, 11, EventType::RecordResponse),
            ev(c, 3, 13, EventType::RecordResponse),
        ])],
        &AppendSnapshot::default(),
    );
    assert_eq!(
        plan.outcomes,
        vec![Ok(AppendReceipt {
            stored: 2,
            replayed: 0
        })]
    );
    assert_eq!(plan.inserts.len(), 2);
    assert_eq!(
        plan.heads,
        vec![(
            c,
            StreamHead {
                high_water_mark: 4,
                contiguous_through: None
            }
        )]
    );
    assert!(plan.metadata.is_empty());
}

#[test]
fn contiguous_head_advances_through_stored_numbers_above() {
    let c = course(1);
    let mut snapshot = AppendSnapshot::default();
    snapshot.heads.insert(
        c,
        StreamHead {
            high_water_mark: 6,
            contiguous_through: Some(seq(1)),
        },
    );
    snapshot
        .stored_above_contiguous
        .insert(c, vec![seq(3), seq(5)]);
    let plan = plan_append(
        &[req(vec![ev(c, 2, 12, EventType::UpdateRoster)])],
        &snapshot,
    );
    assert_eq!(
        plan.heads,
        vec![(
            c,
            StreamHead {
                high_water_mark: 6,
                contiguous_through: Some(seq(3))
            }
        )]
    );
    let plan = plan_append(
        &[
            req(vec![ev(c, 4, 14, EventType::UpdateRoster)]),
            req(vec![ev(c, 2, 12, EventType::UpdateRoster)]),
        ],
        &snapshot,
    );
    assert_eq!(
        plan.heads,
        vec![(
            c,
            StreamHead {
                high_water_mark: 6,
                contiguous_through: Some(seq(5))
            }
        )]
    );
}

#[test]
fn high_water_mark_never_decreases() {
    let c = course(1);
    let mut snapshot = AppendSnapshot::default();
    snapshot.heads.insert(
        c,
        StreamHead {
            high_water_mark: 10,
            contiguous_through: None,
        },
    );
    snapshot.stored_above_contiguous.insert(c, vec![seq(9)]);
    let plan = plan_append(
        &[req(vec![ev(c, 2, 12, EventType::UpdateRoster)])],
        &snapshot,
    );
    assert_eq!(plan.heads[0].1.high_water_mark, 10);
}

#[test]
fn replay_of_stored_event_is_silent() {
    let c = course(1);
    let mut snapshot = AppendSnapshot::default();
    let first = plan_append(
        &[req(vec![
            ev(c, 0, 10, EventType::NoOp),
            ev(c, 1, 11, EventType::RecordResponse),
        ])],
        &snapshot,
    );
    apply(&mut snapshot, &first);
    let mut changed_data = ev(c, 1, 11, EventType::RecordResponse);
    changed_data.data = EventData::from_json_text(r#"{"other":true}"#);
    let plan = plan_append(
        &[req(vec![
            changed_data,
            ev(c, 2, 12, EventType::RecordResponse),
        ])],
        &snapshot,
    );
    assert_eq!(
        plan.outcomes,
        vec![Ok(AppendReceipt {
            stored: 1,
            replayed: 1
        })]
    );
    assert_eq!(plan.inserts, vec![ev(c, 2, 12, EventType::RecordResponse)]);
    assert_eq!(
        plan.heads,
        vec![(
            c,
            StreamHead {
                high_water_mark: 3,
                contiguous_through: Some(seq(2))
            }
        )]
    );
}

#[test]
fn pure_replay_changes_no_head() {
    let c = course(1);
    let mut snapshot = AppendSnapshot::default();
    let first = plan_append(
        &[req(vec![ev(c, 1, 11, EventType::RecordResponse)])],
        &snapshot,
    );
    apply(&mut snapshot, &first);
    let plan = plan_append(
        &[req(vec![ev(c, 1, 11, EventType::RecordResponse)])],
        &snapshot,
    );
    assert_eq!(
        plan.outcomes,
        vec![Ok(AppendReceipt {
            stored: 0,
            replayed: 1
        })]
    );
    assert!(plan.inserts.is_empty() && plan.heads.is_empty() && plan.metadata.is_empty());
}

#[test]
fn replay_with_other_stream_number_or_type_is_rejected() {
    let c = course(1);
    let mut snapshot = AppendSnapshot::default();
    let first = plan_append(
        &[req(vec![ev(c, 1, 11, EventType::RecordResponse)])],
        &snapshot,
    );
    apply(&mut snapshot, &first);
    for (index, bad) in [
        ev(course(2), 1, 11, EventType::RecordResponse),
        ev(c, 2, 11, EventType::RecordResponse),
        ev(c, 1, 11, EventType::UpdateRoster),
    ]
    .into_iter()
    .enumerate()
    {
        let plan = plan_append(
            &[req(vec![ev(c, 5, 15, EventType::UpdateRoster), bad])],
            &snapshot,
        );
        assert_eq!(
            plan.outcomes,
            vec![Err(AppendRejection::EventIdReused {
                index: 1,
                event_id: EventId::from_uuid(Uuid::from_u128(11)),
                existing_stream: c,
                existing_sequence_number: seq(1),
                existing_type: EventType::RecordResponse,
            })],
            "case {index}"
        );
        assert!(plan.inserts.is_empty() && plan.heads.is_empty());
    }
}

#[test]
fn taken_number_rejects_whole_request() {
    let c = course(1);
    let mut snapshot = AppendSnapshot::default();
    let first = plan_append(
        &[req(vec![ev(c, 1, 11, EventType::RecordResponse)])],
        &snapshot,
    );
    apply(&mut snapshot, &first);
    let plan = plan_append(
        &[req(vec![
            ev(c, 2, 12, EventType::RecordResponse),
            ev(c, 1, 21, EventType::RecordResponse),
        ])],
        &snapshot,
    );
    assert_eq!(
        plan.outcomes,
        vec![Err(AppendRejection::SequenceNumberTaken {
            index: 1,
            stream: c,
            sequence_number: seq(1),
            event_id: EventId::from_uuid(Uuid::from_u128(21)),
            existing: EventId::from_uuid(Uuid::from_u128(11)),
        })]
    );
    assert!(plan.inserts.is_empty() && plan.heads.is_empty());
}

#[test]
fn duplicates_inside_one_request_follow_the_replay_rule() {
    let c = course(1);
    let e = ev(c, 1, 11, EventType::RecordResponse);
    let plan = plan_append(
        &[req(vec![e.clone(), e.clone()])],
        &AppendSnapshot::default(),
    );
    assert_eq!(
        plan.outcomes,
        vec![Ok(AppendReceipt {
            stored: 1,
            replayed: 1
        })]
    );
    assert_eq!(plan.inserts, vec![e.clone()]);

    let plan = plan_append(
        &[req(vec![
            e.clone(),
            ev(c, 2, 11, EventType::RecordResponse),
        ])],
        &AppendSnapshot::default(),
    );
    assert!(matches!(
        plan.outcomes[0],
        Err(AppendRejection::EventIdReused { index: 1, .. })
    ));
    let plan = plan_append(
        &[req(vec![e, ev(c, 1, 12, EventType::RecordResponse)])],
        &AppendSnapshot::default(),
    );
    assert!(matches!(
        plan.outcomes[0],
        Err(AppendRejection::SequenceNumberTaken { index: 1, .. })
    ));
    assert!(plan.inserts.is_empty());
}

#[test]
fn bad_request_fails_alone_and_leaves_no_trace() {
    let c = course(1);
    let plan = plan_append(
        &[
            req(vec![ev(c, 1, 11, EventType::RecordResponse)]),
            // Rejected: its event at 2 must not block the third request.
            req(vec![
                ev(c, 2, 12, EventType::RecordResponse),
                ev(c, 1, 99, EventType::RecordResponse),
            ]),
            req(vec![ev(c, 2, 22, EventType::RecordResponse)]),
            // Replays the first request's event: silent.
            req(vec![ev(c, 1, 11, EventType::RecordResponse)]),
            // Reuses the rejected request's uuid elsewhere: fine, never stored.
            req(vec![ev(c, 3, 12, EventType::UpdateRoster)]),
        ],
        &AppendSnapshot::default(),
    );
    assert!(plan.outcomes[0].is_ok());
    assert!(matches!(
        plan.outcomes[1],
        Err(AppendRejection::SequenceNumberTaken { index: 1, .. })
    ));
    assert_eq!(
        plan.outcomes[2],
        Ok(AppendReceipt {
            stored: 1,
            replayed: 0
        })
    );
    assert_eq!(
        plan.outcomes[3],
        Ok(AppendReceipt {
            stored: 0,
            replayed: 1
        })
    );
    assert_eq!(
        plan.outcomes[4],
        Ok(AppendReceipt {
            stored: 1,
            replayed: 0
        })
    );
    let ids: Vec<u128> = plan
        .inserts
        .iter()
        .map(|e| e.event_id.as_uuid().as_u128())
        .collect();
    assert_eq!(ids, vec![11, 22, 12]);
    assert_eq!(
        plan.heads,
        vec![(
            c,
            StreamHead {
                high_water_mark: 4,
                contiguous_through: None
            }
        )]
    );
}

#[test]
fn placement_rules() {
    let c = course(1);
    let e = ecosystem(2);
    let cases = [
        ev(c, 1, 1, EventType::CreateCourse),
        ev(e, 1, 2, EventType::CreateEcosystem),
        ev(e, 0, 3, EventType::CreateCourse),
        ev(c, 0, 4, EventType::CreateEcosystem),
        ev(e, 1, 5, EventType::RecordResponse),
    ];
    for bad in cases {
        let plan = plan_append(&[req(vec![bad.clone()])], &AppendSnapshot::default());
        assert_eq!(
            plan.outcomes,
            vec![Err(AppendRejection::InvalidPlacement {
                index: 0,
                event_type: bad.event_type,
                stream: bad.stream,
                sequence_number: bad.sequence_number,
            })]
        );
    }
    let plan = plan_append(
        &[req(vec![
            ev(e, 3, 6, EventType::NoOp),
            ev(c, 3, 7, EventType::NoOp),
        ])],
        &AppendSnapshot::default(),
    );
    assert!(plan.outcomes[0].is_ok());
}

#[test]
fn metadata_numbers_are_gap_free_per_kind_in_plan_order() {
    let mut snapshot = AppendSnapshot::default();
    snapshot.next_metadata_number.insert(StreamKind::Course, 5);
    let eco = Event {
        data: EventData::from_json_text("{}"),
        ..ev(ecosystem(9), 0, 9, EventType::CreateEcosystem)
    };
    let plan = plan_append(
        &[
            req(vec![
                create_course(course(1), 1, 9),
                ev(course(1), 1, 100, EventType::UpdateRoster),
            ]),
            req(vec![
                create_course(course(2), 2, 9),
                ev(course(2), 0, 3, EventType::NoOp),
            ]),
            req(vec![eco.clone(), create_course(course(3), 3, 8)]),
            req(vec![create_course(course(1), 1, 7)]),
        ],
        &snapshot,
    );
    assert!(plan.outcomes[1].is_err());
    assert_eq!(
        plan.outcomes[3],
        Ok(AppendReceipt {
            stored: 0,
            replayed: 1
        })
    );
    let got: Vec<(StreamId, u64, Option<EcosystemId>)> = plan
        .metadata
        .iter()
        .map(|m| (m.stream, m.metadata_sequence_number, m.initial_ecosystem))
        .collect();
    let eid = |n| Some(EcosystemId::from_uuid(Uuid::from_u128(n)));
    assert_eq!(
        got,
        vec![
            (course(1), 5, eid(9)),
            (ecosystem(9), 0, None),
            (course(3), 6, eid(8))
        ]
    );
}

#[test]
fn create_after_earlier_events_gets_its_number_when_stored() {
    let c = course(1);
    let mut snapshot = AppendSnapshot::default();
    let first = plan_append(
        &[req(vec![ev(c, 1, 11, EventType::UpdateRoster)])],
        &snapshot,
    );
    assert!(first.metadata.is_empty());
    apply(&mut snapshot, &first);
    let plan = plan_append(&[req(vec![create_course(c, 1, 4)])], &snapshot);
    assert_eq!(plan.metadata.len(), 1);
    assert_eq!(plan.metadata[0].metadata_sequence_number, 0);
    assert_eq!(
        plan.heads,
        vec![(
            c,
            StreamHead {
                high_water_mark: 2,
                contiguous_through: Some(seq(1))
            }
        )]
    );
}

#[test]
fn initial_ecosystem_is_parsed_leniently() {
    assert_eq!(initial_ecosystem_of(&EventData::from_json_text("{}")), None);
    assert_eq!(
        initial_ecosystem_of(&EventData::from_json_text(r#"{"ecosystem_uuid":5}"#)),
        None
    );
    assert_eq!(
        initial_ecosystem_of(&EventData::from_json_text(
            r#"{"ecosystem_uuid":"0000000A-0000-0000-0000-000000000000"}"#
        )),
        Some(EcosystemId::from_uuid(Uuid::from_u128(10 << 96)))
    );
}

#[test]
fn snapshot_keys_are_unique_in_first_seen_order() {
    let c = course(1);
    let group = [
        req(vec![
            ev(c, 1, 11, EventType::UpdateRoster),
            ev(c, 1, 11, EventType::UpdateRoster),
        ]),
        req(vec![ev(course(2), 1, 12, EventType::UpdateRoster)]),
    ];
    let keys = AppendSnapshot::keys_of(&group);
    assert_eq!(keys.event_ids.len(), 2);
    assert_eq!(keys.positions, vec![(c, seq(1)), (course(2), seq(1))]);
    assert_eq!(keys.streams, vec![c, course(2)]);
}

#[test]
fn number_after_handles_bounds() {
    assert_eq!(number_after(None), Some(SequenceNumber::ZERO));
    assert_eq!(number_after(Some(seq(4))), Some(seq(5)));
    assert_eq!(number_after(Some(SequenceNumber::MAX)), None);
}

#[path = "append_props.rs"]
mod props;
