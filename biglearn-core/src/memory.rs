//! In-memory implementation of the storage traits.
