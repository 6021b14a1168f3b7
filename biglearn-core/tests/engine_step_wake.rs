//! Time-driven recalculation on the in-memory store: student CLUEs hide
//! feedback-pending answers and are recalculated when the feedback date
//! passes, without a new event; anti-cheating exclusions change when an
//! assignment becomes due; the result depends only on the events and `now`
//! (a recalculation at a wake-up carries a new calculation uuid, which seeds
//! the local_query order, so orders may differ from a late one-pass run).

// The helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod projection_support;

use biglearn_core::engine::{Engine, StepReport};
use biglearn_core::engine_store::{
    AlgorithmName, ClueKey, ClueResult, ClueTarget, EngineStore, ExerciseKey, ExerciseTarget,
};
use biglearn_core::log::{AppendRequest, BundleLimits, ConsumerName, Event, EventLog};
use biglearn_core::memory::MemoryStore;
use projection_support::*;

fn consumer() -> ConsumerName {
    ConsumerName::new("scheduler").unwrap()
}

fn append_all(store: &MemoryStore, events: &[Event]) {
    for event in events {
        store
            .append(&AppendRequest {
                events: vec![event.clone()],
            })
            .unwrap();
    }
}

/// Student 1's reading on page bc(1) with three trials (ex 1–3), due day 10,
/// feedback day 20, all answered correctly on day 2.
fn events() -> Vec<Event> {
    let mut reading = Asg::new(1, 1);
    reading.feedback = Some(20);
    reading.trials = vec![
        (101, 1, false, false),
        (102, 2, false, false),
        (103, 3, false, false),
    ];
    vec![
        create_course(1),
        roster(1, &[(1, None)], &[(1, 1), (2, 1)]),
        reading.event(2),
        Asg::new(2, 2).event(3),
        Resp::new(1, 101, 1, 1).event(4),
        Resp::new(2, 102, 1, 2).event(5),
        Resp::new(3, 103, 1, 3).event(6),
    ]
}

fn store() -> MemoryStore {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    append_all(&store, &events());
    store
}

fn student_clue(alg: &str) -> ClueKey {
    ClueKey {
        target: ClueTarget::Student {
            student: student(1),
            book_container: bc(1),
        },
        algorithm: AlgorithmName::new(alg).unwrap(),
    }
}

fn teacher_clue() -> ClueKey {
    ClueKey {
        target: ClueTarget::Teacher {
            course_container: cc(1),
            book_container: bc(1),
        },
        algorithm: AlgorithmName::new("local_query").unwrap(),
    }
}

fn clue(store: &MemoryStore, key: &ClueKey) -> ClueResult {
    store.clue_result(key).unwrap().unwrap()
}

fn run(engine: &mut Engine, store: &MemoryStore, day_n: i64) -> StepReport {
    engine.run_until_idle(store, day(day_n), 100).unwrap()
}

#[test]
fn feedback_passing_recalculates_the_student_clue() {
    let store = store();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    run(&mut engine, &store, 5);
    // Feedback pending: the student CLUE does not use the three answers …
    let hidden = clue(&store, &student_clue("local_query"));
    assert!(!hidden.clue_data.is_real, "{hidden:?}");
    // … the teacher CLUE does.
    assert!(clue(&store, &teacher_clue()).clue_data.is_real);
    let schedule = store
        .course_schedule(&consumer(), course_id())
        .unwrap()
        .unwrap();
    assert_eq!(schedule.wake_at, Some(day(10)), "the due date comes first");
    assert_eq!(schedule.ecosystems, vec![eco(1)]);

    // Nothing is due before the wake-up.
    assert!(run(&mut engine, &store, 9).is_idle());
    // Day 10: due, but feedback is still pending; the course wakes and
    // waits for day 20.
    let report = run(&mut engine, &store, 12);
    assert_eq!(report.courses_recalculated, 1);
    assert!(!clue(&store, &student_clue("local_query")).clue_data.is_real);
    let schedule = store
        .course_schedule(&consumer(), course_id())
        .unwrap()
        .unwrap();
    assert_eq!(schedule.wake_at, Some(day(20)));

    let report = run(&mut engine, &store, 21);
    assert_eq!(
        (report.bundles_committed, report.courses_recalculated),
        (0, 1)
    );
    let visible = clue(&store, &student_clue("local_query"));
    assert!(visible.clue_data.is_real, "{visible:?}");
    assert!((visible.clue_data.most_likely - 0.933226).abs() < 1e-6);
    assert_ne!(visible.calculation_uuid, hidden.calculation_uuid);
    let schedule = store
        .course_schedule(&consumer(), course_id())
        .unwrap()
        .unwrap();
    assert_eq!(schedule.wake_at, None, "no date left");
    assert!(run(&mut engine, &store, 30).is_idle());
}

