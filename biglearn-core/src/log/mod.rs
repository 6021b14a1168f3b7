//! The append-only, per-stream event log (api.md §4, ops.md §1, decisions A4,
//! A5, A10, O2, O3).
//!
//! - [`types`]: streams, events, requests and answers.
//! - [`append`]: the pure rules that decide what an append group stores
//!   ([`plan_append`]); every backend runs them inside its write transaction.
//! - [`bundle`]: the pure rules of per-course bundles, confirmed watermarks
//!   and open gaps (O2b, O3).
//! - [`fetch`]: the pure fair-fetch algorithm of api.md §4.7 ([`fetch_events`])
//!   over three primitive queries a backend answers ([`FetchSource`]).
//! - [`registry`]: the ids the stored events introduce (students,
//!   assignments, course and book containers) and their owners, written with
//!   the events; [`IdRegistry`] reads them in batches.
//! - [`EventLog`] / [`BundleLog`] / [`IdRegistry`]: the storage traits;
//!   [`crate::memory`] holds the in-memory implementation and
//!   `biglearn-store` the SQL ones.

pub mod append;
pub mod bundle;
pub mod fetch;
pub mod registry;
pub mod types;

pub use append::{plan_append, AppendPlan, AppendSnapshot, MetadataAssignment, SnapshotKeys};
pub use fetch::{fetch_events, FetchSource};
pub use registry::{introduced_ids, IdKind, IdOwners, IdQuery, IdRegistry, RegisteredId};
pub use types::*;

use crate::ids::CourseId;

/// A failure of the storage backend itself (not of the caller's input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or a statement failed.
    #[error("{backend} storage failed during {operation}: {message}")]
    Backend {
        /// `sqlite`, `postgres`, `memory`.
        backend: &'static str,
        /// What was being done.
        operation: &'static str,
        /// The driver's message.
        message: String,
    },
    /// Stored data violates an invariant (e.g. an unknown event type code).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store was opened with a bad configuration (URL, path, pool size...).
    #[error("invalid store configuration: {0}")]
    Config(String),
}

/// Why one append request did not land.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The request conflicts with stored events (or itself); nothing stored.
    #[error(transparent)]
    Rejected(#[from] AppendRejection),
    /// The backend failed; nothing of the group was stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The durable event log. Sync, object-safe, shareable across threads.
pub trait EventLog: Send + Sync {
    /// Appends several independent requests in **one** durable transaction
    /// (group commit, O2a). Each request is atomic on its own: a rejected
    /// request stores nothing and does not affect the others; later requests
    /// in the group see the effects of earlier accepted ones. Returns one
    /// outcome per request, in order, only after the commit is durable. An
    /// `Err` means the whole group failed and nothing was stored.
    fn append_group(
        &self,
        group: &[AppendRequest],
    ) -> Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError>;

    /// Appends one atomic request (a group of one).
    fn append(&self, request: &AppendRequest) -> Result<AppendReceipt, AppendError> {
        let mut outcomes = self.append_group(std::slice::from_ref(request))?;
        match outcomes.pop() {
            Some(outcome) => Ok(outcome?),
            None => Err(StoreError::Corrupt("append_group returned no outcome".into()).into()),
        }
    }

    /// The fetch of api.md §4.7 (one consistent read).
    fn fetch_events(&self, query: &FetchQuery) -> Result<Vec<FetchResponse>, StoreError>;

    /// Created streams of `kind` with metadata number ≥ `offset`, ascending,
    /// at most `max` (api.md §4.8).
    fn fetch_metadatas(
        &self,
        kind: StreamKind,
        offset: u64,
        max: u32,
    ) -> Result<Vec<StreamMetadata>, StoreError>;

    /// The head of a stream; `None` if no event of it was ever stored.
    fn stream_head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError>;

    /// A stored event by uuid.
    fn event(&self, event_id: crate::ids::EventId) -> Result<Option<Event>, StoreError>;

    /// Streams blocked at a missing sequence number (O3), at most `max`.
    fn open_gaps(&self, max: usize) -> Result<Vec<OpenGap>, StoreError>;
}

/// Per-course contiguous bundles with per-consumer confirmed watermarks (O2b):
/// at-least-once, in order per course, never past a gap.
pub trait BundleLog: EventLog {
    /// Courses with events past `consumer`'s confirmed watermark (up to their
    /// contiguous head), oldest waiting first, each as one contiguous bundle
    /// within `limits`. Does not move any watermark.
    fn next_bundles(
        &self,
        consumer: &ConsumerName,
        limits: BundleLimits,
    ) -> Result<Vec<Bundle>, StoreError>;

    /// Raises `consumer`'s watermark for `course` to `through` (monotonic: a
    /// lower value is ignored, so re-confirming is harmless). Confirming past
    /// the course's contiguous head is clamped to it.
    fn confirm(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
        through: SequenceNumber,
    ) -> Result<(), StoreError>;

    /// The confirmed watermark; `None` before the first confirmation.
    fn confirmed(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<SequenceNumber>, StoreError>;

    /// Events stored contiguously but not yet confirmed by `consumer`, for
    /// `course` (its lag, A6b).
    fn backlog(&self, consumer: &ConsumerName, course: CourseId) -> Result<u64, StoreError>;
}
