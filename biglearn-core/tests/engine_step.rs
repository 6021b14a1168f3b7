//! The engine step on the in-memory store: a small course from event bodies
//! to readable PEs, SPEs, worst areas and CLUEs for both built-in
//! algorithms; replays and redeliveries leave identical results; a bad event
//! is recorded as a problem and the rest of its bundle applies.

// The helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod projection_support;

use biglearn_core::engine::algs::MATRIX_FORMAT_VERSION;
use biglearn_core::engine::{Engine, EngineCourseState, StepReport};
use biglearn_core::engine_store::{
    AlgorithmName, ClueKey, ClueResult, ClueTarget, EngineStore, ExerciseKey, ExerciseResult,
    ExerciseTarget, MatrixSlot, StateBlob,
};
use biglearn_core::ids::EcosystemMatrixId;
use biglearn_core::log::{AppendRequest, BundleLimits, BundleLog, ConsumerName, Event, EventLog};
use biglearn_core::memory::MemoryStore;
use biglearn_core::projection::encode_state;
use biglearn_core::sparfa::{Penalties, SparfaModel};
use projection_support::*;

const ALGORITHMS: [&str; 2] = ["local_query", "biglearn_sparfa"];
const SPE_ALGORITHMS: [&str; 4] = [
    "instructor_driven_local_query",
    "student_driven_local_query",
    "instructor_driven_biglearn_sparfa",
    "student_driven_biglearn_sparfa",
];

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

/// eco(1) and a course with period cc(1) (students 1, 2), a reading per
/// student on page bc(1), and two answers of student 1 (one wrong).
fn course_events() -> Vec<Event> {
    let mut wrong = Resp::new(2, 102, 1, 2);
    wrong.correct = false;
    vec![
        create_course(1),
        roster(1, &[(1, None)], &[(1, 1), (2, 1)]),
        Asg::new(1, 1).event(2),
        Asg::new(2, 2).event(3),
        Resp::new(1, 101, 1, 1).event(4),
        wrong.event(5),
    ]
}

fn loaded_store() -> MemoryStore {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    append_all(&store, &course_events());
    store
}

/// Every result the fixture course can have, as read back.
#[derive(Debug, PartialEq)]
struct Results {
    exercises: Vec<(ExerciseKey, Option<ExerciseResult>)>,
    clues: Vec<(ClueKey, Option<ClueResult>)>,
}

fn results(store: &MemoryStore) -> Results {
    let mut keys = Vec::new();
    for a in [1, 2] {
        for n in ALGORITHMS {
            keys.push(ExerciseKey {
                target: ExerciseTarget::AssignmentPes(asg(a)),
                algorithm: name(n),
            });
        }
        for n in SPE_ALGORITHMS {
            keys.push(ExerciseKey {
                target: ExerciseTarget::AssignmentSpes(asg(a)),
                algorithm: name(n),
            });
        }
    }
    for s in [1, 2] {
        for n in ALGORITHMS {
            keys.push(ExerciseKey {
                target: ExerciseTarget::PracticeWorstAreas(student(s)),
                algorithm: name(n),
            });
        }
    }
    let mut clue_keys = Vec::new();
    for b in [0, 1, 2] {
        for n in ALGORITHMS {
            for s in [1, 2] {
                clue_keys.push(ClueKey {
                    target: ClueTarget::Student {
                        student: student(s),
                        book_container: bc(b),
                    },
                    algorithm: name(n),
                });
            }
            clue_keys.push(ClueKey {
                target: ClueTarget::Teacher {
                    course_container: cc(1),
                    book_container: bc(b),
                },
                algorithm: name(n),
            });
        }
    }
    let exercises = store.exercise_results(&keys).unwrap();
    let clues = store.clue_results(&clue_keys).unwrap();
    Results {
        exercises: keys.into_iter().zip(exercises).collect(),
        clues: clue_keys.into_iter().zip(clues).collect(),
    }
}

fn run(store: &MemoryStore, limits: BundleLimits) -> StepReport {
    let mut engine = Engine::new(consumer(), limits);
    engine.run_until_idle(store, day(30), 100).unwrap()
}

