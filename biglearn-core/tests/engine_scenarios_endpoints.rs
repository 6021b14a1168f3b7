//! scheduler.md §5 scenarios 48–58 (calculation endpoints, uploads,
//! cleanup, infrastructure), asserted as the equivalent property of our
//! design. The original's pull/push protocol between scheduler and
//! algorithms (fetch_*_calculations, update_*_calculations, matrix
//! acknowledgements) is internal here (README A6): the built-in algorithms
//! run inside the engine and their results are read through
//! [`EngineStore::exercise_results`] / [`EngineStore::clue_results`];
//! external algorithms push through [`EngineStore::upsert_external`]
//! (api.md §5.8, §5.9). Uploads are the same writes, and cleanup is not
//! needed because a recalculation replaces its row.

// Test helpers: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod engine_support;
mod projection_support;

use biglearn_core::engine_store::{
    ClueResult, EngineStore, EngineStoreError, ExerciseResult, ExternalUpdate, MatrixSlot, SpyInfo,
    StateBlob,
};

use biglearn_core::events::{parse_create_course, parse_record_responses};
use biglearn_core::ids::{CalculationId, EcosystemMatrixId, RequestId};
use biglearn_core::log::{BundleLimits, BundleLog};
use biglearn_core::memory::MemoryStore;
use biglearn_core::scheduler::ClueData;
use engine_support::*;
use projection_support::*;
use serde_json::json;
use uuid::Uuid;

fn request(n: u128) -> RequestId {
    RequestId::from_uuid(Uuid::from_u128(0xf000_0000 + n))
}

fn exercise_result(n: u128, exercises: &[u128]) -> ExerciseResult {
    ExerciseResult {
        calculation_uuid: CalculationId::from_uuid(Uuid::from_u128(0xf100_0000 + n)),
        ecosystem_matrix_uuid: EcosystemMatrixId::from_uuid(Uuid::from_u128(0xf200_0000 + n)),
        exercise_uuids: exercises.iter().map(|e| ex(*e)).collect(),
        spy_info: SpyInfo::default(),
    }
}

fn clue_result(n: u128, most_likely: f64) -> ClueResult {
    ClueResult {
        calculation_uuid: CalculationId::from_uuid(Uuid::from_u128(0xf300_0000 + n)),
        ecosystem_matrix_uuid: None,
        clue_data: ClueData {
            minimum: 0.0,
            most_likely,
            maximum: 1.0,
            is_real: true,
            ecosystem_uuid: Some(eco(1)),
        },
        spy_info: SpyInfo::default(),
    }
}

/// Students 1, 2 in cc(1), assignments 1 (student 1, answered) and 2.
fn loaded() -> MemoryStore {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Asg::new(2, 2).event(3));
    events.push(Resp::new(1, 101, 1, 1).event(4));
    let store = store_with(false, &events);
    run(&store);
    store
}

/// Scenario 48: there is no calculation queue to fetch from. An algorithm
/// nobody computes gets nothing; after a run every dirty target has been
/// answered by both built-in algorithms (nothing is left pending: no
/// backlog, the next step is idle).
#[test]
fn scenario_48_no_pending_calculations_remain_after_a_run() {
    let store = MemoryStore::new();
    assert_eq!(pes(&store, 1, "some_algorithm"), None);
    let store = loaded();
    assert_eq!(pes(&store, 1, "some_algorithm"), None);
    assert_eq!(store.backlog(&consumer(), course_id()).unwrap(), 0);
    assert!(engine().step(&store, day(30)).unwrap().is_idle());
    for a in [1, 2] {
        for n in ALGORITHMS {
            assert!(pes(&store, a, n).is_some(), "assignment {a} {n}");
        }
        for n in SPE_ALGORITHMS {
            assert!(spes(&store, a, n).is_some(), "assignment {a} {n}");
        }
    }
}

