//! # biglearn
//!
//! An adaptive-learning engine: the OpenStax Biglearn event log, SPARFA
//! (sparse factor analysis), CLUEs and exercise scheduling in one library.
//!
//! This facade only re-exports the workspace crates:
//! - [`core`] (`biglearn-core`): pure domain types, event-stream rules, SPARFA,
//!   projections, scheduling rules, storage traits and an in-memory store;
//! - [`store`] (`biglearn-store`): the SQLite (embedded default) and PostgreSQL
//!   implementations of those traits, and the group-commit ingestor.
//!
//! The README's examples are compiled as doc-tests of this crate.
#![doc = include_str!("../README.md")]

pub use biglearn_core as core;
pub use biglearn_store as store;

#[cfg(feature = "server")]
pub mod server;
