//! Engine checks of stored results: keys and request-order reads,
//! external upserts and their conflicts, and the problem log.

use super::super::fixtures::*;
use super::*;

/// Results are keyed by target kind, target and algorithm (case-insensitive);
/// bulk reads answer in request order, repeats and misses included.
pub fn engine_results_read_in_request_order<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    let mut writes = Vec::new();
    let mut expected = Vec::new();
    for n in 1..=40u128 {
        for (i, key) in [
            pe_key(n, "biglearn_sparfa"),
            spe_key(n, "biglearn_sparfa"),
            worst_key(n, "local_query"),
        ]
        .into_iter()
        .enumerate()
        {
            let result = exercise_result(n * 10 + i as u128, n % 5);
            writes.push(put_pe(key.clone(), result.clone()));
            expected.push((key, result));
        }
    }
    eok(store.write_results(&writes), "write_results");
    let mut keys: Vec<ExerciseKey> = Vec::new();
    let mut want: Vec<Option<ExerciseResult>> = Vec::new();
    for (i, (key, result)) in expected.iter().enumerate().rev() {
        keys.push(key.clone());
        want.push(Some(result.clone()));
        if i % 7 == 0 {
            keys.push(pe_key(1000 + i as u128, "biglearn_sparfa"));
            want.push(None);
            keys.push(ExerciseKey {
                algorithm: algorithm("Other_Alg"),
                ..key.clone()
            });
            want.push(None);
            keys.push(expected[0].0.clone());
            want.push(Some(expected[0].1.clone()));
        }
    }
    assert_eq!(ok(store.exercise_results(&keys), "exercise_results"), want);
    assert_eq!(
        ok(store.exercise_results(&[]), "exercise_results"),
        Vec::new()
    );
    // Student and teacher CLUEs of one uuid are different rows.
    let clue_keys = [
        student_clue_key(1, 2, "biglearn_sparfa"),
        teacher_clue_key(1, 2, "biglearn_sparfa"),
        student_clue_key(1, 3, "biglearn_sparfa"),
        student_clue_key(1, 2, "local_query"),
    ];
    let clue_writes: Vec<ResultWrite> = clue_keys
        .iter()
        .enumerate()
        .map(|(i, k)| put_clue(k.clone(), clue_result(i as u128)))
        .collect();
    eok(store.write_results(&clue_writes), "write_results");
    let ask = [
        clue_keys[3].clone(),
        student_clue_key(1, 4, "biglearn_sparfa"),
        clue_keys[1].clone(),
        clue_keys[0].clone(),
        student_clue_key(1, 2, "BIGLEARN_SPARFA"),
        clue_keys[2].clone(),
    ];
    let got = ok(store.clue_results(&ask), "clue_results");
    let tags: Vec<Option<u128>> = got
        .iter()
        .map(|r| r.as_ref().map(|r| r.calculation_uuid.as_uuid().as_u128()))
        .collect();
    assert_eq!(
        tags,
        vec![Some(3), None, Some(1), Some(0), Some(0), Some(2)]
    );
}

fn external_pe(request: u128, key: ExerciseKey, tag: u128) -> ExternalUpdate {
    ExternalUpdate::Exercise {
        request_uuid: RequestId::from_uuid(uuid(request)),
        key,
        result: exercise_result(tag, 2),
    }
}

fn external_clue(request: u128, key: ClueKey, tag: u128) -> ExternalUpdate {
    ExternalUpdate::Clue {
        request_uuid: RequestId::from_uuid(uuid(request)),
        key,
        result: clue_result(tag),
    }
}

/// External upserts: last write wins, a replay of the same request uuid on
/// the same key is fine, a replaced row's old request uuid becomes free.
pub fn engine_external_upserts_last_write_wins<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    let a = pe_key(1, "my_alg");
    let b = pe_key(2, "my_alg");
    eok(
        store.upsert_external(&[external_pe(100, a.clone(), 1)]),
        "upsert",
    );
    eok(
        store.upsert_external(&[external_pe(100, a.clone(), 2)]),
        "replay",
    );
    assert_eq!(pe(store, &a), Some(exercise_result(2, 2)));
    eok(
        store.upsert_external(&[external_pe(101, pe_key(1, "MY_ALG"), 3)]),
        "replace",
    );
    assert_eq!(pe(store, &a), Some(exercise_result(3, 2)));
    // 100 was released by the replacement: another row may take it.
    eok(
        store.upsert_external(&[external_pe(100, b.clone(), 4)]),
        "reuse freed uuid",
    );
    assert_eq!(pe(store, &b), Some(exercise_result(4, 2)));
    // The engine's own write replaces an external row and frees its uuid.
    eok(
        store.write_results(&[ResultWrite::Exercise {
            key: a.clone(),
            result: None,
        }]),
        "delete",
    );
    assert_eq!(pe(store, &a), None);
    eok(
        store.upsert_external(&[external_pe(101, worst_key(9, "my_alg"), 5)]),
        "worst areas",
    );
    let clue = student_clue_key(1, 2, "my_alg");
    eok(
        store.upsert_external(&[external_clue(102, clue.clone(), 6)]),
        "clue",
    );
    eok(
        store.upsert_external(&[external_clue(102, clue.clone(), 7)]),
        "clue again",
    );
    assert_eq!(
        ok(store.clue_result(&clue), "clue_result"),
        Some(clue_result(7))
    );
    eok(store.upsert_external(&[]), "empty call");
}