#[test]
fn small_course_ends_with_results_for_both_algorithms() {
    let store = loaded_store();
    let report = run(&store, BundleLimits::default());
    assert_eq!(report.ecosystems_saved, 1);
    assert_eq!(report.bundles_committed, 1);
    assert_eq!(report.events_applied, 6);
    assert_eq!(
        report.problems,
        0,
        "{:?}",
        store.course_problems(course_id(), 10)
    );
    assert!(store.ecosystem_state(eco(1)).unwrap().is_some());
    assert_eq!(store.backlog(&consumer(), course_id()).unwrap(), 0);

    for n in ALGORITHMS {
        // The reading's page pool is ex(1..=3) and ex(1), ex(2) are assigned.
        let pes = store
            .exercise_result(&ExerciseKey {
                target: ExerciseTarget::AssignmentPes(asg(1)),
                algorithm: name(n),
            })
            .unwrap()
            .expect("PEs stored");
        assert_eq!(pes.exercise_uuids, vec![ex(3)], "{n}");
        for a in [1, 2] {
            for spe in SPE_ALGORITHMS {
                let key = ExerciseKey {
                    target: ExerciseTarget::AssignmentSpes(asg(a)),
                    algorithm: name(spe),
                };
                let spes = store.exercise_result(&key).unwrap().expect("SPEs stored");
                assert!(!spes.exercise_uuids.contains(&ex(1)), "{spe}: own exercise");
                assert!(
                    !spes.exercise_uuids.contains(&ex(3)) || a == 2,
                    "{spe}: a PE"
                );
            }
        }
        let worst = ExerciseKey {
            target: ExerciseTarget::PracticeWorstAreas(student(1)),
            algorithm: name(n),
        };
        assert!(store.exercise_result(&worst).unwrap().is_some(), "{n}");
        let clue = store
            .clue_result(&ClueKey {
                target: ClueTarget::Student {
                    student: student(1),
                    book_container: bc(1),
                },
                algorithm: name(n),
            })
            .unwrap()
            .expect("student CLUE stored");
        assert_eq!(clue.clue_data.ecosystem_uuid, Some(eco(1)));
        assert!(clue.clue_data.is_finite());
        let teacher = store
            .clue_result(&ClueKey {
                target: ClueTarget::Teacher {
                    course_container: cc(1),
                    book_container: bc(1),
                },
                algorithm: name(n),
            })
            .unwrap()
            .expect("teacher CLUE stored");
        assert_eq!(teacher.clue_data.ecosystem_uuid, Some(eco(1)));
    }
    // Student 2 has not answered anything: no CLUE row.
    let none = ClueKey {
        target: ClueTarget::Student {
            student: student(2),
            book_container: bc(1),
        },
        algorithm: name("local_query"),
    };
    assert_eq!(store.clue_result(&none).unwrap(), None);
    // local_query's CLUE of one right and one wrong answer (§3.4).
    let local = store
        .clue_result(&ClueKey {
            target: ClueTarget::Student {
                student: student(1),
                book_container: bc(1),
            },
            algorithm: name("local_query"),
        })
        .unwrap()
        .unwrap();
    assert!(
        (local.clue_data.most_likely - 0.5).abs() < 1e-9,
        "{local:?}"
    );
}

#[test]
fn reruns_duplicates_and_redeliveries_leave_identical_results() {
    let store = loaded_store();
    let bundles = store
        .next_bundles(&consumer(), BundleLimits::default())
        .unwrap();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    engine.run_until_idle(&store, day(30), 100).unwrap();
    let first = results(&store);
    assert!(first.exercises.iter().all(|(_, r)| r.is_some()));

    // Another step finds nothing to do.
    assert!(engine.step(&store, day(30)).unwrap().is_idle());
    // Duplicate appends are replays; nothing new to process.
    append_all(&store, &[standard_ecosystem(0)]);
    append_all(&store, &course_events());
    assert!(engine.step(&store, day(30)).unwrap().is_idle());
    // A bundle redelivered (as after a crash before its confirm) is stale.
    let mut report = StepReport::default();
    for bundle in &bundles {
        engine
            .process_bundle(&store, bundle, day(31), &mut report)
            .unwrap();
    }
    assert_eq!(report.bundles_stale, bundles.len());
    assert_eq!(report.bundles_committed, 0);
    // A fresh engine (a restart) sees the same.
    let again = run(&store, BundleLimits::default());
    assert!(again.is_idle(), "{again:?}");
    assert_eq!(results(&store), first);
}