/// Scenario 49: update_exercise_calculations becomes upsert_external. A
/// rejected call (duplicate target, request uuid held by another row)
/// stores nothing; an accepted one stores the posted order and matrix
/// uuid; re-posting the same target replaces the row in place (its old
/// request uuid is released). Built-in rows are never touched.
#[test]
fn scenario_49_update_exercise_calculations_upserts_external_results() {
    let store = loaded();
    let builtin = pes(&store, 1, "local_query").unwrap();
    let key = pes_key(1, "external_alg");
    let put = |r: u128, key: &biglearn_core::engine_store::ExerciseKey, n, list: &[u128]| {
        ExternalUpdate::Exercise {
            request_uuid: request(r),
            key: key.clone(),
            result: exercise_result(n, list),
        }
    };
    let twice = store.upsert_external(&[put(1, &key, 1, &[3]), put(2, &key, 2, &[4])]);
    assert!(
        matches!(
            twice,
            Err(EngineStoreError::DuplicateTarget {
                first: 0,
                second: 1,
                ..
            })
        ),
        "{twice:?}"
    );
    assert_eq!(exercises(&store, &key), None, "nothing created");

    store.upsert_external(&[put(1, &key, 1, &[3, 2])]).unwrap();
    assert_eq!(exercises(&store, &key), Some(exercise_result(1, &[3, 2])));
    let other = pes_key(2, "external_alg");
    let held = store.upsert_external(&[put(1, &other, 3, &[1])]);
    assert!(
        matches!(
            held,
            Err(EngineStoreError::RequestUuidConflict { index: 0, .. })
        ),
        "{held:?}"
    );
    assert_eq!(exercises(&store, &other), None);

    store.upsert_external(&[put(2, &key, 4, &[1])]).unwrap();
    assert_eq!(
        exercises(&store, &key),
        Some(exercise_result(4, &[1])),
        "replaced"
    );
    store.upsert_external(&[put(1, &other, 5, &[2])]).unwrap();
    assert_eq!(exercises(&store, &other), Some(exercise_result(5, &[2])));
    assert_eq!(pes(&store, 1, "local_query"), Some(builtin));
}

/// Scenario 50: fetch_algorithm_exercise_calculations becomes a keyed read:
/// one answer per key in request order, nothing for unknown keys, and the
/// algorithm name matched case-insensitively (A6a).
#[test]
fn scenario_50_reads_answer_each_key_in_request_order() {
    let store = loaded();
    let keys = vec![
        pes_key(1, "biglearn_sparfa"),
        pes_key(9, "biglearn_sparfa"),
        spes_key(2, "Student_Driven_Local_Query"),
        worst_key(1, "LOCAL_QUERY"),
    ];
    let got = store.exercise_results(&keys).unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got.iter().filter(|r| r.is_some()).count(), 3);
    assert_eq!(got[0], pes(&store, 1, "biglearn_sparfa"));
    assert_eq!(got[1], None);
    assert_eq!(got[2], spes(&store, 2, "student_driven_local_query"));
    assert_eq!(got[3], worst(&store, 1, "local_query"));
    assert!(store.exercise_results(&[]).unwrap().is_empty());
}

/// Scenario 51: fetch_clue_calculations becomes a keyed CLUE read: nothing
/// before any calculation; afterwards the student and teacher CLUEs of the
/// answered container, each naming its ecosystem.
#[test]
fn scenario_51_clue_reads_answer_student_and_teacher_keys() {
    let keys = vec![
        student_clue_key(1, 1, "local_query"),
        teacher_clue_key(1, 1, "biglearn_sparfa"),
        student_clue_key(2, 1, "local_query"),
    ];
    assert_eq!(
        MemoryStore::new().clue_results(&keys).unwrap(),
        vec![None; 3]
    );
    let store = loaded();
    let got = store.clue_results(&keys).unwrap();
    for row in got[..2].iter() {
        let row = row.as_ref().expect("answered container");
        assert_eq!(row.clue_data.ecosystem_uuid, Some(eco(1)));
        assert!(row.clue_data.is_finite());
    }
    assert_eq!(got[2], None, "student 2 has not answered");
}

