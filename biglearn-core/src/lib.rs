//! # biglearn-core
//!
//! The pure core of biglearn: no I/O, no threads required, compiles to wasm32.
//!
//! - [`ids`]: newtype ids over uuids ([`ids::CourseId`], [`ids::ExerciseId`], …).
//! - [`events`]: the typed course and ecosystem events of the wire protocol,
//!   with validation that reports every problem with its JSON path.
//! - [`log`]: the event-stream rules ([`log::plan_append`],
//!   [`log::fetch_events`]) and the storage traits [`log::EventLog`] and
//!   [`log::BundleLog`]; [`memory::MemoryStore`] implements them in memory.
//! - [`time`]: [`time::Instant`], the microsecond instants the engine and
//!   scheduler compare.
//! - [`sparfa`]: sparse factor analysis: fitting, learner inference, CLUEs, TeSR.
//! - [`simulation`]: a seeded class simulation (book, students with a hidden
//!   SPARFA truth, weekly assignments) driven through the log and the engine.

pub mod engine;
pub mod engine_store;
pub mod events;
pub mod fast_hash;
pub mod gradebook;
pub mod ids;
pub mod log;
pub mod memory;
pub mod projection;
pub mod scheduler;
pub mod simulation;
pub mod sparfa;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