#[test]
fn results_do_not_depend_on_bundle_cuts() {
    let whole = loaded_store();
    run(&whole, BundleLimits::default());
    let one_by_one = loaded_store();
    let report = run(
        &one_by_one,
        BundleLimits {
            max_events_per_bundle: 1,
            ..BundleLimits::default()
        },
    );
    assert_eq!(report.bundles_committed, 6);
    assert_eq!(results(&one_by_one), results(&whole));
}

#[test]
fn unknown_ecosystem_is_a_problem_and_the_rest_of_the_bundle_applies() {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    let mut stray = Resp::new(9, 101, 1, 1);
    stray.eco = 9;
    let mut events = vec![
        create_course(1),
        roster(1, &[(1, None)], &[(1, 1), (2, 1)]),
        Asg::new(1, 1).event(2),
    ];
    events.push(stray.event(3));
    events.push(Resp::new(1, 101, 1, 1).event(4));
    append_all(&store, &events);
    let report = run(&store, BundleLimits::default());
    assert_eq!(report.bundles_committed, 1);
    let problems = store.course_problems(course_id(), 10).unwrap();
    assert!(
        problems
            .latest
            .iter()
            .any(|p| p.kind == "unknown_ecosystem" && p.sequence_number.get() == 3),
        "{problems:?}"
    );
    for n in ALGORITHMS {
        let key = ClueKey {
            target: ClueTarget::Student {
                student: student(1),
                book_container: bc(1),
            },
            algorithm: name(n),
        };
        assert!(store.clue_result(&key).unwrap().is_some(), "{n}");
        let pes = ExerciseKey {
            target: ExerciseTarget::AssignmentPes(asg(1)),
            algorithm: name(n),
        };
        assert!(store.exercise_result(&pes).unwrap().is_some(), "{n}");
    }
    // The problem is recorded once, not again on a rerun.
    run(&store, BundleLimits::default());
    assert_eq!(
        store.course_problems(course_id(), 10).unwrap().total,
        problems.total
    );
}

fn model() -> SparfaModel {
    SparfaModel {
        question_ids: (1..=6).map(|i| ex(i).to_string()).collect(),
        concept_ids: vec!["page".into()],
        loadings: vec![vec![(0, 1.0)]; 6],
        intercepts: vec![2.0, 1.0, 0.0, -1.0, 0.5, -0.5],
        hints: vec![vec![0]; 6],
        penalties: Penalties::default(),
        pooled_loadings: Vec::new(),
    }
}

#[test]
fn biglearn_sparfa_uses_the_stored_matrix() {
    let matrix = EcosystemMatrixId::from_uuid(uuid::Uuid::from_u128(0x4d41));
    let store = loaded_store();
    let slot = MatrixSlot {
        matrix_uuid: matrix,
        response_count_threshold: 10,
        model: StateBlob {
            format_version: MATRIX_FORMAT_VERSION,
            bytes: encode_state(&model()).unwrap(),
        },
    };
    store.save_matrix(eco(1), &slot).unwrap();
    run(&store, BundleLimits::default());
    let pes = |n: &str| ExerciseKey {
        target: ExerciseTarget::AssignmentPes(asg(1)),
        algorithm: name(n),
    };
    let clue = |n: &str| ClueKey {
        target: ClueTarget::Student {
            student: student(1),
            book_container: bc(1),
        },
        algorithm: name(n),
    };
    let sparfa = store
        .exercise_result(&pes("biglearn_sparfa"))
        .unwrap()
        .unwrap();
    assert_eq!(sparfa.ecosystem_matrix_uuid, matrix);
    let local = store.exercise_result(&pes("local_query")).unwrap().unwrap();
    assert_ne!(local.ecosystem_matrix_uuid, matrix);
    let sparfa_clue = store
        .clue_result(&clue("biglearn_sparfa"))
        .unwrap()
        .unwrap();
    assert_eq!(sparfa_clue.ecosystem_matrix_uuid, Some(matrix));
    assert_eq!(
        store
            .clue_result(&clue("local_query"))
            .unwrap()
            .unwrap()
            .ecosystem_matrix_uuid,
        None
    );

    // Without a matrix the CLUE is the cold-start one and carries none.
    let cold = loaded_store();
    run(&cold, BundleLimits::default());
    let cold_clue = cold.clue_result(&clue("biglearn_sparfa")).unwrap().unwrap();
    assert_eq!(cold_clue.ecosystem_matrix_uuid, None);
    assert!(!cold_clue.clue_data.is_real);
}

