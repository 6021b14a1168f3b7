//! Conformance checks of [`EngineStore::commit_courses`]: a group stores
//! what the same commits store one by one, in order, and an error stores
//! nothing of the failing commit or of any after it.

use super::refit::{schedule, stored_schedule};
use super::{commit, course_with_events, eok, exercise_result, pe, pe_key, put_pe, state_bytes};
use super::{watermark, EngineHarness};
use crate::engine_store::*;
use crate::testing::fixtures::seq;

/// Stores `commits` with as many calls as the store needs (it may store
/// only the first few per call); the outcomes of all of them.
fn store_group(
    store: &dyn EngineStore,
    commits: &[GroupedCommit<'_>],
) -> Result<Vec<CommitOutcome>, EngineStoreError> {
    let mut outcomes = Vec::new();
    while outcomes.len() < commits.len() {
        let stored = store.commit_courses(&commits[outcomes.len()..])?;
        assert!(
            !stored.is_empty() && stored.len() <= commits.len() - outcomes.len(),
            "commit_courses stored {} of {} commits",
            stored.len(),
            commits.len() - outcomes.len()
        );
        outcomes.extend(stored);
    }
    Ok(outcomes)
}

/// Progress and recalculation commits of several courses in one group:
/// each outcome is the one it would have alone, later commits see earlier
/// ones (a recalculation right after its course's progress lands), and
/// the states, results and schedules are stored.
pub fn engine_grouped_commits_store_like_single_ones<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    for n in 1..=3 {
        course_with_events(store, n, 3);
    }
    eok(
        store.commit_course_with(
            &commit(2, 1, b"two-1", Vec::new()),
            &CourseExtras::default(),
        ),
        "commit",
    );
    let none = CourseExtras::default();
    let scheduled = CourseExtras {
        schedule: Some(schedule(Some(50), &[7])),
        ..CourseExtras::default()
    };
    let first = commit(
        1,
        2,
        b"one-2",
        vec![put_pe(pe_key(11, "local_query"), exercise_result(1, 2))],
    );
    let stale = commit(2, 1, b"two-again", Vec::new());
    let never = commit(3, 0, b"three-recalc", Vec::new());
    let third = commit(3, 3, b"three-3", Vec::new());
    let recalc = commit(
        3,
        3,
        b"three-recalc",
        vec![put_pe(pe_key(33, "local_query"), exercise_result(3, 3))],
    );
    let group = [
        GroupedCommit {
            kind: CommitKind::Progress,
            commit: &first,
            extras: &scheduled,
        },
        GroupedCommit {
            kind: CommitKind::Progress,
            commit: &stale,
            extras: &none,
        },
        GroupedCommit {
            kind: CommitKind::Recalc,
            commit: &never,
            extras: &none,
        },
        GroupedCommit {
            kind: CommitKind::Progress,
            commit: &third,
            extras: &none,
        },
        GroupedCommit {
            kind: CommitKind::Recalc,
            commit: &recalc,
            extras: &scheduled,
        },
    ];
    let outcomes = eok(store_group(store, &group), "commit_courses");
    assert_eq!(
        outcomes,
        [
            CommitOutcome::Committed,
            CommitOutcome::Stale { current: seq(1) },
            CommitOutcome::Stale { current: seq(0) },
            CommitOutcome::Committed,
            CommitOutcome::Committed,
        ]
    );
    assert_eq!(watermark(store, 1), Some(2));
    assert_eq!(watermark(store, 2), Some(1));
    assert_eq!(watermark(store, 3), Some(3));
    assert_eq!(state_bytes(store, 1), Some((2, b"one-2".to_vec())));
    assert_eq!(state_bytes(store, 2), Some((1, b"two-1".to_vec())));
    assert_eq!(state_bytes(store, 3), Some((3, b"three-recalc".to_vec())));
    assert_eq!(
        pe(store, &pe_key(11, "local_query")),
        Some(exercise_result(1, 2))
    );
    assert_eq!(
        pe(store, &pe_key(33, "local_query")),
        Some(exercise_result(3, 3))
    );
    assert_eq!(stored_schedule(store, 1), Some(schedule(Some(50), &[7])));
    assert_eq!(stored_schedule(store, 3), Some(schedule(Some(50), &[7])));
    assert_eq!(store.commit_courses(&[]).ok(), Some(Vec::new()));
}

/// A group whose commit is refused: the error is that commit's, and
/// neither it nor any commit after it is stored.
pub fn engine_grouped_commit_error_stores_nothing_after_it<H: EngineHarness>(
    factory: &dyn Fn() -> H,
) {
    let harness = factory();
    let store = harness.engine();
    for n in 1..=3 {
        course_with_events(store, n, 2);
    }
    let none = CourseExtras::default();
    let first = commit(1, 2, b"one", Vec::new());
    let beyond = commit(2, 9, b"two", Vec::new());
    let after = commit(
        3,
        2,
        b"three",
        vec![put_pe(pe_key(33, "local_query"), exercise_result(3, 3))],
    );
    let group = [
        GroupedCommit {
            kind: CommitKind::Progress,
            commit: &first,
            extras: &none,
        },
        GroupedCommit {
            kind: CommitKind::Progress,
            commit: &beyond,
            extras: &none,
        },
        GroupedCommit {
            kind: CommitKind::Progress,
            commit: &after,
            extras: &none,
        },
    ];
    let result = store_group(store, &group);
    assert!(
        matches!(result, Err(EngineStoreError::BeyondContiguousHead { .. })),
        "{result:?}"
    );
    assert_eq!(watermark(store, 2), None);
    assert_eq!(state_bytes(store, 2), None);
    assert_eq!(watermark(store, 3), None);
    assert_eq!(pe(store, &pe_key(33, "local_query")), None);
    // The first commit landed (stores that store one by one) or was rolled
    // back with the group; either way it can be stored now, once.
    let again = eok(store.commit_course_with(&first, &none), "commit");
    assert!(
        matches!(
            again,
            CommitOutcome::Committed | CommitOutcome::Stale { .. }
        ),
        "{again:?}"
    );
    assert_eq!(watermark(store, 1), Some(2));
}
