//! Conformance checks of the refit and wake-up storage of [`EngineStore`]:
//! commit extras land with the watermark (and never twice), recalculation
//! commits need the committed watermark, the wake-up queue, and the matrix
//! saved with its thresholds.

use crate::gradebook::FitResponse;
use uuid::Uuid;

use super::{commit, course_with_events, eok, exercise_result, pe, pe_key, put_pe, state_bytes};
use super::{watermark, EngineHarness};
use crate::engine_store::*;
use crate::ids::*;
use crate::testing::fixtures::{consumer, course_id, ok, seq};
use crate::time::Instant;

fn fit(
    eco: u128,
    student: u128,
    exercise: u128,
    at: i64,
    response: u128,
    correct: bool,
) -> FitResponse {
    FitResponse {
        ecosystem: EcosystemId::from_uuid(Uuid::from_u128(eco)),
        student: StudentId::from_uuid(Uuid::from_u128(student)),
        exercise: ExerciseId::from_uuid(Uuid::from_u128(exercise)),
        responded_at: Instant::from_micros(at),
        response: ResponseId::from_uuid(Uuid::from_u128(response)),
        is_correct: correct,
    }
}

fn group(n: u128) -> ExerciseGroupId {
    ExerciseGroupId::from_uuid(Uuid::from_u128(n))
}

fn eco(n: u128) -> EcosystemId {
    EcosystemId::from_uuid(Uuid::from_u128(n))
}

pub(super) fn schedule(wake: Option<i64>, ecosystems: &[u128]) -> CourseSchedule {
    CourseSchedule {
        wake_at: wake.map(Instant::from_micros),
        ecosystems: ecosystems.iter().map(|e| eco(*e)).collect(),
    }
}

pub(super) fn stored_schedule(store: &dyn EngineStore, course_n: u128) -> Option<CourseSchedule> {
    ok(
        store.course_schedule(&consumer("engine"), course_id(course_n)),
        "course_schedule",
    )
}

/// Commit extras land with the watermark: the earliest first response per
/// (ecosystem, student, exercise) is kept, group counts add up, the
/// schedule is replaced; a stale commit stores none of them.
pub fn engine_commit_extras_land_once<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    course_with_events(store, 1, 4);
    let first = CourseExtras {
        fit_responses: vec![fit(7, 1, 100, 50, 1, true), fit(7, 2, 100, 60, 2, false)],
        group_counts: vec![(group(9), 2), (group(8), 1)],
        schedule: Some(schedule(Some(1_000), &[7, 3])),
    };
    let c = commit(1, 1, b"one", Vec::new());
    assert_eq!(
        eok(store.commit_course_with(&c, &first), "commit"),
        CommitOutcome::Committed
    );
    // Redelivered: stale, nothing counted twice.
    assert!(matches!(
        eok(store.commit_course_with(&c, &first), "stale commit"),
        CommitOutcome::Stale { .. }
    ));
    let second = CourseExtras {
        // Earlier than the stored one (replaces it), later (ignored), new.
        fit_responses: vec![
            fit(7, 1, 100, 40, 5, false),
            fit(7, 2, 100, 70, 6, true),
            fit(8, 1, 100, 10, 7, true),
        ],
        group_counts: vec![(group(9), 3)],
        schedule: Some(schedule(None, &[7])),
    };
    eok(
        store.commit_course_with(&commit(1, 2, b"two", Vec::new()), &second),
        "commit",
    );
    assert_eq!(
        ok(store.fit_responses(eco(7)), "fit_responses"),
        vec![fit(7, 1, 100, 40, 5, false), fit(7, 2, 100, 60, 2, false)]
    );
    assert_eq!(
        ok(store.fit_responses(eco(8)), "fit_responses"),
        vec![fit(8, 1, 100, 10, 7, true)]
    );
    assert!(ok(store.fit_responses(eco(6)), "fit_responses").is_empty());
    assert_eq!(
        ok(
            store.group_counts(&[group(9), group(1), group(8)]),
            "group_counts"
        ),
        vec![5, 0, 1]
    );
    assert_eq!(stored_schedule(store, 1), Some(schedule(None, &[7])));
    assert_eq!(stored_schedule(store, 2), None);
    // A commit without a schedule leaves the stored one.
    eok(
        store.commit_course_with(
            &commit(1, 3, b"three", Vec::new()),
            &CourseExtras::default(),
        ),
        "commit",
    );
    assert_eq!(stored_schedule(store, 1), Some(schedule(None, &[7])));
    // Out-of-range counts are rejected and roll the commit back.
    let huge = CourseExtras {
        group_counts: vec![(group(9), u64::MAX)],
        ..CourseExtras::default()
    };
    let rejected = store.commit_course_with(&commit(1, 4, b"four", Vec::new()), &huge);
    assert!(
        matches!(rejected, Err(EngineStoreError::OutOfRange { .. })),
        "{rejected:?}"
    );
    assert_eq!(watermark(store, 1), Some(3));
    assert_eq!(ok(store.group_counts(&[group(9)]), "group_counts"), vec![5]);
}