#[test]
fn an_unreadable_matrix_is_a_problem_and_falls_back_to_cold_start() {
    let store = loaded_store();
    let slot = MatrixSlot {
        matrix_uuid: EcosystemMatrixId::from_uuid(uuid::Uuid::from_u128(0x4d42)),
        response_count_threshold: 10,
        model: StateBlob {
            format_version: MATRIX_FORMAT_VERSION,
            bytes: b"not json".to_vec(),
        },
    };
    store.save_matrix(eco(1), &slot).unwrap();
    run(&store, BundleLimits::default());
    let problems = store.course_problems(course_id(), 10).unwrap();
    assert!(
        problems
            .latest
            .iter()
            .any(|p| p.kind == "calculation_failed" && p.message.contains("unreadable")),
        "{problems:?}"
    );
    let key = ExerciseKey {
        target: ExerciseTarget::AssignmentPes(asg(1)),
        algorithm: name("biglearn_sparfa"),
    };
    assert!(store.exercise_result(&key).unwrap().is_some());
}

#[test]
fn deleting_an_assignment_retires_its_results() {
    let store = loaded_store();
    run(&store, BundleLimits::default());
    let mut deleted = Asg::new(1, 1);
    deleted.deleted = true;
    append_all(&store, &[deleted.event(6)]);
    let report = run(&store, BundleLimits::default());
    assert_eq!(report.bundles_committed, 1);
    for n in ALGORITHMS {
        let key = ExerciseKey {
            target: ExerciseTarget::AssignmentPes(asg(1)),
            algorithm: name(n),
        };
        assert_eq!(store.exercise_result(&key).unwrap(), None, "{n}");
        let other = ExerciseKey {
            target: ExerciseTarget::AssignmentPes(asg(2)),
            algorithm: name(n),
        };
        assert!(store.exercise_result(&other).unwrap().is_some(), "{n}");
    }
    for n in SPE_ALGORITHMS {
        let key = ExerciseKey {
            target: ExerciseTarget::AssignmentSpes(asg(1)),
            algorithm: name(n),
        };
        assert_eq!(store.exercise_result(&key).unwrap(), None, "{n}");
    }
}

/// Events that move data between stored parts: an answer to a trial no
/// assignment issued yet (kept in the student's part) that an assignment
/// then issues, an assignment moved to another student, a roster change.
fn shuffling_events() -> Vec<Event> {
    let mut events = course_events();
    events.push(Resp::new(7, 301, 2, 1).event(6));
    let mut issuing = Asg::new(3, 2);
    issuing.trials = vec![(301, 1, false, false), (302, 2, false, false)];
    events.push(issuing.event(7));
    events.push(Asg::new(1, 2).event(8));
    events.push(Resp::new(8, 302, 2, 2).event(9));
    events.push(roster(10, &[(1, None)], &[(2, 1)]));
    events.push(Resp::new(9, 999, 1, 1).event(11));
    events
}

/// The parts a cached engine stores hold the whole state: reading them back
/// gives the course a projection of every event builds, and an engine that
/// reloads the state from the store before every bundle stores the same
/// parts and results.
#[test]
fn stored_parts_hold_the_whole_state_whatever_the_cache() {
    let one_at_a_time = BundleLimits {
        max_events_per_bundle: 1,
        ..BundleLimits::default()
    };
    let stores = [MemoryStore::new(), MemoryStore::new()];
    for store in &stores {
        append_all(store, &[standard_ecosystem(0)]);
        append_all(store, &shuffling_events());
    }
    let mut cached = Engine::new(consumer(), one_at_a_time);
    cached.run_until_idle(&stores[0], day(20), 100).unwrap();
    for _ in 0..100 {
        let mut fresh = Engine::new(consumer(), one_at_a_time);
        if fresh.step(&stores[1], day(20)).unwrap().is_idle() {
            break;
        }
    }
    let snapshots: Vec<_> = stores
        .iter()
        .map(|s| s.course_state(&consumer(), course_id()).unwrap().unwrap())
        .collect();
    assert_eq!(snapshots[0], snapshots[1]);
    assert_eq!(results(&stores[0]), results(&stores[1]));
    let stored = EngineCourseState::from_snapshot(course_id(), &snapshots[0]).unwrap();
    let projected = course_with(&shuffling_events());
    assert_eq!(stored.course, projected);
    assert_eq!(stored.course.responses.len(), 5, "every answer is kept");
}
