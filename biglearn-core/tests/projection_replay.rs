//! Replay idempotency and serde round-trips of projected state: random
//! course event sequences applied once, twice, and across a serialized
//! snapshot give identical states and identical dirty markers.

mod projection_support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use biglearn_core::ids::EcosystemId;
use biglearn_core::log::{Event, EventData};
use biglearn_core::projection::{
    decode_state, encode_state, CourseChanges, CourseState, EcosystemState,
};
use projection_support::*;
use proptest::prelude::*;

fn shared_catalog() -> &'static BTreeMap<EcosystemId, EcosystemState> {
    static CATALOG: OnceLock<BTreeMap<EcosystemId, EcosystemState>> = OnceLock::new();
    CATALOG.get_or_init(catalog)
}

/// One random course event (sequence numbers are given when building).
#[derive(Debug, Clone)]
enum Action {
    Roster(Vec<(u128, u128)>, bool),
    Assignment {
        id: u128,
        student: u128,
        eco: u128,
        due: Option<i64>,
        feedback: Option<i64>,
        trials: Vec<u128>,
        pes_assigned: bool,
        deleted: bool,
    },
    Response {
        id: u128,
        trial: u128,
        student: u128,
        exercise: u128,
        eco: u128,
        correct: bool,
        real: bool,
        day: i64,
    },
    Exclusions(bool, Vec<u128>, Vec<u128>),
    Prepare(u128, u128, u128),
    Update(u128),
    Dates(i64),
    Garbage,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (
            prop::collection::vec((1u128..=4, 1u128..=3), 0..4),
            any::<bool>()
        )
            .prop_map(|(s, nested)| Action::Roster(s, nested)),
        (
            1u128..=4,
            1u128..=3,
            1u128..=2,
            prop::option::of(0i64..20),
            prop::option::of(0i64..20),
            prop::collection::vec(1u128..=3, 0..3),
            any::<bool>(),
            prop::bool::weighted(0.1),
        )
            .prop_map(
                |(id, student, eco, due, feedback, trials, pes_assigned, deleted)| {
                    Action::Assignment {
                        id,
                        student,
                        eco,
                        due,
                        feedback,
                        trials,
                        pes_assigned,
                        deleted,
                    }
                }
            ),
        (
            1u128..=6,
            prop::sample::select(vec![101u128, 102, 201, 202, 301, 401, 999]),
            1u128..=3,
            1u128..=6,
            1u128..=2,
            any::<bool>(),
            prop::bool::weighted(0.8),
            0i64..20,
        )
            .prop_map(|(id, trial, student, exercise, eco, correct, real, day)| {
                Action::Response {
                    id,
                    trial,
                    student,
                    exercise,
                    eco,
                    correct,
                    real,
                    day,
                }
            }),
        (
            any::<bool>(),
            prop::collection::vec(1u128..=6, 0..3),
            prop::collection::vec(1u128..=6, 0..2)
        )
            .prop_map(|(g, e, gr)| Action::Exclusions(g, e, gr)),
        (1u128..=3, 1u128..=2, 1u128..=2).prop_map(|(p, f, t)| Action::Prepare(p, f, t)),
        (1u128..=3).prop_map(Action::Update),
        (0i64..100).prop_map(Action::Dates),
        Just(Action::Garbage),
    ]
}

fn build(actions: &[Action]) -> Vec<Event> {
    let mut events = vec![create_course(1)];
    for (seq, action) in (1u64..).zip(actions) {
        let event = match action {
            Action::Roster(students, nested) => {
                let containers: &[(u128, Option<u128>)] = if *nested {
                    &[(1, None), (2, Some(1)), (3, None)]
                } else {
                    &[(1, None), (3, None)]
                };
                roster(seq, containers, students)
            }
            Action::Assignment {
                id,
                student,
                eco,
                due,
                feedback,
                trials,
                pes_assigned,
                deleted,
            } => {
                let mut a = Asg::new(*id, *student);
                a.eco = *eco;
                a.bcs = vec![(eco - 1) * 10 + 1];
                a.due = *due;
                a.feedback = *feedback;
                a.trials = trials
                    .iter()
                    .map(|k| (id * 100 + k, (eco - 1) * 10 + k, *k == 3, false))
                    .collect();
                a.pes_assigned = *pes_assigned;
                a.deleted = *deleted;
                a.event(seq)
            }
            Action::Response {
                id,
                trial,
                student,
                exercise,
                eco,
                correct,
                real,
                day,
            } => Resp {
                id: *id * 1000 + u128::from(seq),
                trial: *trial,
                student: *student,
                exercise: (eco - 1) * 10 + exercise,
                eco: *eco,
                correct: *correct,
                real: *real,
                day: *day,
            }
            .event(seq),
            Action::Exclusions(global, exercises, groups) => {
                exclusions(seq, *global, exercises, groups)
            }
            Action::Prepare(p, from, to) => {
                prepare(seq, *p, *from, *to, &[(0, 10), (1, 11), (2, 12)])
            }
            Action::Update(p) => update_ecosystem(seq, *p),
            Action::Dates(d) => active_dates(seq, *d, d + 100),
            Action::Garbage => {
                let mut event = active_dates(seq, 0, 1);
                event.data = EventData::from_json_text("[]");
                event
            }
        };
        events.push(event);
    }
    events
}

