//! S1 fixes 1 and 13 through the engine, and the bad-data acceptance of
//! issue 4: unknown ecosystem in an assignment, exercise not in the
//! ecosystem and a roster naming an unknown container never abort a bundle;
//! the event applies as far as it is valid, the problem is recorded and
//! readable, and the other events of the bundle give the same results as
//! in a clean run.

// Test helpers: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod engine_support;
mod projection_support;

use biglearn_core::engine_store::{EngineStore, ExerciseResult, ExternalUpdate, SpyInfo};
use biglearn_core::ids::{CalculationId, EcosystemMatrixId, RequestId};
use biglearn_core::log::{BundleLog, Event, SequenceNumber};
use biglearn_core::memory::MemoryStore;
use engine_support::*;
use projection_support::*;
use uuid::Uuid;

fn seq(n: u64) -> SequenceNumber {
    SequenceNumber::new(n).unwrap()
}

/// S1 fix 1: one bundle holding two assignments of the same student (the
/// original kept one algorithm's rows per assignment and cleared both):
/// every (assignment, algorithm) result is stored, and a result pushed by
/// an external algorithm for the same assignment survives the engine's
/// later recalculations.
#[test]
fn s1_fix_1_every_algorithm_keeps_its_own_results_per_assignment() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    let mut second = Asg::new(2, 1);
    second.trials = vec![(201, 3, false, false)];
    events.push(second.event(3));
    let store = store_with(false, &events);
    let report = run(&store);
    assert_eq!(report.bundles_committed, 1, "one bundle");
    for a in [1, 2] {
        for n in ALGORITHMS {
            let row = pes(&store, a, n).expect("PEs of every algorithm");
            assert_eq!(row.spy_info.0["exercise_algorithm_name"], n);
        }
        for n in SPE_ALGORITHMS {
            assert!(spes(&store, a, n).is_some(), "assignment {a} {n}");
        }
    }
    let external = ExerciseResult {
        calculation_uuid: CalculationId::from_uuid(Uuid::from_u128(0xe1)),
        ecosystem_matrix_uuid: EcosystemMatrixId::from_uuid(Uuid::from_u128(0xe2)),
        exercise_uuids: vec![ex(3)],
        spy_info: SpyInfo::default(),
    };
    store
        .upsert_external(&[ExternalUpdate::Exercise {
            request_uuid: RequestId::from_uuid(Uuid::from_u128(0xe3)),
            key: pes_key(1, "external_alg"),
            result: external.clone(),
        }])
        .unwrap();
    append_all(&store, &[Resp::new(1, 101, 1, 1).event(4)]);
    run(&store);
    assert_eq!(pes(&store, 1, "external_alg"), Some(external));
    for n in ALGORITHMS {
        let expected = biglearn_core::engine::recalc::calculation_id(
            "assignment_exercises",
            course_id(),
            &[asg(1).into()],
            seq(4),
        );
        assert_eq!(pes(&store, 1, n).unwrap().calculation_uuid, expected, "{n}");
    }
}

/// S1 fix 13 through the engine: a switch waiting for an unknown
/// preparation does not make the course loop: later steps are idle and the
/// problem is recorded once; later events of the course keep applying; the
/// switch happens (with its re-mapped CLUEs) when the preparation arrives.
#[test]
fn s1_fix_13_a_parked_course_is_idle_until_its_preparation_arrives() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(update_ecosystem(3, 1));
    events.push(Resp::new(1, 101, 1, 1).event(4));
    let store = store_with(true, &events);
    run(&store);
    let state = course_state(&store);
    assert_eq!(state.course.current_ecosystem, Some(eco(1)));
    assert_eq!(
        state.course.parked.as_ref().map(|p| p.sequence_number),
        Some(seq(3))
    );
    assert!(
        student_clue(&store, 1, 1, "local_query").is_some(),
        "later events apply"
    );
    for _ in 0..3 {
        assert!(run(&store).is_idle(), "a parked course is not re-queried");
    }
    let kinds = problem_kinds(&store);
    assert_eq!(kinds, vec!["unknown_preparation".to_owned()]);

    append_all(&store, &[prepare(5, 1, 1, 2, &[(0, 10), (1, 11), (2, 12)])]);
    run(&store);
    let state = course_state(&store);
    assert_eq!(state.course.current_ecosystem, Some(eco(2)));
    assert_eq!(state.course.parked, None);
    for n in ALGORITHMS {
        assert!(student_clue(&store, 1, 11, n).is_some(), "{n}");
        assert_eq!(student_clue(&store, 1, 1, n), None, "{n}");
    }
}

