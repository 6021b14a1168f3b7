//! Conformance check of course-state parts: a commit stores, replaces and
//! deletes exactly the parts it names, per consumer, next to the head; a
//! stale commit stores none; parts come back sorted by key.

use uuid::Uuid;

use super::{blob, commit, course_with_events, eok, EngineHarness};
use crate::engine_store::*;
use crate::ids::*;
use crate::testing::fixtures::{consumer, course_id, ok, seq};

fn student(n: u128) -> PartKey {
    PartKey::Student(StudentId::from_uuid(Uuid::from_u128(n)))
}

fn assignment(n: u128) -> PartKey {
    PartKey::Assignment(AssignmentId::from_uuid(Uuid::from_u128(n)))
}

fn put(key: PartKey, bytes: &[u8]) -> PartWrite {
    PartWrite {
        key,
        blob: Some(blob(2, bytes)),
    }
}

fn parts_of(store: &dyn crate::engine_store::EngineStore, who: &str) -> Vec<(PartKey, Vec<u8>)> {
    ok(
        store.course_state(&consumer(who), course_id(1)),
        "course_state",
    )
    .map(|s| s.parts.into_iter().map(|p| (p.key, p.blob.bytes)).collect())
    .unwrap_or_default()
}

/// Parts are stored with the head, replaced and deleted by later commits,
/// kept apart per consumer, untouched by a stale commit, sorted by key.
pub fn engine_state_parts_replace_and_delete<H: EngineHarness>(factory: &dyn Fn() -> H) {
    let harness = factory();
    let store = harness.engine();
    course_with_events(store, 1, 3);
    let mut first = commit(1, 1, b"head-1", Vec::new());
    first.parts = vec![
        put(assignment(9), b"a9"),
        put(student(2), b"s2"),
        put(PartKey::Roster, b"roster"),
        put(PartKey::Course, b"course"),
        put(assignment(3), b"a3"),
    ];
    eok(store.commit_course_progress(&first), "first commit");
    let expected = vec![
        (PartKey::Course, b"course".to_vec()),
        (PartKey::Roster, b"roster".to_vec()),
        (student(2), b"s2".to_vec()),
        (assignment(3), b"a3".to_vec()),
        (assignment(9), b"a9".to_vec()),
    ];
    assert_eq!(parts_of(store, "engine"), expected);
    let mut second = commit(1, 2, b"head-2", Vec::new());
    second.parts = vec![
        put(assignment(3), b"a3-new"),
        PartWrite {
            key: student(2),
            blob: None,
        },
        PartWrite {
            key: student(77),
            blob: None,
        },
    ];
    eok(store.commit_course_progress(&second), "second commit");
    let after = vec![
        (PartKey::Course, b"course".to_vec()),
        (PartKey::Roster, b"roster".to_vec()),
        (assignment(3), b"a3-new".to_vec()),
        (assignment(9), b"a9".to_vec()),
    ];
    assert_eq!(parts_of(store, "engine"), after);
    let state = ok(
        store.course_state(&consumer("engine"), course_id(1)),
        "state",
    )
    .expect("a state");
    assert_eq!(
        (state.through, state.head.bytes),
        (seq(2), b"head-2".to_vec())
    );
    // A stale commit stores none of its parts.
    let mut stale = commit(1, 2, b"stale", Vec::new());
    stale.parts = vec![put(assignment(9), b"overwritten")];
    assert!(matches!(
        eok(store.commit_course_progress(&stale), "stale commit"),
        CommitOutcome::Stale { .. }
    ));
    assert_eq!(parts_of(store, "engine"), after);
    // Another consumer's parts are its own.
    let mut other = commit(1, 1, b"other", Vec::new());
    other.consumer = consumer("other");
    other.parts = vec![put(assignment(9), b"theirs")];
    eok(store.commit_course_progress(&other), "other consumer");
    assert_eq!(
        parts_of(store, "other"),
        vec![(assignment(9), b"theirs".to_vec())]
    );
    assert_eq!(parts_of(store, "engine"), after);
}
