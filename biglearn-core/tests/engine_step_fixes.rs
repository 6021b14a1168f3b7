//! S1 fixes at engine level (scheduler.md §6) on the in-memory store:
//! fix 1 (every algorithm's result per assignment is kept) and fix 13 (a
//! course blocked on an unknown preparation is parked, not re-queried).
//! Fixes 10 and 14 are in `engine_step_refit.rs`.

// The helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod projection_support;

use biglearn_core::engine::Engine;
use biglearn_core::engine_store::{
    AlgorithmName, ClueKey, ClueTarget, EngineStore, ExerciseKey, ExerciseTarget,
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

fn key(target: ExerciseTarget, alg: &str) -> ExerciseKey {
    ExerciseKey {
        target,
        algorithm: AlgorithmName::new(alg).unwrap(),
    }
}

fn student_clue(s: u128, b: u128) -> ClueKey {
    ClueKey {
        target: ClueTarget::Student {
            student: student(s),
            book_container: bc(b),
        },
        algorithm: AlgorithmName::new("local_query").unwrap(),
    }
}

#[test]
fn s1_fix_1_every_algorithm_result_per_assignment_is_kept() {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    append_all(
        &store,
        &[
            create_course(1),
            roster(1, &[(1, None)], &[(1, 1)]),
            Asg::new(1, 1).event(2),
            Resp::new(1, 101, 1, 1).event(3),
        ],
    );
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    engine.run_until_idle(&store, day(5), 100).unwrap();
    let pes = ["local_query", "biglearn_sparfa"];
    let spes = [
        "instructor_driven_local_query",
        "student_driven_local_query",
        "instructor_driven_biglearn_sparfa",
        "student_driven_biglearn_sparfa",
    ];
    let all = |store: &MemoryStore| {
        let mut keys: Vec<ExerciseKey> = pes
            .iter()
            .map(|a| key(ExerciseTarget::AssignmentPes(asg(1)), a))
            .collect();
        keys.extend(
            spes.iter()
                .map(|a| key(ExerciseTarget::AssignmentSpes(asg(1)), a)),
        );
        store.exercise_results(&keys).unwrap()
    };
    let first = all(&store);
    assert!(first.iter().all(Option::is_some), "{first:?}");
    // A later response recalculates every algorithm's result, none replaces
    // another's.
    append_all(&store, &[Resp::new(2, 102, 1, 2).event(4)]);
    engine.run_until_idle(&store, day(5), 100).unwrap();
    let second = all(&store);
    for (before, after) in first.iter().zip(&second) {
        let (before, after) = (before.as_ref().unwrap(), after.as_ref().unwrap());
        assert_ne!(before.calculation_uuid, after.calculation_uuid);
    }
    let local = second[0].as_ref().unwrap();
    let sparfa = second[1].as_ref().unwrap();
    assert_ne!(local.ecosystem_matrix_uuid, sparfa.ecosystem_matrix_uuid);
}

#[test]
fn s1_fix_13_a_course_blocked_on_an_unknown_preparation_is_parked() {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0), standard_ecosystem(10)]);
    append_all(
        &store,
        &[
            create_course(1),
            roster(1, &[(1, None)], &[(1, 1)]),
            Asg::new(1, 1).event(2),
            Resp::new(1, 101, 1, 1).event(3),
            // The switch names a preparation the course has not seen.
            update_ecosystem(4, 7),
            Resp::new(2, 102, 1, 2).event(5),
        ],
    );
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    let report = engine.run_until_idle(&store, day(5), 100).unwrap();
    // Every event is applied and committed once: no re-query loop.
    assert_eq!((report.bundles_committed, report.events_applied), (1, 6));
    assert!(engine.step(&store, day(5)).unwrap().is_idle());
    let problems = store.course_problems(course_id(), 10).unwrap();
    assert!(
        problems
            .latest
            .iter()
            .any(|p| p.kind == "unknown_preparation" && p.message.contains("parked")),
        "{problems:?}"
    );
    // Events after the parked switch were processed: CLUEs in eco(1).
    assert!(store.clue_result(&student_clue(1, 1)).unwrap().is_some());
    assert!(store.clue_result(&student_clue(1, 11)).unwrap().is_none());

    // The preparation arrives: the parked switch happens, CLUEs move to
    // eco(2)'s containers and the old rows are retired (fix 4).
    append_all(&store, &[prepare(6, 7, 1, 2, &[(0, 10), (1, 11), (2, 12)])]);
    let report = engine.run_until_idle(&store, day(5), 100).unwrap();
    assert_eq!(report.bundles_committed, 1);
    assert!(store.clue_result(&student_clue(1, 11)).unwrap().is_some());
    assert!(store.clue_result(&student_clue(1, 1)).unwrap().is_none());
    let worst = store
        .exercise_result(&key(
            ExerciseTarget::PracticeWorstAreas(student(1)),
            "local_query",
        ))
        .unwrap();
    assert!(worst.is_some());
}