/// Scenario 52: update_clue_calculations becomes upsert_external of CLUEs:
/// non-finite numbers are refused with nothing stored; student and teacher
/// CLUEs are stored as posted; re-posting updates in place.
#[test]
fn scenario_52_update_clue_calculations_upserts_external_clues() {
    let store = loaded();
    let student_key = student_clue_key(1, 1, "external_alg");
    let teacher_key = teacher_clue_key(1, 1, "external_alg");
    let put = |r, key: &biglearn_core::engine_store::ClueKey, n, v| ExternalUpdate::Clue {
        request_uuid: request(r),
        key: key.clone(),
        result: clue_result(n, v),
    };
    let bad = store.upsert_external(&[
        put(1, &student_key, 1, 0.5),
        put(2, &teacher_key, 2, f64::NAN),
    ]);
    assert!(
        matches!(bad, Err(EngineStoreError::NonFiniteClue { index: 1, .. })),
        "{bad:?}"
    );
    assert_eq!(clue(&store, &student_key), None, "nothing stored");
    store
        .upsert_external(&[put(1, &student_key, 1, 0.5), put(2, &teacher_key, 2, 0.25)])
        .unwrap();
    assert_eq!(clue(&store, &student_key), Some(clue_result(1, 0.5)));
    assert_eq!(clue(&store, &teacher_key), Some(clue_result(2, 0.25)));
    store
        .upsert_external(&[put(1, &student_key, 3, 0.75)])
        .unwrap();
    assert_eq!(clue(&store, &student_key), Some(clue_result(3, 0.75)));
    assert!(
        student_clue(&store, 1, 1, "local_query").is_some(),
        "built-in kept"
    );
}

/// Scenario 53: one matrix per ecosystem update: saving a new matrix
/// replaces the ecosystem's slot (no pile of per-algorithm
/// acknowledgements), and other ecosystems are unaffected. (That the next
/// calculations carry the new matrix is S1 fix 10, in
/// `engine_scenarios_refits.rs`.)
#[test]
fn scenario_53_one_matrix_per_ecosystem_update() {
    let store = MemoryStore::new();
    let slot = |n: u128, bytes: &[u8]| MatrixSlot {
        matrix_uuid: EcosystemMatrixId::from_uuid(Uuid::from_u128(0xf400_0000 + n)),
        response_count_threshold: 10 + n as u64,
        model: StateBlob {
            format_version: 1,
            bytes: bytes.to_vec(),
        },
    };
    store.save_matrix(eco(1), &slot(1, b"first")).unwrap();
    store.save_matrix(eco(1), &slot(2, b"second")).unwrap();
    assert_eq!(store.matrix(eco(1)).unwrap(), Some(slot(2, b"second")));
    assert_eq!(store.matrix(eco(2)).unwrap(), None);
}

/// Scenario 54: uploads send only rows whose parent still exists. Here a
/// row is written or retired in the commit that changes its parent, so
/// after a student leaves the roster every stored CLUE and worst-area row
/// still has its student or course container, and the teacher rows of the
/// remaining container are kept.
#[test]
fn scenario_54_every_stored_row_has_its_parent() {
    let mut events = base_events();
    events.push(roster(2, &[(1, None), (2, None)], &[(1, 1), (2, 2)]));
    events.push(Asg::new(1, 1).event(3));
    events.push(Asg::new(2, 2).event(4));
    events.push(Resp::new(1, 101, 1, 1).event(5));
    events.push(Resp::new(2, 201, 2, 1).event(6));
    let store = store_with(false, &events);
    run(&store);
    assert!(student_clue(&store, 2, 1, "local_query").is_some());
    assert!(teacher_clue(&store, 2, 1, "local_query").is_some());
    append_all(&store, &[roster(7, &[(1, None)], &[(1, 1)])]);
    run(&store);
    let state = course_state(&store).course;
    let all = results(&store);
    for (key, row) in all.clues.iter().filter(|(_, r)| r.is_some()) {
        let owner = key.target.owner_uuid();
        let known = state.students.keys().any(|s| *s.as_uuid() == owner)
            || state.containers.keys().any(|c| *c.as_uuid() == owner);
        assert!(known, "{key:?} {row:?}");
    }
    assert_eq!(worst(&store, 2, "local_query"), None);
    assert!(teacher_clue(&store, 1, 1, "local_query").is_some());
}

