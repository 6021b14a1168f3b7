//! Conformance checks of [`EngineStore`]: atomic commits with the consumer
//! watermark, stale no-ops, bit-identical blobs, results keyed per
//! algorithm and read in request order, external upserts (last write wins,
//! A4 request-uuid conflicts, A10 duplicate targets) and the problem log.
//! Run them with [`crate::engine_conformance_tests!`].

use uuid::Uuid;

use crate::engine_store::*;
use crate::ids::*;
use crate::log::{BundleLimits, SequenceNumber};
use crate::scheduler::ClueData;

use super::fixtures::*;

mod concurrency;
mod group;
mod parts;
mod refit;
mod results;
pub use concurrency::*;
pub use group::*;
pub use parts::*;
pub use refit::*;
pub use results::*;

/// What the engine checks run on: a store, or a store plus whatever must
/// outlive it (a temporary directory, a database schema).
pub trait EngineHarness {
    /// The store under test.
    fn engine(&self) -> &dyn EngineStore;
}

impl<T: EngineStore> EngineHarness for T {
    fn engine(&self) -> &dyn EngineStore {
        self
    }
}

fn eok<T>(result: Result<T, EngineStoreError>, operation: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{operation} failed: {e}"),
    }
}

/// An algorithm name (panics on a bad one: test input only).
pub fn algorithm(name: &str) -> AlgorithmName {
    match AlgorithmName::new(name) {
        Ok(name) => name,
        Err(e) => panic!("test algorithm name: {e}"),
    }
}

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// The PE key of assignment `n` under `alg`.
pub fn pe_key(n: u128, alg: &str) -> ExerciseKey {
    ExerciseKey {
        target: ExerciseTarget::AssignmentPes(AssignmentId::from_uuid(uuid(n))),
        algorithm: algorithm(alg),
    }
}

fn spe_key(n: u128, alg: &str) -> ExerciseKey {
    ExerciseKey {
        target: ExerciseTarget::AssignmentSpes(AssignmentId::from_uuid(uuid(n))),
        algorithm: algorithm(alg),
    }
}

fn worst_key(n: u128, alg: &str) -> ExerciseKey {
    ExerciseKey {
        target: ExerciseTarget::PracticeWorstAreas(StudentId::from_uuid(uuid(n))),
        algorithm: algorithm(alg),
    }
}

/// The student CLUE key of (student `n`, book container `bc`) under `alg`.
pub fn student_clue_key(n: u128, bc: u128, alg: &str) -> ClueKey {
    ClueKey {
        target: ClueTarget::Student {
            student: StudentId::from_uuid(uuid(n)),
            book_container: BookContainerId::from_uuid(uuid(bc)),
        },
        algorithm: algorithm(alg),
    }
}

fn teacher_clue_key(n: u128, bc: u128, alg: &str) -> ClueKey {
    ClueKey {
        target: ClueTarget::Teacher {
            course_container: CourseContainerId::from_uuid(uuid(n)),
            book_container: BookContainerId::from_uuid(uuid(bc)),
        },
        algorithm: algorithm(alg),
    }
}

/// An exercise result tagged by `n` (calculation `n`, `len` exercises).
pub fn exercise_result(n: u128, len: u128) -> ExerciseResult {
    let mut spy = serde_json::Map::new();
    spy.insert("tag".into(), serde_json::json!(n as u64));
    spy.insert(
        "nested".into(),
        serde_json::json!({"z": [1, "two", null], "a": true}),
    );
    ExerciseResult {
        calculation_uuid: CalculationId::from_uuid(uuid(n)),
        ecosystem_matrix_uuid: EcosystemMatrixId::from_uuid(uuid(n + 1)),
        exercise_uuids: (0..len)
            .map(|i| ExerciseId::from_uuid(uuid(u128::MAX - n * 1000 - i)))
            .collect(),
        spy_info: SpyInfo(spy),
    }
}

/// A CLUE tagged by `n`.
pub fn clue_result(n: u128) -> ClueResult {
    let x = n as f64;
    ClueResult {
        calculation_uuid: CalculationId::from_uuid(uuid(n)),
        ecosystem_matrix_uuid: (n % 2 == 0).then(|| EcosystemMatrixId::from_uuid(uuid(n + 7))),
        clue_data: ClueData {
            minimum: 0.1 + 0.2 + x,
            most_likely: 1.0 / 3.0 + x,
            maximum: 1e-300 + x,
            is_real: n % 3 == 0,
            ecosystem_uuid: (n % 2 == 1).then(|| EcosystemId::from_uuid(uuid(n + 9))),
        },
        spy_info: SpyInfo::default(),
    }
}

