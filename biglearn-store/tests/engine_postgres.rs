//! The engine-store conformance checks of `biglearn-core` on PostgreSQL,
//! each store in a fresh schema that is dropped afterwards. Gated on
//! `BIGLEARN_TEST_PG_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`):
//! without it every test prints "skipped: BIGLEARN_TEST_PG_URL not set".

mod common;

use biglearn_core::engine_store::EngineStore;
use biglearn_core::testing::EngineHarness;
use common::{TestStore, PG_URL_VAR};

/// A store with its schema guard is tested through its store.
impl<G: Send + Sync> EngineHarness for TestStore<G> {
    fn engine(&self) -> &dyn EngineStore {
        &self.store
    }
}

/// A fresh, migrated store in its own schema (only called when the
/// variable is set).
fn fresh_pg_store() -> TestStore<common::PgSchema> {
    let url = std::env::var(PG_URL_VAR).expect("checked by the macro");
    common::pg_store(&url)
}

biglearn_core::engine_conformance_tests!(
    postgres,
    fresh_pg_store(),
    requires_env = "BIGLEARN_TEST_PG_URL"
);
