//! # biglearn
//!
//! An adaptive-learning engine: the OpenStax Biglearn event log, SPARFA
//! (sparse factor analysis), CLUEs and exercise scheduling in one library.
//!
//! This facade re-exports the workspace crates and carries the reference
//! server:
//! - [`core`] (`biglearn-core`): pure domain types, event-stream rules, SPARFA,
//!   projections, scheduling rules, the engine, storage traits and an
//!   in-memory store;
//! - [`store`] (`biglearn-store`): the SQLite (embedded default) and PostgreSQL
//!   implementations of those traits, and the group-commit ingestor;
//! - `server` (feature `server`, on by default): the Biglearn HTTP API over
//!   the engine (axum), as run by `examples/server.rs`.
//!
//! The README's examples are compiled as doc-tests of this crate.
#![doc = include_str!("../README.md")]

pub use biglearn_core as core;
pub use biglearn_store as store;

#[cfg(feature = "server")]
pub mod server;