fn apply(state: &mut CourseState, events: &[Event]) -> CourseChanges {
    state.apply_all(events, shared_catalog())
}

fn round_trip(state: &CourseState) -> CourseState {
    decode_state(&encode_state(state).expect("encodes")).expect("decodes")
}

/// Cross-references that every state must keep.
fn check_invariants(state: &CourseState) -> Result<(), TestCaseError> {
    for node in state.containers.values() {
        for s in &node.students {
            prop_assert!(
                state.students.contains_key(s),
                "container lists unknown student {s}"
            );
        }
    }
    for (trial, t) in &state.trials {
        prop_assert!(
            state.assignments.contains_key(&t.assignment),
            "trial {trial} dangling"
        );
    }
    for (student, ids) in &state.assignments_by_student {
        for id in ids {
            prop_assert_eq!(state.assignments[id].student, *student);
        }
    }
    prop_assert_eq!(
        state
            .assignments_by_student
            .values()
            .map(|s| s.len())
            .sum::<usize>(),
        state.assignments.len()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn replay_from_a_snapshot_gives_the_same_state(
        actions in prop::collection::vec(action(), 0..40),
        split in 0usize..41,
    ) {
        let events = build(&actions);
        let mut full = CourseState::new(course_id());
        let all_changes = apply(&mut full, &events);
        check_invariants(&full)?;

        // Applying everything again is a no-op.
        let mut twice = full.clone();
        let again = apply(&mut twice, &events);
        prop_assert!(!again.applied && again.is_empty());
        prop_assert_eq!(&twice, &full);

        // Snapshot after a prefix, serialize, restore, re-apply everything.
        let split = split.min(events.len());
        let mut partial = CourseState::new(course_id());
        let mut changes = apply(&mut partial, &events[..split]);
        let mut restored = round_trip(&partial);
        prop_assert_eq!(&restored, &partial);
        changes.merge(apply(&mut restored, &events));
        prop_assert_eq!(&restored, &full);
        prop_assert_eq!(changes, all_changes);
        prop_assert_eq!(round_trip(&full), full);
    }
}

#[test]
fn course_state_serde_round_trip_keeps_everything() {
    let actions = vec![
        Action::Roster(vec![(1, 2), (2, 1)], true),
        Action::Assignment {
            id: 1,
            student: 1,
            eco: 1,
            due: Some(5),
            feedback: Some(8),
            trials: vec![1, 2, 3],
            pes_assigned: false,
            deleted: false,
        },
        Action::Response {
            id: 1,
            trial: 101,
            student: 1,
            exercise: 1,
            eco: 1,
            correct: true,
            real: true,
            day: 2,
        },
        Action::Exclusions(true, vec![2], vec![3]),
        Action::Prepare(1, 1, 2),
        Action::Update(2),
        Action::Garbage,
    ];
    let mut state = CourseState::new(course_id());
    apply(&mut state, &build(&actions));
    assert!(!state.problems.is_empty());
    assert!(state.parked.is_some());
    assert!(!state.mappings.is_empty());
    let text = serde_json::to_string(&state).expect("serializes");
    let back: CourseState = serde_json::from_str(&text).expect("deserializes");
    assert_eq!(back, state);
    assert_eq!(round_trip(&state), state);
}

#[test]
fn ecosystem_state_serde_round_trip() {
    for state in shared_catalog().values() {
        let blob = encode_state(state).expect("encodes");
        let back: EcosystemState = decode_state(&blob).expect("decodes");
        assert_eq!(&back, state);
    }
}