fn put_pe(key: ExerciseKey, result: ExerciseResult) -> ResultWrite {
    ResultWrite::Exercise {
        key,
        result: Some(result),
    }
}

fn put_clue(key: ClueKey, result: ClueResult) -> ResultWrite {
    ResultWrite::Clue {
        key,
        result: Some(result),
    }
}

fn blob(version: u32, bytes: &[u8]) -> StateBlob {
    StateBlob {
        format_version: version,
        bytes: bytes.to_vec(),
    }
}

fn problem(number: u64, message: &str) -> RecordedProblem {
    RecordedProblem {
        sequence_number: seq(number),
        event_type: "record_response".into(),
        kind: "unknown_trial".into(),
        message: message.into(),
    }
}

fn commit(course_n: u128, through: u64, state: &[u8], writes: Vec<ResultWrite>) -> CourseCommit {
    CourseCommit {
        consumer: consumer("engine"),
        course: course_id(course_n),
        through: seq(through),
        state: blob(1, state),
        parts: Vec::new(),
        writes,
        problems: Vec::new(),
    }
}

/// Course `n` with events 0..=last stored.
fn course_with_events(store: &dyn EngineStore, n: u128, last: u64) {
    let mut events = vec![create_course(n, 900)];
    events.extend((1..=last).map(|i| response(course(n), i, n * 10_000 + u128::from(i))));
    append_ok(store, events);
}

fn watermark(store: &dyn EngineStore, course_n: u128) -> Option<u64> {
    ok(
        store.confirmed(&consumer("engine"), course_id(course_n)),
        "confirmed",
    )
    .map(|s| s.get())
}

fn state_bytes(store: &dyn EngineStore, course_n: u128) -> Option<(u64, Vec<u8>)> {
    ok(
        store.course_state(&consumer("engine"), course_id(course_n)),
        "course_state",
    )
    .map(|s| (s.through.get(), s.head.bytes))
}

fn pe(store: &dyn EngineStore, key: &ExerciseKey) -> Option<ExerciseResult> {
    ok(store.exercise_result(key), "exercise_result")
}

/// A commit stores the state, the results and the problems and raises the
/// watermark; the next bundle starts after it.
pub fn engine_commit_stores_everything<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    course_with_events(store, 1, 3);
    assert_eq!(state_bytes(store, 1), None);
    let mut first = commit(
        1,
        2,
        b"state-2",
        vec![
            put_pe(pe_key(5, "biglearn_sparfa"), exercise_result(50, 3)),
            put_clue(student_clue_key(6, 7, "local_query"), clue_result(60)),
        ],
    );
    first.problems = vec![problem(1, "first"), problem(2, "second")];
    assert_eq!(
        eok(store.commit_course_progress(&first), "commit"),
        CommitOutcome::Committed
    );
    assert_eq!(watermark(store, 1), Some(2));
    assert_eq!(state_bytes(store, 1), Some((2, b"state-2".to_vec())));
    assert_eq!(
        pe(store, &pe_key(5, "BIGLEARN_SPARFA")),
        Some(exercise_result(50, 3))
    );
    let clue = ok(
        store.clue_result(&student_clue_key(6, 7, "local_query")),
        "clue_result",
    );
    assert_eq!(clue, Some(clue_result(60)));
    let log = ok(store.course_problems(course_id(1), 10), "course_problems");
    assert_eq!((log.total, log.latest), (2, first.problems.clone()));
    assert_eq!(
        ok(store.backlog(&consumer("engine"), course_id(1)), "backlog"),
        1
    );
    let bundles = ok(
        store.next_bundles(&consumer("engine"), BundleLimits::default()),
        "next_bundles",
    );
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundle_numbers(&bundles[0]), vec![3]);
    // Deletes and a second commit.
    let second = commit(
        1,
        3,
        b"state-3",
        vec![ResultWrite::Exercise {
            key: pe_key(5, "biglearn_sparfa"),
            result: None,
        }],
    );
    eok(store.commit_course_progress(&second), "second commit");
    assert_eq!(pe(store, &pe_key(5, "biglearn_sparfa")), None);
    assert_eq!(state_bytes(store, 1), Some((3, b"state-3".to_vec())));
    // Another consumer has its own watermark and state.
    let mut other = commit(1, 1, b"other", Vec::new());
    other.consumer = consumer("other");
    eok(store.commit_course_progress(&other), "other consumer");
    assert_eq!(state_bytes(store, 1), Some((3, b"state-3".to_vec())));
    let theirs = ok(
        store.course_state(&consumer("other"), course_id(1)),
        "state",
    );
    assert_eq!(theirs.map(|s| s.head.bytes), Some(b"other".to_vec()));
}

