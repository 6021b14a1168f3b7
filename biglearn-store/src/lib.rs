//! # biglearn-store
//!
//! diesel implementations of `biglearn-core`'s storage traits on SQLite (bundled,
//! the embedded default) and PostgreSQL.
