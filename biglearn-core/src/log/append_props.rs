//! Property test of `plan_append`: random groups against a straightforward
//! model of what must be stored.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;

use super::*;

fn arb_event() -> impl Strategy<Value = Event> {
    (0u128..3, 0u64..6, 0u128..12, 0usize..3).prop_map(|(stream, number, id, t)| {
        let event_type = [
            EventType::RecordResponse,
            EventType::UpdateRoster,
            EventType::CreateCourse,
        ][t];
        let number = if event_type.is_create() { 0 } else { number };
        if event_type.is_create() {
            create_course(course(stream), id, 50 + stream)
        } else {
            ev(course(stream), number, id, event_type)
        }
    })
}

fn arb_groups() -> impl Strategy<Value = Vec<Vec<AppendRequest>>> {
    let request = prop::collection::vec(arb_event(), 1..4).prop_map(req);
    prop::collection::vec(prop::collection::vec(request, 1..5), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_groups_keep_invariants(groups in arb_groups()) {
        let mut snapshot = AppendSnapshot::default();
        // The model: stored events by id, checked independently of plan_append.
        let mut stored: BTreeMap<EventId, Event> = BTreeMap::new();
        let mut metadata_count = 0u64;
        for group in groups {
            let plan = plan_append(&group, &snapshot);
            prop_assert_eq!(plan.outcomes.len(), group.len());
            let inserted: HashSet<EventId> = plan.inserts.iter().map(|e| e.event_id).collect();
            prop_assert_eq!(inserted.len(), plan.inserts.len());
            for e in &plan.inserts {
                let from_accepted = group.iter().zip(&plan.outcomes).any(|(r, o)| o.is_ok() && r.events.contains(e));
                prop_assert!(from_accepted, "inserted event not from an accepted request");
            }
            for (request, outcome) in group.iter().zip(&plan.outcomes) {
                if let Ok(receipt) = outcome {
                    prop_assert_eq!(receipt.stored + receipt.replayed, request.events.len());
                }
            }
            for e in &plan.inserts {
                prop_assert!(!stored.contains_key(&e.event_id));
                let clash = stored.values().any(|s| s.stream == e.stream && s.sequence_number == e.sequence_number);
                prop_assert!(!clash, "position stored twice");
            }
            let before = stored.len();
            for e in &plan.inserts {
                stored.insert(e.event_id, e.clone());
            }
            prop_assert_eq!(stored.len(), before + plan.inserts.len());
            for m in &plan.metadata {
                prop_assert_eq!(m.metadata_sequence_number, metadata_count);
                metadata_count += 1;
            }
            let creates = stored.values().filter(|e| e.event_type.is_create()).count() as u64;
            prop_assert_eq!(creates, metadata_count);
            apply(&mut snapshot, &plan);
            // Against the final state, accepted requests are pure replays and
            // rejected ones are still rejected (state only grows).
            for (request, outcome) in group.iter().zip(&plan.outcomes) {
                let again = plan_append(std::slice::from_ref(request), &snapshot);
                match outcome {
                    Ok(_) => prop_assert_eq!(
                        &again.outcomes[0],
                        &Ok(AppendReceipt { stored: 0, replayed: request.events.len() })
                    ),
                    Err(_) => prop_assert!(again.outcomes[0].is_err(), "rejection not justified"),
                }
            }
            for (stream, head) in &snapshot.heads {
                let numbers: std::collections::BTreeSet<u64> = stored
                    .values()
                    .filter(|e| e.stream == *stream)
                    .map(|e| e.sequence_number.get())
                    .collect();
                let hwm = numbers.iter().max().map_or(0, |m| m + 1);
                prop_assert_eq!(head.high_water_mark, hwm);
                let mut contiguous = None;
                while numbers.contains(&contiguous.map_or(0, |c: u64| c + 1)) {
                    contiguous = Some(contiguous.map_or(0, |c| c + 1));
                }
                prop_assert_eq!(head.contiguous_through.map(|c| c.get()), contiguous);
            }
        }
    }
}