/// A commit at or below the watermark (a redelivered bundle, or a bundle
/// confirmed another way) stores nothing and reports the watermark.
pub fn engine_stale_commit_is_a_noop<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    course_with_events(store, 1, 4);
    let key = pe_key(5, "biglearn_sparfa");
    let mut first = commit(
        1,
        2,
        b"state-2",
        vec![put_pe(key.clone(), exercise_result(1, 2))],
    );
    first.problems = vec![problem(2, "once")];
    eok(store.commit_course_progress(&first), "commit");
    for through in [2, 1, 0] {
        let mut again = commit(
            1,
            through,
            b"other",
            vec![put_pe(key.clone(), exercise_result(2, 2))],
        );
        again.problems = vec![problem(2, "twice")];
        assert_eq!(
            eok(store.commit_course_progress(&again), "stale commit"),
            CommitOutcome::Stale { current: seq(2) },
            "through {through}"
        );
    }
    assert_eq!(watermark(store, 1), Some(2));
    assert_eq!(state_bytes(store, 1), Some((2, b"state-2".to_vec())));
    assert_eq!(pe(store, &key), Some(exercise_result(1, 2)));
    let log = ok(store.course_problems(course_id(1), 10), "course_problems");
    assert_eq!(log.total, 1);
    // A watermark raised by a plain confirm also makes commits stale.
    ok(
        store.confirm(&consumer("engine"), course_id(1), seq(4)),
        "confirm",
    );
    let late = commit(1, 3, b"late", Vec::new());
    assert_eq!(
        eok(store.commit_course_progress(&late), "late commit"),
        CommitOutcome::Stale { current: seq(4) }
    );
    assert_eq!(state_bytes(store, 1), Some((2, b"state-2".to_vec())));
}

fn assert_untouched(store: &dyn EngineStore, key: &ExerciseKey, clue: &ClueKey) {
    assert_eq!(watermark(store, 1), Some(1));
    assert_eq!(state_bytes(store, 1), Some((1, b"state-1".to_vec())));
    assert_eq!(pe(store, key), Some(exercise_result(1, 1)));
    assert_eq!(ok(store.clue_result(clue), "clue_result"), None);
    let log = ok(store.course_problems(course_id(1), 10), "course_problems");
    assert_eq!(log.total, 1);
}

