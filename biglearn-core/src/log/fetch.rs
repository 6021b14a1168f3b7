//! The fetch algorithm of api.md §4.7 as a pure function over three primitive
//! queries, so every backend answers fetch_*_events identically.

use std::collections::{BTreeSet, HashSet};

use super::types::*;
use super::StoreError;

/// The primitive reads a backend answers within one consistent snapshot.
pub trait FetchSource {
    /// The stream's head; `None` if the stream is unknown.
    fn head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError>;

    /// Stored events of `stream` with number ≥ `offset` whose type is in
    /// `types`, ascending, at most `limit`.
    fn events_from(
        &self,
        stream: StreamId,
        offset: SequenceNumber,
        types: &BTreeSet<EventType>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError>;

    /// Which of `numbers` are stored in `stream`, of any type.
    fn stored_numbers(
        &self,
        stream: StreamId,
        numbers: &[SequenceNumber],
    ) -> Result<HashSet<SequenceNumber>, StoreError>;
}

/// Answers a fetch call exactly as api.md §4.7 describes (inclusive offset,
/// fair global ordering by distance from offset, call-wide `max_num_events`,
/// 32,000,000-bit cap with the first row always kept, `is_gap` / `is_end`).
pub fn fetch_events(
    query: &FetchQuery,
    source: &impl FetchSource,
) -> Result<Vec<FetchResponse>, StoreError> {
    let _ = (query, source);
    unimplemented!("filled in by the event-stream rules work")
}
