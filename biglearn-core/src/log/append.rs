//! The append rules (A4, A5, A10, api.md §4.4–§4.6) as a pure function.
//!
//! A backend, inside its write transaction, (1) loads an [`AppendSnapshot`] of
//! everything the group could collide with, (2) calls [`plan_append`], (3)
//! writes the returned [`AppendPlan`] and commits. The rules live here once.

use std::collections::{BTreeSet, HashMap};

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
    /// Needed only where the group could fill the missing number (the group
    /// names the number right after `contiguous_through`); a backend may
    /// restrict it to those streams.
    pub stored_above_contiguous: HashMap<StreamId, Vec<SequenceNumber>>,
    /// The next free metadata sequence number per stream kind
    /// (1 + current maximum, or 0).
    pub next_metadata_number: HashMap<StreamKind, u64>,
}

impl AppendSnapshot {
    /// Everything a group names: event uuids, (stream, number) positions and
    /// streams, each once. A backend loads the snapshot for exactly these.
    pub fn keys_of(group: &[AppendRequest]) -> SnapshotKeys {
        let mut keys = SnapshotKeys::default();
        let mut ids = std::collections::HashSet::new();
        let mut positions = std::collections::HashSet::new();
        let mut streams = std::collections::HashSet::new();
        for event in group.iter().flat_map(|r| r.events.iter()) {
            if ids.insert(event.event_id) {
                keys.event_ids.push(event.event_id);
            }
            if positions.insert((event.stream, event.sequence_number)) {
                keys.positions.push((event.stream, event.sequence_number));
            }
            if streams.insert(event.stream) {
                keys.streams.push(event.stream);
            }
        }
        keys
    }
}

/// The ids, positions and streams an append group names, in first-seen
/// order without repeats (see [`AppendSnapshot::keys_of`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotKeys {
    /// Event uuids to look up.
    pub event_ids: Vec<EventId>,
    /// (stream, sequence number) positions to look up.
    pub positions: Vec<(StreamId, SequenceNumber)>,
    /// Streams whose heads (and numbers above the contiguous head) to load.
    pub streams: Vec<StreamId>,
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
    /// New events to insert (only from accepted requests, no duplicates), in
    /// request order: this is the insertion order backends record.
    pub inserts: Vec<Event>,
    /// New heads of every stream that got an insert (upsert), in the order
    /// the streams first got an insert.
    pub heads: Vec<(StreamId, StreamHead)>,
    /// Metadata numbers to record (one per stored create event).
    pub metadata: Vec<MetadataAssignment>,
}

/// The `ecosystem_uuid` of a create_course event's data, if present and a
/// valid uuid (the event constructors guarantee it for real requests).
pub fn initial_ecosystem_of(data: &EventData) -> Option<EcosystemId> {
    let value = data.to_value().ok()?;
    let text = value.get("ecosystem_uuid")?.as_str()?;
    EcosystemId::parse(text).ok()
}

/// The number right after `contiguous_through` (0 when it is `None`);
/// `None` past [`SequenceNumber::MAX`].
pub fn number_after(contiguous_through: Option<SequenceNumber>) -> Option<SequenceNumber> {
    match contiguous_through {
        None => Some(SequenceNumber::ZERO),
        Some(c) if c == SequenceNumber::MAX => None,
        Some(c) => Some(c.next()),
    }
}

/// The head of one stream while a group is planned.
#[derive(Debug, Clone, Default)]
struct WorkingHead {
    high_water_mark: u64,
    contiguous_through: Option<SequenceNumber>,
    /// Stored numbers above `contiguous_through`.
    above: BTreeSet<SequenceNumber>,
}

impl WorkingHead {
    fn head(&self) -> StreamHead {
        StreamHead {
            high_water_mark: self.high_water_mark,
            contiguous_through: self.contiguous_through,
        }
    }