/// S1 fix 11: on prepare_course_ecosystem the engine precomputes the
/// prepared ecosystem's re-mapped CLUE rows, so they are served before the
/// switch, while the course stays on (and keeps serving) its current
/// ecosystem; the switch then finds them ready. (The server derives
/// `updated_and_ready` from the engine's watermark having passed the
/// preparation, tested in the server's readiness tests; here the rows.)
#[test]
fn s1_fix_11_prepare_precomputes_the_remapped_clue_rows() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Resp::new(1, 101, 1, 1).event(3));
    events.push(prepare(4, 1, 1, 2, &[(0, 10), (1, 11), (2, 12)]));
    let store = store_with(true, &events);
    run(&store);
    let state = course_state(&store);
    assert_eq!(state.course.current_ecosystem, Some(eco(1)));
    for n in ALGORITHMS {
        assert!(
            student_clue(&store, 1, 1, n).is_some(),
            "current rows kept: {n}"
        );
        let student = student_clue(&store, 1, 11, n).expect("precomputed student CLUE");
        assert_eq!(student.clue_data.ecosystem_uuid, Some(eco(2)), "{n}");
        let teacher = teacher_clue(&store, 1, 11, n).expect("precomputed teacher CLUE");
        assert_eq!(teacher.clue_data.ecosystem_uuid, Some(eco(2)), "{n}");
    }
    append_all(&store, &[update_ecosystem(5, 1)]);
    run(&store);
    for n in ALGORITHMS {
        assert!(student_clue(&store, 1, 11, n).is_some(), "{n}");
        assert_eq!(student_clue(&store, 1, 1, n), None, "old rows retired: {n}");
    }
}

/// S1 fix 11 with S2: the precomputed rows of the prepared ecosystem depend
/// only on the events, not on how they were cut into bundles, and an answer
/// after the preparation reaches them.
#[test]
fn s1_fix_11_precomputed_rows_do_not_depend_on_bundle_cuts() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(prepare(3, 1, 1, 2, &[(0, 10), (1, 11), (2, 12)]));
    events.push(Resp::new(1, 101, 1, 1).event(4));
    let whole = store_with(true, &events);
    run(&whole);
    let one_by_one = store_with(true, &events);
    let mut engine = biglearn_core::engine::Engine::new(
        consumer(),
        biglearn_core::log::BundleLimits {
            max_events_per_bundle: 1,
            ..biglearn_core::log::BundleLimits::default()
        },
    );
    engine
        .run_until_idle(&one_by_one, day(30), 100)
        .expect("engine step succeeds");
    assert_eq!(results(&one_by_one), results(&whole));

    // Before the answer student 1 has no response, so neither ecosystem has
    // a CLUE row; the answer after the preparation creates both.
    let before = store_with(true, &events[..events.len() - 1]);
    run(&before);
    for n in ALGORITHMS {
        assert_eq!(student_clue(&before, 1, 11, n), None, "{n}");
        assert!(student_clue(&whole, 1, 1, n).is_some(), "{n}");
        let prepared = student_clue(&whole, 1, 11, n).expect("precomputed student CLUE");
        assert_eq!(prepared.clue_data.ecosystem_uuid, Some(eco(2)), "{n}");
    }
}

/// The bad-data bundle: create_course (0); a roster whose student 3 is in
/// course container cc(9), which is not in the roster (1); assignment 1 of
/// student 1 (2); assignment 2 of student 2 in the unknown eco(9) (3);
/// assignment 3 of student 3 issuing ex(1) and ex(99), which eco(1) lacks
/// (4); answers of students 1 and 3 (5, 6). `clean` replaces the three bad
/// parts by valid ones (cc(2), eco(1), ex(2)) at the same positions.
fn bundle(clean: bool) -> Vec<Event> {
    let (containers, third): (&[(u128, Option<u128>)], u128) = if clean {
        (&[(1, None), (2, None)], 2)
    } else {
        (&[(1, None)], 9)
    };
    let mut second = Asg::new(2, 2);
    second.eco = if clean { 1 } else { 9 };
    let mut third_asg = Asg::new(3, 3);
    third_asg.trials = vec![
        (301, 1, false, false),
        (302, if clean { 2 } else { 99 }, false, false),
    ];
    vec![
        create_course(1),
        roster(1, containers, &[(1, 1), (2, 1), (3, third)]),
        Asg::new(1, 1).event(2),
        second.event(3),
        third_asg.event(4),
        Resp::new(1, 101, 1, 1).event(5),
        Resp::new(2, 301, 3, 1).event(6),
    ]
}

