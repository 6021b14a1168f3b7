//! # biglearn-store
//!
//! diesel implementations of `biglearn-core`'s storage traits on SQLite (bundled,
//! the embedded default) and PostgreSQL.
//!
//! - [`SqlStore`] implements [`biglearn_core::log::EventLog`],
//!   [`biglearn_core::log::BundleLog`] and [`biglearn_core::log::IdRegistry`]
//!   (the id registry, table `id_owners`, written with the events) on either
//!   database; open it with
//!   [`SqlStore::open`] (a path, `:memory:` or a `postgres://` URL; embedded
//!   migrations applied) or with [`SqlStore::open_sqlite`] /
//!   [`SqlStore::open_postgres`] and an explicit [`SqlStore::migrate`].
//! - [`SqliteOptions`] / [`PgOptions`] configure durability
//!   ([`Synchronous`]) and connection pools.
//! - The append and fetch rules are `biglearn-core`'s pure functions; this
//!   crate only loads their inputs with bulk queries and writes their plans.

mod backend_methods;
mod checkpoint;
mod config;
mod engine_store;
mod error;
mod fixed_sql;
mod log_sync;
mod postgres;
mod rows;
mod schema;
mod sqlite;
mod store;

pub use config::{PgOptions, SqliteOptions, Synchronous};
pub use sqlite::{ConnectionPragmas, SqlitePragmas};
pub use store::{BackendKind, SqlStore};

pub mod ingest;
pub use ingest::{drain_bundles, IngestConfig, IngestStats, Ingestor};
