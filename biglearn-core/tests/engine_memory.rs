//! The engine-store conformance checks on the in-memory store.

use biglearn_core::memory::MemoryStore;

biglearn_core::engine_conformance_tests!(MemoryStore::new());

#[test]
fn all_engine_checks_lists_every_check_once() {
    let checks = biglearn_core::testing::all_engine_checks::<MemoryStore>();
    let names: std::collections::BTreeSet<&str> = checks.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), checks.len());
    assert!(names.contains("engine_stale_commit_is_a_noop"));
}