#[test]
fn results_depend_only_on_events_and_now() {
    // Stepping through the dates, or processing everything late, gives the
    // same CLUEs and exercise lists (calculation uuids aside).
    let stepped = store();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    for d in [5, 12, 21] {
        run(&mut engine, &stepped, d);
    }
    let late = store();
    run(
        &mut Engine::new(consumer(), BundleLimits::default()),
        &late,
        21,
    );
    for key in [
        student_clue("local_query"),
        student_clue("biglearn_sparfa"),
        teacher_clue(),
    ] {
        assert_eq!(
            clue(&stepped, &key).clue_data,
            clue(&late, &key).clue_data,
            "{key:?}"
        );
    }
    for target in [
        ExerciseTarget::AssignmentPes(asg(2)),
        ExerciseTarget::AssignmentSpes(asg(2)),
        ExerciseTarget::PracticeWorstAreas(student(1)),
    ] {
        for alg in ["local_query", "student_driven_local_query"] {
            let key = ExerciseKey {
                target,
                algorithm: AlgorithmName::new(alg).unwrap(),
            };
            let a = stepped.exercise_result(&key).unwrap();
            let b = late.exercise_result(&key).unwrap();
            assert_eq!(
                a.map(|r| r.exercise_uuids),
                b.map(|r| r.exercise_uuids),
                "{key:?}"
            );
        }
    }
}

#[test]
fn a_due_date_passing_lifts_anti_cheating_exclusions() {
    // Student 1 has homework 3 on page bc(2) issuing ex 4, due day 10, and
    // homework 4 on the same page issuing ex 5, due day 30, which needs PEs
    // from the page's homework pool (ex 4–6): while homework 3 is open its
    // exercise is excluded (§2.2); once it is due, it is allowed.
    let homework = |id: u128, exercise: u128, due: i64, goal: u32| {
        let mut a = Asg::new(id, 1);
        a.kind = "homework";
        a.bcs = vec![2];
        a.trials = vec![(id * 100 + 1, exercise, false, false)];
        a.due = Some(due);
        a.goal_pes = Some(goal);
        a.goal_spes = Some(0);
        a
    };
    let events = vec![
        create_course(1),
        roster(1, &[(1, None)], &[(1, 1)]),
        homework(3, 4, 10, 0).event(2),
        homework(4, 5, 30, 3).event(3),
    ];
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    append_all(&store, &events);
    let key = ExerciseKey {
        target: ExerciseTarget::AssignmentPes(asg(4)),
        algorithm: AlgorithmName::new("local_query").unwrap(),
    };
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    run(&mut engine, &store, 5);
    let open = store.exercise_result(&key).unwrap().unwrap();
    assert_eq!(open.exercise_uuids, vec![ex(6)]);
    let report = run(&mut engine, &store, 11);
    assert_eq!(report.courses_recalculated, 1);
    let due = store.exercise_result(&key).unwrap().unwrap();
    assert_ne!(due.calculation_uuid, open.calculation_uuid);
    let mut allowed = due.exercise_uuids.clone();
    allowed.sort();
    assert_eq!(allowed, vec![ex(4), ex(6)]);
    // Processing everything at day 11 at once allows the same exercises
    // (the order is seeded by the calculation uuid, which differs).
    let mut late = run_late(&events, &key);
    late.sort();
    assert_eq!(allowed, late);
}

/// The exercise list of `key` when `events` are processed at day 11 at once.
fn run_late(events: &[Event], key: &ExerciseKey) -> Vec<biglearn_core::ids::ExerciseId> {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    append_all(&store, events);
    run(
        &mut Engine::new(consumer(), BundleLimits::default()),
        &store,
        11,
    );
    store.exercise_result(key).unwrap().unwrap().exercise_uuids
}