    /// Records a newly stored number and advances the contiguous head
    /// through every number now present.
    fn insert(&mut self, number: SequenceNumber) {
        self.high_water_mark = self.high_water_mark.max(number.get() + 1);
        if self.contiguous_through.is_some_and(|c| number <= c) {
            return;
        }
        self.above.insert(number);
        while let Some(wanted) = number_after(self.contiguous_through) {
            if !self.above.remove(&wanted) {
                break;
            }
            self.contiguous_through = Some(wanted);
        }
    }
}

/// Mutable planning state: the snapshot plus every accepted request so far.
struct Working<'a> {
    snapshot: &'a AppendSnapshot,
    /// Events stored by accepted requests of this group.
    new_by_id: HashMap<EventId, Event>,
    /// Positions taken by accepted requests of this group.
    new_positions: HashMap<(StreamId, SequenceNumber), EventId>,
    heads: HashMap<StreamId, WorkingHead>,
    head_order: Vec<StreamId>,
    next_metadata: HashMap<StreamKind, u64>,
}

impl<'a> Working<'a> {
    fn new(snapshot: &'a AppendSnapshot) -> Self {
        Working {
            snapshot,
            new_by_id: HashMap::new(),
            new_positions: HashMap::new(),
            heads: HashMap::new(),
            head_order: Vec::new(),
            next_metadata: snapshot.next_metadata_number.clone(),
        }
    }

    fn event_by_id(&self, id: EventId) -> Option<&Event> {
        self.new_by_id
            .get(&id)
            .or_else(|| self.snapshot.events_by_id.get(&id))
    }

    fn id_at(&self, position: (StreamId, SequenceNumber)) -> Option<EventId> {
        self.new_positions
            .get(&position)
            .or_else(|| self.snapshot.ids_by_position.get(&position))
            .copied()
    }

    fn head_mut(&mut self, stream: StreamId) -> &mut WorkingHead {
        let snapshot = self.snapshot;
        if !self.heads.contains_key(&stream) {
            self.head_order.push(stream);
        }
        self.heads.entry(stream).or_insert_with(|| {
            let stored = snapshot.heads.get(&stream).copied().unwrap_or(StreamHead {
                high_water_mark: 0,
                contiguous_through: None,
            });
            let above = snapshot
                .stored_above_contiguous
                .get(&stream)
                .into_iter()
                .flatten()
                .copied()
                .filter(|n| stored.contiguous_through.map_or(true, |c| *n > c))
                .collect();
            WorkingHead {
                high_water_mark: stored.high_water_mark,
                contiguous_through: stored.contiguous_through,
                above,
            }
        })
    }
}

/// Checks one request against the working state plus its own earlier events;
/// returns the events to insert and the receipt, or the first rejection.
fn check_request(
    request: &AppendRequest,
    working: &Working<'_>,
) -> Result<(Vec<Event>, AppendReceipt), AppendRejection> {
    let mut own_by_id: HashMap<EventId, &Event> = HashMap::new();
    let mut own_positions: HashMap<(StreamId, SequenceNumber), EventId> = HashMap::new();
    let mut inserts = Vec::new();
    let mut receipt = AppendReceipt::default();
    for (index, event) in request.events.iter().enumerate() {
        let placement_ok = event.event_type.allowed_in(event.stream.kind())
            && (!event.event_type.is_create() || event.sequence_number == SequenceNumber::ZERO);
        if !placement_ok {
            return Err(AppendRejection::InvalidPlacement {
                index,
                event_type: event.event_type,
                stream: event.stream,
                sequence_number: event.sequence_number,
            });
        }
        let existing = own_by_id
            .get(&event.event_id)
            .copied()
            .or_else(|| working.event_by_id(event.event_id));
        if let Some(existing) = existing {
            let same = existing.stream == event.stream
                && existing.sequence_number == event.sequence_number
                && existing.event_type == event.event_type;
            if same {
                receipt.replayed += 1;
                continue;
            }
            return Err(AppendRejection::EventIdReused {
                index,
                event_id: event.event_id,
                existing_stream: existing.stream,
                existing_sequence_number: existing.sequence_number,
                existing_type: existing.event_type,
            });
        }
        let position = (event.stream, event.sequence_number);
        let holder = own_positions
            .get(&position)
            .copied()
            .or_else(|| working.id_at(position));
        if let Some(holder) = holder {
            return Err(AppendRejection::SequenceNumberTaken {
                index,
                stream: event.stream,
                sequence_number: event.sequence_number,
                event_id: event.event_id,
                existing: holder,
            });
        }
        own_by_id.insert(event.event_id, event);
        own_positions.insert(position, event.event_id);
        inserts.push(event.clone());
        receipt.stored += 1;
    }
    Ok((inserts, receipt))
}