/// The rows only student 1 and assignment 1 own: the "other events".
fn student_1_rows(store: &MemoryStore) -> Results {
    let all = results(store);
    let own = |uuid: Uuid| uuid == *asg(1).as_uuid() || uuid == *student(1).as_uuid();
    Results {
        exercises: all
            .exercises
            .into_iter()
            .filter(|(k, _)| own(k.target.uuid()))
            .collect(),
        clues: all
            .clues
            .into_iter()
            .filter(|(k, _)| own(k.target.owner_uuid()))
            .collect(),
    }
}

/// Issue 4 acceptance: the three kinds of bad data in one bundle.
#[test]
fn bad_data_never_aborts_a_bundle_and_leaves_other_events_unaffected() {
    let clean = store_with(false, &bundle(true));
    run(&clean);
    assert!(problems(&clean).is_empty(), "{:?}", problems(&clean));

    let store = store_with(false, &bundle(false));
    let report = run(&store);
    assert_eq!(report.bundles_committed, 1, "{report:?}");
    assert_eq!(report.events_applied, 7);
    assert_eq!(store.backlog(&consumer(), course_id()).unwrap(), 0);
    let found: Vec<(String, u64)> = problems(&store)
        .into_iter()
        .map(|p| (p.kind, p.sequence_number.get()))
        .collect();
    for expected in [
        ("unknown_course_container", 1),
        ("unknown_ecosystem", 3),
        ("exercise_not_in_ecosystem", 4),
    ] {
        assert!(
            found.contains(&(expected.0.to_owned(), expected.1)),
            "{expected:?} in {found:?}"
        );
    }
    let messages: Vec<String> = problems(&store).into_iter().map(|p| p.message).collect();
    let named = |id: String| messages.iter().any(|m| m.contains(&id));
    assert!(named(cc(9).to_string()), "{messages:?}");
    assert!(named(eco(9).to_string()), "{messages:?}");
    assert!(named(ex(99).to_string()), "{messages:?}");

    let total = store.course_problems(course_id(), 10).unwrap().total;
    assert!(run(&store).is_idle());
    assert_eq!(store.course_problems(course_id(), 10).unwrap().total, total);

    assert_eq!(student_1_rows(&store), student_1_rows(&clean));
    assert!(student_1_rows(&store).count() > 0);
}

/// Each bad event is applied as far as it is valid: the student of the
/// unknown container stays on the roster, the assignment in the unknown
/// ecosystem is stored (its PEs cannot be calculated, which is recorded),
/// and the assignment with the foreign exercise keeps both trials and gets
/// PEs from its valid pool.
#[test]
fn bad_data_events_apply_as_far_as_they_are_valid() {
    let store = store_with(false, &bundle(false));
    run(&store);
    let state = course_state(&store).course;
    assert!(state.students.contains_key(&student(3)));
    assert_eq!(state.students[&student(3)].container, cc(9));
    assert_eq!(state.assignments[&asg(2)].ecosystem, eco(9));
    assert!(problems(&store)
        .iter()
        .any(|p| p.kind == "calculation_failed" && p.message.contains(&asg(2).to_string())));
    for n in ALGORITHMS {
        assert_eq!(pes(&store, 2, n), None, "{n}");
    }
    let third = &state.assignments[&asg(3)];
    assert_eq!(third.exercises.len(), 2);
    assert_eq!(state.trials[&trial(302)].exercise, ex(99));
    for n in ALGORITHMS {
        let row = pes(&store, 3, n).expect("PEs of the valid part");
        assert!(!row.exercise_uuids.contains(&ex(1)) && !row.exercise_uuids.contains(&ex(99)));
        assert!(!row.exercise_uuids.is_empty(), "{n}");
    }
    assert!(
        student_clue(&store, 3, 1, "local_query").is_some(),
        "its answer counts"
    );
}
