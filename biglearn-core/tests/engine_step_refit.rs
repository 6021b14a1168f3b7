//! Background refits (F4) on the in-memory store: course commits feed the
//! real-response counts and the first real responses; an ecosystem is
//! pending when never fitted or when a group reaches floor(1.1·count)+1;
//! a refit saves a deterministic matrix and the courses using it are
//! recalculated by the next step (S1 fixes 10 and 14).

// The helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod projection_support;

use biglearn_core::engine::{Engine, RefitError, StepReport};
use biglearn_core::engine_store::{
    AlgorithmName, ClueKey, ClueTarget, EngineStore, ExerciseKey, ExerciseTarget,
};
use biglearn_core::log::{AppendRequest, BundleLimits, BundleLog, ConsumerName, Event, EventLog};
use biglearn_core::memory::MemoryStore;
use projection_support::*;

fn consumer() -> ConsumerName {
    ConsumerName::new("scheduler").unwrap()
}

fn name(n: &str) -> AlgorithmName {
    AlgorithmName::new(n).unwrap()
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

/// eco(1); a course with period cc(1) (students 1, 2) and one reading each.
fn setup() -> MemoryStore {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    append_all(
        &store,
        &[
            create_course(1),
            roster(1, &[(1, None)], &[(1, 1), (2, 1)]),
            Asg::new(1, 1).event(2),
            Asg::new(2, 2).event(3),
        ],
    );
    store
}

fn run(engine: &mut Engine, store: &MemoryStore, day_n: i64) -> StepReport {
    engine.run_until_idle(store, day(day_n), 100).unwrap()
}

fn sparfa_pe() -> ExerciseKey {
    ExerciseKey {
        target: ExerciseTarget::AssignmentPes(asg(1)),
        algorithm: name("biglearn_sparfa"),
    }
}

fn sparfa_clue() -> ClueKey {
    ClueKey {
        target: ClueTarget::Student {
            student: student(1),
            book_container: bc(1),
        },
        algorithm: name("biglearn_sparfa"),
    }
}

#[test]
fn s1_fix_14_only_real_responses_count_once_per_trial_and_feed_the_fit() {
    let store = setup();
    let mut practice = Resp::new(3, 102, 1, 2);
    practice.real = false;
    let mut changed = Resp::new(4, 101, 1, 1);
    changed.correct = false;
    changed.day = 3;
    append_all(
        &store,
        &[
            Resp::new(1, 101, 1, 1).event(4),
            practice.event(5),
            // Another answer to trial 101: still one trial of group 1.
            changed.event(6),
            Resp::new(2, 201, 2, 1).event(7),
        ],
    );
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    run(&mut engine, &store, 5);
    assert_eq!(
        store.group_counts(&[grp(1), grp(2), grp(3)]).unwrap(),
        vec![2, 0, 0]
    );
    let rows = store.fit_responses(eco(1)).unwrap();
    let cells: Vec<_> = rows
        .iter()
        .map(|r| (r.student, r.exercise, r.is_correct, r.response))
        .collect();
    // The first real answer per (student, exercise) is kept, not the later one.
    assert_eq!(
        cells,
        vec![
            (student(1), ex(1), true, resp(1)),
            (student(2), ex(1), true, resp(2)),
        ]
    );
}

#[test]
fn a_redelivered_bundle_counts_nothing_twice() {
    let store = setup();
    append_all(&store, &[Resp::new(1, 101, 1, 1).event(4)]);
    let bundles = store
        .next_bundles(&consumer(), BundleLimits::default())
        .unwrap();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    engine.step(&store, day(5)).unwrap();
    let mut report = StepReport::default();
    let mut other = Engine::new(consumer(), BundleLimits::default());
    for bundle in &bundles {
        other
            .process_bundle(&store, bundle, day(5), &mut report)
            .unwrap();
    }
    assert_eq!(report.bundles_stale, 1);
    assert_eq!(store.group_counts(&[grp(1)]).unwrap(), vec![1]);
    assert_eq!(store.fit_responses(eco(1)).unwrap().len(), 1);
}

#[test]
fn pending_refits_follow_the_group_thresholds() {
    let store = setup();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    run(&mut engine, &store, 5);
    // Never fitted: every group starts triggered (§1.3).
    assert_eq!(engine.pending_refits(&store).unwrap(), vec![eco(1)]);
    let report = engine.refit(&store, eco(1), day(5)).unwrap();
    assert_eq!((report.responses, report.questions), (0, 6));
    assert!(engine.pending_refits(&store).unwrap().is_empty());
    // Count 0 → threshold 1: the first real response triggers again.
    append_all(&store, &[Resp::new(1, 101, 1, 1).event(4)]);
    run(&mut engine, &store, 5);
    assert_eq!(engine.pending_refits(&store).unwrap(), vec![eco(1)]);
    engine.refit(&store, eco(1), day(5)).unwrap();
    assert!(engine.pending_refits(&store).unwrap().is_empty());
    // Count 1 → threshold floor(1.1)+1 = 2: one more trial of group 1.
    append_all(&store, &[Resp::new(2, 201, 2, 1).event(5)]);
    run(&mut engine, &store, 5);
    assert_eq!(engine.pending_refits(&store).unwrap(), vec![eco(1)]);
    let report = engine.refit(&store, eco(1), day(5)).unwrap();
    assert_eq!((report.responses, report.learners), (2, 2));
}

#[test]
fn refitting_the_same_data_gives_the_same_matrix() {
    let build = || {
        let store = setup();
        append_all(
            &store,
            &[
                Resp::new(1, 101, 1, 1).event(4),
                Resp::new(2, 102, 1, 2).event(5),
            ],
        );
        let mut engine = Engine::new(consumer(), BundleLimits::default());
        run(&mut engine, &store, 5);
        let report = engine.refit(&store, eco(1), day(5)).unwrap();
        (store, report)
    };
    let (one, a) = build();
    let (two, b) = build();
    assert_eq!(a.matrix_uuid, b.matrix_uuid);
    assert_eq!(one.matrix(eco(1)).unwrap(), two.matrix(eco(1)).unwrap());
    assert!(a.converged, "{a:?}");
}

#[test]
fn refitting_an_unknown_ecosystem_is_an_error() {
    let store = setup();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    run(&mut engine, &store, 5);
    let error = engine.refit(&store, eco(7), day(5)).unwrap_err();
    assert!(
        matches!(error, RefitError::UnknownEcosystem { .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&eco(7).to_string()), "{error}");
}

#[test]
fn s1_fix_10_a_new_matrix_recalculates_clues_and_exercises() {
    let store = setup();
    append_all(
        &store,
        &[
            Resp::new(1, 101, 1, 1).event(4),
            Resp::new(2, 102, 1, 2).event(5),
        ],
    );
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    run(&mut engine, &store, 20);
    let before_pe = store.exercise_result(&sparfa_pe()).unwrap().unwrap();
    let before_clue = store.clue_result(&sparfa_clue()).unwrap().unwrap();
    assert_eq!(before_clue.ecosystem_matrix_uuid, None);
    let local_clue = ClueKey {
        algorithm: name("local_query"),
        ..sparfa_clue()
    };
    let local_worst = ExerciseKey {
        target: ExerciseTarget::PracticeWorstAreas(student(1)),
        algorithm: name("local_query"),
    };
    let before_local_clue = store.clue_result(&local_clue).unwrap().unwrap();
    let before_local_worst = store.exercise_result(&local_worst).unwrap().unwrap();

    let report = engine.refit(&store, eco(1), day(20)).unwrap();
    assert_eq!(report.courses_woken, 1);
    // Nothing is recalculated until the next step …
    assert_eq!(
        store.exercise_result(&sparfa_pe()).unwrap().unwrap(),
        before_pe
    );
    // … which recalculates the course with the new matrix, with no new event.
    let step = run(&mut engine, &store, 20);
    assert_eq!(step.bundles_committed, 0);
    assert_eq!(step.courses_recalculated, 1);
    let pe = store.exercise_result(&sparfa_pe()).unwrap().unwrap();
    assert_eq!(pe.ecosystem_matrix_uuid, report.matrix_uuid);
    assert_ne!(pe.calculation_uuid, before_pe.calculation_uuid);
    let clue = store.clue_result(&sparfa_clue()).unwrap().unwrap();
    assert_eq!(clue.ecosystem_matrix_uuid, Some(report.matrix_uuid));
    let worst = ExerciseKey {
        target: ExerciseTarget::PracticeWorstAreas(student(1)),
        algorithm: name("biglearn_sparfa"),
    };
    assert_eq!(
        store
            .exercise_result(&worst)
            .unwrap()
            .unwrap()
            .ecosystem_matrix_uuid,
        report.matrix_uuid
    );
    // local_query reads no matrix: its CLUEs and worst areas stay as they
    // were (an assignment's rows are all recalculated: its SPEs avoid the
    // PEs of every algorithm).
    assert_eq!(
        store.clue_result(&local_clue).unwrap(),
        Some(before_local_clue)
    );
    assert_eq!(
        store.exercise_result(&local_worst).unwrap(),
        Some(before_local_worst)
    );
    // The wake-up is consumed: the next step is idle.
    assert!(run(&mut engine, &store, 20).is_idle());
}

#[test]
fn s1_fix_10_a_fresh_engine_also_sees_the_new_matrix() {
    let store = setup();
    append_all(&store, &[Resp::new(1, 101, 1, 1).event(4)]);
    run(
        &mut Engine::new(consumer(), BundleLimits::default()),
        &store,
        20,
    );
    let report = Engine::new(consumer(), BundleLimits::default())
        .refit(&store, eco(1), day(20))
        .unwrap();
    let step = run(
        &mut Engine::new(consumer(), BundleLimits::default()),
        &store,
        20,
    );
    assert_eq!(step.courses_recalculated, 1);
    let pe = store.exercise_result(&sparfa_pe()).unwrap().unwrap();
    assert_eq!(pe.ecosystem_matrix_uuid, report.matrix_uuid);
}
