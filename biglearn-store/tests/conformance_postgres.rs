//! The public conformance suite of `biglearn-core` on PostgreSQL, each store
//! in a fresh schema that is dropped afterwards. Gated on
//! `BIGLEARN_TEST_PG_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! The suite's `conformance_tests!` macro cannot skip when the variable is
//! missing, so one test walks `all_checks()` instead, runs every check even
//! after a failure, and names every failing check.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use biglearn_core::testing::all_checks;
use common::{pg_store, pg_url, PgSchema, TestStore};

#[test]
fn postgres_conformance_suite() {
    let Some(url) = pg_url() else { return };
    let mut failures = Vec::new();
    let checks = all_checks::<TestStore<PgSchema>>();
    let total = checks.len();
    for check in checks {
        let factory = || pg_store(&url);
        let outcome = catch_unwind(AssertUnwindSafe(|| (check.run)(&factory)));
        match outcome {
            Ok(()) => println!("postgres conformance: {} ok", check.name),
            Err(_) => {
                println!("postgres conformance: {} FAILED", check.name);
                failures.push(check.name);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} postgres conformance checks failed: {failures:?}",
        failures.len()
    );
}