/// A recalculation commit lands only at the committed watermark, which it
/// does not move; otherwise it is stale and stores nothing.
pub fn engine_recalc_commit_needs_the_watermark<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    course_with_events(store, 1, 4);
    let key = pe_key(5, "local_query");
    let extras = CourseExtras {
        schedule: Some(schedule(Some(10), &[3])),
        ..CourseExtras::default()
    };
    // Never committed: stale at zero.
    assert_eq!(
        eok(
            store.commit_course_recalc(&commit(1, 2, b"x", Vec::new()), &extras),
            "recalc"
        ),
        CommitOutcome::Stale { current: seq(0) }
    );
    eok(
        store.commit_course_with(&commit(1, 2, b"two", Vec::new()), &CourseExtras::default()),
        "commit",
    );
    for through in [1, 3] {
        assert_eq!(
            eok(
                store.commit_course_recalc(
                    &commit(
                        1,
                        through,
                        b"x",
                        vec![put_pe(key.clone(), exercise_result(1, 2))]
                    ),
                    &extras
                ),
                "recalc"
            ),
            CommitOutcome::Stale { current: seq(2) },
            "through {through}"
        );
    }
    assert_eq!(pe(store, &key), None);
    assert_eq!(stored_schedule(store, 1), None);
    let recalc = commit(
        1,
        2,
        b"recalc",
        vec![put_pe(key.clone(), exercise_result(3, 2))],
    );
    assert_eq!(
        eok(store.commit_course_recalc(&recalc, &extras), "recalc"),
        CommitOutcome::Committed
    );
    assert_eq!(watermark(store, 1), Some(2));
    assert_eq!(state_bytes(store, 1), Some((2, b"recalc".to_vec())));
    assert_eq!(pe(store, &key), Some(exercise_result(3, 2)));
    assert_eq!(stored_schedule(store, 1), Some(schedule(Some(10), &[3])));
    // The next bundle still commits on top of it.
    assert_eq!(
        eok(
            store.commit_course_with(
                &commit(1, 3, b"three", Vec::new()),
                &CourseExtras::default()
            ),
            "commit"
        ),
        CommitOutcome::Committed
    );
}

/// Due courses come earliest first, per consumer; a new matrix brings the
/// wake-up of the courses listing its ecosystem forward, never back.
pub fn engine_wake_up_queue<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    for (n, wake, ecos) in [
        (1, Some(300), vec![7]),
        (2, Some(100), vec![7, 8]),
        (3, None, vec![8]),
        (4, Some(200), vec![9]),
    ] {
        course_with_events(store, n, 1);
        let extras = CourseExtras {
            schedule: Some(schedule(wake, &ecos)),
            ..CourseExtras::default()
        };
        eok(
            store.commit_course_with(&commit(n, 1, b"s", Vec::new()), &extras),
            "commit",
        );
    }
    let due = |now: i64, max: usize| {
        ok(
            store.due_courses(&consumer("engine"), Instant::from_micros(now), max),
            "due_courses",
        )
    };
    assert_eq!(due(250, 10), vec![course_id(2), course_id(4)]);
    assert_eq!(due(1_000, 2), vec![course_id(2), course_id(4)]);
    assert_eq!(due(99, 10), Vec::<CourseId>::new());
    assert!(ok(
        store.due_courses(&consumer("other"), Instant::from_micros(1_000), 10),
        "due_courses"
    )
    .is_empty());
    // Ecosystem 8: course 2 is already due at 100 (kept), course 3 wakes.
    assert_eq!(
        eok(
            store.wake_courses_using(eco(8), Instant::from_micros(150)),
            "wake"
        ),
        1
    );
    assert_eq!(
        stored_schedule(store, 2),
        Some(schedule(Some(100), &[7, 8]))
    );
    assert_eq!(stored_schedule(store, 3), Some(schedule(Some(150), &[8])));
    assert_eq!(
        due(160, 10),
        vec![course_id(2), course_id(3)],
        "earliest first"
    );
    assert_eq!(
        eok(
            store.wake_courses_using(eco(5), Instant::from_micros(0)),
            "wake"
        ),
        0
    );
}

/// A refit saves the matrix and the thresholds together; the matrix uuid
/// is readable without the model.
pub fn engine_refit_saves_matrix_and_thresholds<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    assert_eq!(ok(store.refit_thresholds(eco(7)), "thresholds"), None);
    assert_eq!(ok(store.matrix_id(eco(7)), "matrix_id"), None);
    let slot = MatrixSlot {
        matrix_uuid: EcosystemMatrixId::from_uuid(Uuid::from_u128(0x77)),
        response_count_threshold: 12,
        model: StateBlob {
            format_version: 1,
            bytes: b"model".to_vec(),
        },
    };
    let thresholds = StateBlob {
        format_version: 1,
        bytes: b"thresholds".to_vec(),
    };
    eok(store.save_refit(eco(7), &slot, &thresholds), "save_refit");
    assert_eq!(ok(store.matrix(eco(7)), "matrix"), Some(slot.clone()));
    assert_eq!(
        ok(store.matrix_id(eco(7)), "matrix_id"),
        Some(slot.matrix_uuid)
    );
    assert_eq!(
        ok(store.refit_thresholds(eco(7)), "thresholds"),
        Some(thresholds)
    );
    let bad = MatrixSlot {
        response_count_threshold: u64::MAX,
        ..slot.clone()
    };
    let newer = StateBlob {
        format_version: 1,
        bytes: b"newer".to_vec(),
    };
    assert!(store.save_refit(eco(7), &bad, &newer).is_err());
    assert_eq!(ok(store.matrix(eco(7)), "matrix"), Some(slot));
    assert_eq!(
        ok(store.refit_thresholds(eco(7)), "thresholds").map(|b| b.bytes),
        Some(b"thresholds".to_vec())
    );
}