/// A commit that fails (two writes to one key, a non-finite CLUE, events
/// the stream does not hold) leaves the watermark, the state, the results
/// and the problem log as they were.
pub fn engine_failing_commit_changes_nothing<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    course_with_events(store, 1, 3);
    append_ok(store, vec![response(course(1), 5, 15)]);
    let key = pe_key(5, "biglearn_sparfa");
    let clue = student_clue_key(6, 7, "biglearn_sparfa");
    let mut first = commit(
        1,
        1,
        b"state-1",
        vec![put_pe(key.clone(), exercise_result(1, 1))],
    );
    first.problems = vec![problem(1, "kept")];
    eok(store.commit_course_progress(&first), "commit");

    let mut duplicate = commit(
        1,
        2,
        b"state-2",
        vec![
            put_clue(clue.clone(), clue_result(2)),
            put_pe(key.clone(), exercise_result(2, 2)),
            put_pe(pe_key(5, "local_query"), exercise_result(3, 2)),
            ResultWrite::Exercise {
                key: pe_key(5, "Biglearn_Sparfa"),
                result: None,
            },
        ],
    );
    duplicate.problems = vec![problem(2, "lost")];
    match store.commit_course_progress(&duplicate) {
        Err(EngineStoreError::DuplicateTarget { first, second, .. }) => {
            assert_eq!((first, second), (1, 3))
        }
        other => panic!("expected a duplicate target, got {other:?}"),
    }
    assert_untouched(store, &key, &clue);

    let mut bad = clue_result(4);
    bad.clue_data.maximum = f64::NAN;
    let non_finite = commit(1, 2, b"state-2", vec![put_clue(clue.clone(), bad)]);
    assert!(matches!(
        store.commit_course_progress(&non_finite),
        Err(EngineStoreError::NonFiniteClue { index: 0, .. })
    ));
    assert_untouched(store, &key, &clue);

    // Number 4 is missing: the stream is contiguous through 3 only.
    for (course_n, through) in [(1, 4), (1, 5), (2, 0)] {
        let beyond = commit(
            course_n,
            through,
            b"beyond",
            vec![put_clue(clue.clone(), clue_result(5))],
        );
        assert!(
            matches!(
                store.commit_course_progress(&beyond),
                Err(EngineStoreError::BeyondContiguousHead { .. })
            ),
            "course {course_n} through {through}"
        );
    }
    assert_untouched(store, &key, &clue);
    assert_eq!(watermark(store, 2), None);
}

/// Blobs come back bit for bit: every byte value, empty, large, any
/// format version; CLUE numbers and spy info come back exactly too.
pub fn engine_blobs_round_trip<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    let every_byte: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let large: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    course_with_events(store, 1, 3);
    for (through, version, bytes) in [
        (1, 0, &every_byte),
        (2, u32::MAX, &Vec::new()),
        (3, 7, &large),
    ] {
        let mut c = commit(1, through, b"", Vec::new());
        c.state = blob(version, bytes);
        eok(store.commit_course_progress(&c), "commit");
        let back = ok(
            store.course_state(&consumer("engine"), course_id(1)),
            "course_state",
        );
        assert_eq!(
            back,
            Some(CourseSnapshot {
                through: seq(through),
                head: blob(version, bytes),
                parts: Vec::new(),
            })
        );
    }
    let eco = ecosystem_id(5);
    let snapshot = Snapshot {
        through: SequenceNumber::ZERO,
        blob: blob(3, &every_byte),
    };
    eok(
        store.save_ecosystem_state(eco, &snapshot),
        "save_ecosystem_state",
    );
    assert_eq!(
        ok(store.ecosystem_state(eco), "ecosystem_state"),
        Some(snapshot)
    );
    let slot = MatrixSlot {
        matrix_uuid: EcosystemMatrixId::from_uuid(uuid(77)),
        response_count_threshold: i64::MAX as u64,
        model: blob(2, &large),
    };
    eok(store.save_matrix(eco, &slot), "save_matrix");
    assert_eq!(ok(store.matrix(eco), "matrix"), Some(slot));
    let keys: Vec<ClueKey> = (0..6).map(|n| teacher_clue_key(n, 1, "x")).collect();
    let writes: Vec<ResultWrite> = (0..6)
        .map(|n| put_clue(keys[n as usize].clone(), clue_result(n)))
        .collect();
    eok(store.write_results(&writes), "write_results");
    let back = ok(store.clue_results(&keys), "clue_results");
    for (n, got) in back.into_iter().enumerate() {
        let want = clue_result(n as u128);
        let got = got.unwrap_or_else(|| panic!("clue {n} missing"));
        assert_eq!(got, want);
        let bits = |d: &ClueData| {
            [
                d.minimum.to_bits(),
                d.most_likely.to_bits(),
                d.maximum.to_bits(),
            ]
        };
        assert_eq!(bits(&got.clue_data), bits(&want.clue_data));
    }
    let spy_key = pe_key(1, "x");
    let result = exercise_result(9, 0);
    eok(
        store.write_results(&[put_pe(spy_key.clone(), result.clone())]),
        "write",
    );
    let back = pe(store, &spy_key).map(|r| r.spy_info.to_json_text());
    assert_eq!(back, Some(result.spy_info.to_json_text()));
}