/// Decides, for each request of the group in order, whether it is stored,
/// replayed or rejected, and computes the resulting heads and metadata.
///
/// Rules, in order, per event: type allowed in the stream kind and create
/// events at 0 (else `InvalidPlacement`); same uuid already stored (or earlier
/// in the group) with the same stream, number and type → replay, otherwise
/// `EventIdReused`; (stream, number) held by another uuid → `SequenceNumberTaken`.
/// A rejected request leaves no trace: later requests do not see its events.
///
/// ```
/// use biglearn_core::ids::{CourseId, EcosystemId, EventId};
/// use biglearn_core::log::*;
/// use uuid::Uuid;
///
/// let course = CourseId::from_uuid(Uuid::from_u128(1));
/// let create = Event {
///     stream: StreamId::Course(course),
///     sequence_number: SequenceNumber::ZERO,
///     event_id: EventId::from_uuid(Uuid::from_u128(1)),
///     event_type: EventType::CreateCourse,
///     data: EventData::from_json_text(
///         r#"{"ecosystem_uuid":"00000000-0000-0000-0000-000000000009"}"#,
///     ),
/// };
/// let request = AppendRequest { events: vec![create.clone(), create] };
/// let plan = plan_append(&[request], &AppendSnapshot::default());
/// assert_eq!(plan.outcomes, vec![Ok(AppendReceipt { stored: 1, replayed: 1 })]);
/// assert_eq!(plan.metadata[0].metadata_sequence_number, 0);
/// assert_eq!(
///     plan.metadata[0].initial_ecosystem,
///     Some(EcosystemId::from_uuid(Uuid::from_u128(9)))
/// );
/// ```
pub fn plan_append(group: &[AppendRequest], snapshot: &AppendSnapshot) -> AppendPlan {
    let mut working = Working::new(snapshot);
    let mut plan = AppendPlan::default();
    for request in group {
        match check_request(request, &working) {
            Err(rejection) => plan.outcomes.push(Err(rejection)),
            Ok((inserts, receipt)) => {
                for event in inserts {
                    working.head_mut(event.stream).insert(event.sequence_number);
                    if event.event_type.is_create() {
                        let kind = event.stream.kind();
                        let number = working.next_metadata.entry(kind).or_insert(0);
                        let initial_ecosystem = match event.event_type {
                            EventType::CreateCourse => initial_ecosystem_of(&event.data),
                            _ => None,
                        };
                        plan.metadata.push(MetadataAssignment {
                            stream: event.stream,
                            metadata_sequence_number: *number,
                            initial_ecosystem,
                        });
                        *number += 1;
                    }
                    working
                        .new_positions
                        .insert((event.stream, event.sequence_number), event.event_id);
                    working.new_by_id.insert(event.event_id, event.clone());
                    plan.inserts.push(event);
                }
                plan.outcomes.push(Ok(receipt));
            }
        }
    }
    plan.heads = working
        .head_order
        .iter()
        .filter_map(|stream| working.heads.get(stream).map(|h| (*stream, h.head())))
        .collect();
    plan
}

#[cfg(test)]
#[path = "append_tests.rs"]
mod tests;