/// Scenario 55: cleanup of superseded calculations is not needed: every
/// recalculation replaces its row, so the number of stored rows does not
/// grow with the number of recalculations.
#[test]
fn scenario_55_recalculations_replace_rows_so_nothing_needs_cleanup() {
    let store = loaded();
    let before = results(&store);
    let rows = before.count();
    for (k, seq) in (2..=5).zip(5..) {
        let mut again = Resp::new(k, 101, 1, 1);
        again.correct = k % 2 == 0;
        append_all(&store, &[again.event(seq)]);
        run(&store);
        assert_eq!(results(&store).count(), rows, "after response {k}");
    }
    assert_ne!(
        results(&store).calculations(),
        before.calculations(),
        "the rows were recalculated"
    );
}

/// Scenario 56: the worker loop becomes [`Engine::run_until_idle`]: each
/// step takes the next bundles; it stops at the step limit with the rest
/// left for later, and once nothing is left a step does nothing.
#[test]
fn scenario_56_engine_steps_until_idle_and_stops() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Resp::new(1, 101, 1, 1).event(3));
    let store = store_with(false, &events);
    let limits = BundleLimits {
        max_events_per_bundle: 1,
        ..BundleLimits::default()
    };
    let mut engine = biglearn_core::engine::Engine::new(consumer(), limits);
    let first = engine.run_until_idle(&store, day(30), 2).unwrap();
    assert_eq!(first.bundles_committed, 2, "{first:?}");
    assert_eq!(store.backlog(&consumer(), course_id()).unwrap(), 2);
    let rest = engine.run_until_idle(&store, day(30), 100).unwrap();
    assert_eq!(rest.bundles_committed, 2, "{rest:?}");
    assert_eq!(store.backlog(&consumer(), course_id()).unwrap(), 0);
    assert!(engine.step(&store, day(30)).unwrap().is_idle());
}

/// Scenario 57: requests are validated before anything is stored: every
/// problem of a record_responses body is reported with its JSON path.
#[test]
fn scenario_57_requests_are_validated_with_their_paths() {
    let body = json!({"responses": [{"response_uuid": "not-a-uuid",
        "course_uuid": course_id().to_string(), "sequence_number": 3,
        "ecosystem_uuid": eco(1).to_string(), "trial_uuid": trial(1).to_string(),
        "student_uuid": student(1).to_string(), "exercise_uuid": ex(1).to_string(),
        "is_real_response": true, "responded_at": date(2)}]});
    let errors = parse_record_responses(&body).unwrap_err();
    let messages = errors.messages();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("responses[0].response_uuid")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("responses[0].is_correct")),
        "{messages:?}"
    );
}

/// Scenario 58: required keys are checked and unknown top-level keys are
/// refused (A2), each error naming the key.
#[test]
fn scenario_58_required_keys_are_checked() {
    let body = json!({"course_uuid": course_id().to_string(), "is_real_course": true,
        "starts_at": date(0), "ends_at": date(10), "created_at": date(0), "surprise": 1});
    let errors = parse_create_course(&body).unwrap_err();
    let messages = errors.messages();
    assert!(
        messages.iter().any(|m| m.contains("ecosystem_uuid")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("surprise")),
        "{messages:?}"
    );
}
