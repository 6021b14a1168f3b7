//! The engine-store conformance checks of `biglearn-core` on SQLite: once on
//! a fresh temporary file per store (WAL, reader pool) and once in memory
//! (reads through the writer connection).

mod common;

use biglearn_core::engine_store::EngineStore;
use biglearn_core::testing::EngineHarness;
use common::TestStore;

/// A store with its temporary directory or schema is tested through its store.
impl<G: Send + Sync> EngineHarness for TestStore<G> {
    fn engine(&self) -> &dyn EngineStore {
        &self.store
    }
}

biglearn_core::engine_conformance_tests!(sqlite_file, common::sqlite_file_store());
biglearn_core::engine_conformance_tests!(sqlite_memory, common::sqlite_memory_store());
