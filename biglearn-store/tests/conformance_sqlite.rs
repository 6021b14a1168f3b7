//! The public conformance suite of `biglearn-core` on SQLite: once on a
//! fresh temporary file per store (WAL, reader pool) and once in memory
//! (reads through the writer connection).

mod common;

biglearn_core::conformance_tests!(sqlite_file, common::sqlite_file_store());
biglearn_core::conformance_tests!(sqlite_memory, common::sqlite_memory_store());