#[test]
fn course_states_are_stored_as_parts_and_whole_states_of_earlier_versions_still_read() {
    use biglearn_core::engine::parts::PARTS_VERSION;
    use biglearn_core::engine::EngineCourseState;
    use biglearn_core::engine_store::{CourseSnapshot, PartKey, StateBlob};
    use biglearn_core::projection::{encode_state, STATE_VERSION};
    let store = store();
    run(
        &mut Engine::new(consumer(), BundleLimits::default()),
        &store,
        5,
    );
    let snapshot = store
        .course_state(&consumer(), course_id())
        .unwrap()
        .unwrap();
    assert_eq!(snapshot.head.format_version, PARTS_VERSION);
    assert!(snapshot
        .parts
        .iter()
        .all(|p| p.blob.format_version == PARTS_VERSION));
    let keys: Vec<PartKey> = snapshot.parts.iter().map(|p| p.key).collect();
    assert!(keys.contains(&PartKey::Course) && keys.contains(&PartKey::Roster));
    assert!(keys.iter().any(|k| matches!(k, PartKey::Assignment(_))));
    assert!(keys.iter().any(|k| matches!(k, PartKey::Student(_))));
    let state = EngineCourseState::from_snapshot(course_id(), &snapshot).unwrap();
    assert_eq!(state.clock, Some(day(5)));
    // Earlier versions stored the whole state as one blob, binary or JSON.
    for legacy in [state.encode().unwrap(), encode_state(&state).unwrap()] {
        let old = CourseSnapshot {
            through: snapshot.through,
            head: StateBlob {
                format_version: STATE_VERSION,
                bytes: legacy.clone(),
            },
            parts: Vec::new(),
        };
        assert_eq!(
            EngineCourseState::from_snapshot(course_id(), &old).unwrap(),
            state
        );
        let mut truncated = old.clone();
        truncated.head.bytes.truncate(6);
        assert!(EngineCourseState::from_snapshot(course_id(), &truncated).is_err());
    }
    // A part that is not valid is an error naming the problem, not a panic.
    let mut broken = snapshot.clone();
    broken.parts[0].blob.bytes.truncate(5);
    let error = EngineCourseState::from_snapshot(course_id(), &broken).unwrap_err();
    assert!(error.to_string().contains("binary"), "{error}");
}

/// A course an earlier version stored as one blob is split into parts by
/// its next commit, with the same results as a course that never was.
#[test]
fn a_whole_state_of_an_earlier_version_is_split_at_the_next_commit() {
    use biglearn_core::engine::EngineCourseState;
    use biglearn_core::engine_store::{CourseCommit, PartWrite, StateBlob};
    use biglearn_core::projection::STATE_VERSION;
    let control = store();
    let legacy = store();
    for s in [&control, &legacy] {
        run(&mut Engine::new(consumer(), BundleLimits::default()), s, 5);
    }
    // Rewrite the legacy store's course as an earlier version left it.
    let snapshot = legacy
        .course_state(&consumer(), course_id())
        .unwrap()
        .unwrap();
    let state = EngineCourseState::from_snapshot(course_id(), &snapshot).unwrap();
    let old = CourseCommit {
        consumer: consumer(),
        course: course_id(),
        through: snapshot.through,
        state: StateBlob {
            format_version: STATE_VERSION,
            bytes: state.encode().unwrap(),
        },
        parts: snapshot
            .parts
            .iter()
            .map(|p| PartWrite {
                key: p.key,
                blob: None,
            })
            .collect(),
        writes: Vec::new(),
        problems: Vec::new(),
    };
    legacy
        .commit_course_recalc(&old, &Default::default())
        .unwrap();
    let stored = legacy
        .course_state(&consumer(), course_id())
        .unwrap()
        .unwrap();
    assert!(stored.parts.is_empty());
    // Feedback passes at day 12: both recalculate with fresh engines.
    for s in [&control, &legacy] {
        let report = run(&mut Engine::new(consumer(), BundleLimits::default()), s, 12);
        assert_eq!(report.courses_recalculated, 1);
    }
    for key in [
        student_clue("local_query"),
        student_clue("biglearn_sparfa"),
        teacher_clue(),
    ] {
        assert_eq!(clue(&legacy, &key), clue(&control, &key), "{key:?}");
    }
    let split = legacy
        .course_state(&consumer(), course_id())
        .unwrap()
        .unwrap();
    let reference = control
        .course_state(&consumer(), course_id())
        .unwrap()
        .unwrap();
    assert_eq!(split, reference, "split into the same parts");
}