/// A request uuid held by another row of the same kind (or by an earlier
/// item of the call) rejects the whole call, naming the item; other kinds
/// have their own uuids. Two items on one key reject the call naming both.
pub fn engine_external_conflicts_reject_the_call<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    let a = pe_key(1, "my_alg");
    eok(
        store.upsert_external(&[external_pe(100, a.clone(), 1)]),
        "upsert",
    );
    let call = [
        external_pe(200, pe_key(3, "my_alg"), 2),
        external_pe(201, pe_key(4, "my_alg"), 3),
        external_pe(100, pe_key(2, "my_alg"), 4),
    ];
    match store.upsert_external(&call) {
        Err(EngineStoreError::RequestUuidConflict {
            index,
            request_uuid,
            ..
        }) => {
            assert_eq!((index, request_uuid.as_uuid().as_u128()), (2, 100))
        }
        other => panic!("expected a request uuid conflict, got {other:?}"),
    }
    let within = [
        external_pe(300, pe_key(5, "x"), 5),
        external_pe(300, pe_key(6, "x"), 6),
    ];
    assert!(matches!(
        store.upsert_external(&within),
        Err(EngineStoreError::RequestUuidConflict { index: 1, .. })
    ));
    let duplicate = [
        external_clue(400, student_clue_key(1, 2, "x"), 7),
        external_pe(401, pe_key(7, "x"), 8),
        external_clue(402, student_clue_key(1, 2, "X"), 9),
    ];
    assert!(matches!(
        store.upsert_external(&duplicate),
        Err(EngineStoreError::DuplicateTarget {
            first: 0,
            second: 2,
            ..
        })
    ));
    let untouched = [
        pe_key(3, "my_alg"),
        pe_key(4, "my_alg"),
        pe_key(2, "my_alg"),
        pe_key(5, "x"),
        pe_key(7, "x"),
    ];
    assert_eq!(
        ok(store.exercise_results(&untouched), "read"),
        vec![None; 5]
    );
    assert_eq!(
        ok(store.clue_result(&student_clue_key(1, 2, "x")), "read"),
        None
    );
    assert_eq!(pe(store, &a), Some(exercise_result(1, 2)));
    // The same uuid in another result kind is not a conflict.
    let other_kinds = [
        external_pe(100, spe_key(1, "my_alg"), 10),
        external_pe(100, worst_key(1, "my_alg"), 11),
        external_clue(100, student_clue_key(1, 2, "my_alg"), 12),
        external_clue(100, teacher_clue_key(1, 2, "my_alg"), 13),
    ];
    eok(store.upsert_external(&other_kinds), "other kinds");
    assert_eq!(
        pe(store, &spe_key(1, "my_alg")),
        Some(exercise_result(10, 2))
    );
}

/// The problem log keeps every problem; reads return the latest, oldest first.
pub fn engine_problem_log_keeps_latest<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    course_with_events(store, 1, 5);
    course_with_events(store, 2, 1);
    for through in 1..=5u64 {
        let mut c = commit(1, through, b"s", Vec::new());
        c.problems = (0..through)
            .map(|i| problem(through, &format!("{through}-{i}")))
            .collect();
        eok(store.commit_course_progress(&c), "commit");
    }
    let all: Vec<RecordedProblem> = (1..=5u64)
        .flat_map(|t| (0..t).map(move |i| problem(t, &format!("{t}-{i}"))))
        .collect();
    let log = ok(store.course_problems(course_id(1), 4), "course_problems");
    assert_eq!(log.total, 15);
    assert_eq!(log.latest, all[11..].to_vec());
    let log = ok(store.course_problems(course_id(1), 100), "course_problems");
    assert_eq!(log.latest, all);
    assert_eq!(
        ok(store.course_problems(course_id(1), 0), "course_problems").latest,
        vec![]
    );
    assert_eq!(
        ok(store.course_problems(course_id(2), 10), "course_problems"),
        ProblemLog::default()
    );
}
