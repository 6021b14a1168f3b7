//! The append rules (A4, A5, A10, api.md §4.4–§4.6) as a pure function.
//!
//! A backend, inside its write transaction, (1) loads an [`AppendSnapshot`] of
//! everything the group could collide with, (2) calls [`plan_append`], (3)
//! writes the returned [`AppendPlan`] and commits. The rules live here once.

use std::collections::HashMap;

use crate::ids::{EcosystemId, EventId};

use super::types::*;

/// What already exists that a group's events may collide with. Backends fill
/// it with bulk lookups for exactly the ids/numbers/streams the group names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendSnapshot {
    /// Stored events whose uuid appears in the group.
    pub events_by_id: HashMap<EventId, Event>,
    /// Stored event uuid at each (stream, sequence number) the group names.
    pub ids_by_position: HashMap<(StreamId, SequenceNumber), EventId>,
    /// Heads of the streams the group names (absent: stream unknown).
    pub heads: HashMap<StreamId, StreamHead>,
    /// Stored sequence numbers above each head's `contiguous_through` (or
    /// from 0 when it is `None`), for the streams the group names, ascending.
    /// Needed only where the group could fill the missing number; a backend
    /// may restrict it to those streams.
    pub stored_above_contiguous: HashMap<StreamId, Vec<SequenceNumber>>,
    /// The next free metadata sequence number per stream kind
    /// (1 + current maximum, or 0).
    pub next_metadata_number: HashMap<StreamKind, u64>,
}

/// A metadata number to record for a newly created stream (A5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataAssignment {
    /// The created stream.
    pub stream: StreamId,
    /// Gap-free, in plan order.
    pub metadata_sequence_number: u64,
    /// For courses, the create_course event's `ecosystem_uuid`.
    pub initial_ecosystem: Option<EcosystemId>,
}

/// What to write for a group: the backend applies all of it in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendPlan {
    /// One outcome per request, in order.
    pub outcomes: Vec<Result<AppendReceipt, AppendRejection>>,
    /// New events to insert (only from accepted requests, no duplicates).
    pub inserts: Vec<Event>,
    /// New heads of every stream that got an insert (upsert).
    pub heads: Vec<(StreamId, StreamHead)>,
    /// Metadata numbers to record (one per stored create event).
    pub metadata: Vec<MetadataAssignment>,
}

/// Decides, for each request of the group in order, whether it is stored,
/// replayed or rejected, and computes the resulting heads and metadata.
///
/// Rules, in order, per event: type allowed in the stream kind and create
/// events at 0 (else `InvalidPlacement`); same uuid already stored (or earlier
/// in the group) with the same stream, number and type → replay, otherwise
/// `EventIdReused`; (stream, number) held by another uuid → `SequenceNumberTaken`.
pub fn plan_append(group: &[AppendRequest], snapshot: &AppendSnapshot) -> AppendPlan {
    let _ = (group, snapshot);
    unimplemented!("filled in by the event-stream rules work")
}
