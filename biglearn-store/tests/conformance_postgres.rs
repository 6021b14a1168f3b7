//! The public conformance suite of `biglearn-core` on PostgreSQL, one test
//! per check (`postgres::append_replay_is_silent`, …), each store in a fresh
//! schema that is dropped afterwards. Gated on `BIGLEARN_TEST_PG_URL`
//! (e.g. `postgres://postgres@127.0.0.1:5432/postgres`): without it every
//! test prints `skipped: BIGLEARN_TEST_PG_URL not set`.

mod common;

biglearn_core::conformance_tests!(
    postgres,
    common::pg_store(&common::pg_url().expect("BIGLEARN_TEST_PG_URL is set")),
    requires_env = "BIGLEARN_TEST_PG_URL"
);
