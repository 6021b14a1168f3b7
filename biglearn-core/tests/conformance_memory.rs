//! The public storage conformance suite on the in-memory store.

use biglearn_core::memory::MemoryStore;

biglearn_core::conformance_tests!(MemoryStore::new());

#[test]
fn all_checks_lists_every_check_once() {
    let checks = biglearn_core::testing::all_checks::<MemoryStore>();
    let names: std::collections::BTreeSet<&str> = checks.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), checks.len());
    assert!(names.contains("append_replay_is_silent"));
    assert!(names.contains("model_check"));
    // The list runs as well (a cheap one, through the fn pointer).
    if let Some(check) = checks.iter().find(|c| c.name == "append_replay_is_silent") {
        (check.run)(&MemoryStore::new);
    }
}

// The env-gated form, gated on a variable `cargo test` sets, so the suite
// runs a second time through it (a skip prints "skipped: <VAR> not set").
biglearn_core::conformance_tests!(
    gated,
    MemoryStore::new(),
    requires_env = "CARGO_MANIFEST_DIR"
);