/// Ecosystem states never go back; an equal position replaces the blob.
/// Matrix slots are replaced; a threshold beyond `i64::MAX` is refused.
pub fn engine_ecosystem_state_and_matrix<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    let eco = ecosystem_id(5);
    assert_eq!(ok(store.ecosystem_state(eco), "ecosystem_state"), None);
    assert_eq!(ok(store.matrix(eco), "matrix"), None);
    let at = |n: u64, bytes: &[u8]| Snapshot {
        through: seq(n),
        blob: blob(1, bytes),
    };
    let save = |s: &Snapshot| eok(store.save_ecosystem_state(eco, s), "save_ecosystem_state");
    assert_eq!(save(&at(2, b"two")), CommitOutcome::Committed);
    assert_eq!(save(&at(2, b"two-again")), CommitOutcome::Committed);
    assert_eq!(
        save(&at(1, b"one")),
        CommitOutcome::Stale { current: seq(2) }
    );
    assert_eq!(
        ok(store.ecosystem_state(eco), "ecosystem_state"),
        Some(at(2, b"two-again"))
    );
    assert_eq!(
        ok(store.ecosystem_state(ecosystem_id(6)), "ecosystem_state"),
        None
    );
    let slot = |n: u128, threshold: u64| MatrixSlot {
        matrix_uuid: EcosystemMatrixId::from_uuid(uuid(n)),
        response_count_threshold: threshold,
        model: blob(1, &[n as u8; 4]),
    };
    eok(store.save_matrix(eco, &slot(1, 11)), "save_matrix");
    eok(store.save_matrix(eco, &slot(2, 23)), "save_matrix");
    eok(
        store.save_matrix(ecosystem_id(6), &slot(3, 0)),
        "save_matrix",
    );
    assert!(matches!(
        store.save_matrix(eco, &slot(4, u64::MAX)),
        Err(EngineStoreError::OutOfRange { .. })
    ));
    assert_eq!(ok(store.matrix(eco), "matrix"), Some(slot(2, 23)));
    assert_eq!(
        ok(store.matrix(ecosystem_id(6)), "matrix"),
        Some(slot(3, 0))
    );
}

/// Calls `$crate::$emit!{ (args) [check, …] }` with every engine check.
#[doc(hidden)]
#[macro_export]
macro_rules! __engine_conformance_checks {
    ($emit:ident, $($args:tt)*) => {
        $crate::$emit! { ($($args)*) [
            engine_commit_stores_everything,
            engine_stale_commit_is_a_noop,
            engine_failing_commit_changes_nothing,
            engine_blobs_round_trip,
            engine_state_parts_replace_and_delete,
            engine_ecosystem_state_and_matrix,
            engine_results_read_in_request_order,
            engine_external_upserts_last_write_wins,
            engine_external_conflicts_reject_the_call,
            engine_problem_log_keeps_latest,
            engine_concurrent_commits_land_once,
            engine_commit_extras_land_once,
            engine_recalc_commit_needs_the_watermark,
            engine_wake_up_queue,
            engine_refit_saves_matrix_and_thresholds,
            engine_grouped_commits_store_like_single_ones,
            engine_grouped_commit_error_stores_nothing_after_it,
        ] }
    };
}

/// Like [`crate::conformance_tests!`], for the [`EngineStore`] checks:
/// expands to a module (default name `engine_conformance`) with one
/// `#[test]` per check; the factory returns a fresh [`EngineHarness`]
/// (a store, or a store with its guard). Accepts `requires_env = "VAR"`.
///
/// ```
/// use biglearn_core::memory::MemoryStore;
/// biglearn_core::engine_conformance_tests!(MemoryStore::new());
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! engine_conformance_tests {
    ($module:ident, $factory:expr, requires_env = $var:literal $(,)?) => {
        $crate::__engine_conformance_checks!(__conformance_emit_tests, $module, $factory, $var);
    };
    ($factory:expr $(,)?) => {
        $crate::engine_conformance_tests!(engine_conformance, $factory);
    };
    ($module:ident, $factory:expr $(,)?) => {
        $crate::__engine_conformance_checks!(__conformance_emit_tests, $module, $factory);
    };
}

/// Every engine check, in the order [`crate::engine_conformance_tests!`]
/// emits them (for harnesses that iterate, e.g. to skip without a server).
pub fn all_engine_checks<S: EngineHarness>() -> Vec<super::Check<S>> {
    crate::__engine_conformance_checks!(__conformance_emit_list,)
}
