//! Value types of the event log: streams, event types, sequence numbers, events,
//! append requests and their outcomes, fetch queries and answers.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{CourseId, EcosystemId, EventId};

/// Which kind of stream an event belongs to (api.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// One stream per course; every course-scoped write.
    Course,
    /// One stream per ecosystem; only create_ecosystem (and no_op).
    Ecosystem,
}

/// One event stream: a course or an ecosystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamId {
    /// The stream of one course.
    Course(CourseId),
    /// The stream of one ecosystem.
    Ecosystem(EcosystemId),
}

impl StreamId {
    /// The kind of this stream.
    pub fn kind(&self) -> StreamKind {
        match self {
            StreamId::Course(_) => StreamKind::Course,
            StreamId::Ecosystem(_) => StreamKind::Ecosystem,
        }
    }

    /// The stream's uuid (course or ecosystem uuid).
    pub fn uuid(&self) -> Uuid {
        match self {
            StreamId::Course(id) => *id.as_uuid(),
            StreamId::Ecosystem(id) => *id.as_uuid(),
        }
    }

    /// Builds a stream id from its kind and uuid (used by storage backends).
    pub fn from_parts(kind: StreamKind, uuid: Uuid) -> Self {
        match kind {
            StreamKind::Course => StreamId::Course(CourseId::from_uuid(uuid)),
            StreamKind::Ecosystem => StreamId::Ecosystem(EcosystemId::from_uuid(uuid)),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamId::Course(id) => write!(f, "course {id}"),
            StreamId::Ecosystem(id) => write!(f, "ecosystem {id}"),
        }
    }
}

/// The event types of api.md §4.2, by their wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// Gap filler, written only by the admin repair command (O3). Either stream.
    NoOp,
    /// Ecosystem stream, always sequence number 0.
    CreateEcosystem,
    /// Course stream, always sequence number 0.
    CreateCourse,
    /// Course stream.
    PrepareCourseEcosystem,
    /// Course stream.
    UpdateCourseEcosystem,
    /// Course stream.
    UpdateRoster,
    /// Course stream.
    UpdateCourseActiveDates,
    /// Course stream.
    UpdateGloballyExcludedExercises,
    /// Course stream.
    UpdateCourseExcludedExercises,
    /// Course stream.
    CreateUpdateAssignment,
    /// Course stream.
    RecordResponse,
}

impl EventType {
    /// Every event type, in code order.
    pub const ALL: [EventType; 11] = [
        EventType::NoOp,
        EventType::CreateEcosystem,
        EventType::CreateCourse,
        EventType::PrepareCourseEcosystem,
        EventType::UpdateCourseEcosystem,
        EventType::UpdateRoster,
        EventType::UpdateCourseActiveDates,
        EventType::UpdateGloballyExcludedExercises,
        EventType::UpdateCourseExcludedExercises,
        EventType::CreateUpdateAssignment,
        EventType::RecordResponse,
    ];

    /// The wire name (`record_response`, …).
    pub fn name(&self) -> &'static str {
        match self {
            EventType::NoOp => "no_op",
            EventType::CreateEcosystem => "create_ecosystem",
            EventType::CreateCourse => "create_course",
            EventType::PrepareCourseEcosystem => "prepare_course_ecosystem",
            EventType::UpdateCourseEcosystem => "update_course_ecosystem",
            EventType::UpdateRoster => "update_roster",
            EventType::UpdateCourseActiveDates => "update_course_active_dates",
            EventType::UpdateGloballyExcludedExercises => "update_globally_excluded_exercises",
            EventType::UpdateCourseExcludedExercises => "update_course_excluded_exercises",
            EventType::CreateUpdateAssignment => "create_update_assignment",
            EventType::RecordResponse => "record_response",
        }
    }

    /// Parses a wire name; `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// This project's storage code: unique across both streams (unlike the
    /// original, where both create events were 0). Stable: stored on disk.
    pub fn code(&self) -> i16 {
        match self {
            EventType::NoOp => -1,
            EventType::CreateEcosystem => 0,
            EventType::CreateCourse => 10,
            EventType::PrepareCourseEcosystem => 1,
            EventType::UpdateCourseEcosystem => 2,
            EventType::UpdateRoster => 3,
            EventType::UpdateCourseActiveDates => 4,
            EventType::UpdateGloballyExcludedExercises => 5,
            EventType::UpdateCourseExcludedExercises => 6,
            EventType::CreateUpdateAssignment => 7,
            EventType::RecordResponse => 8,
        }
    }

    /// Inverse of [`EventType::code`].
    pub fn from_code(code: i16) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Whether events of this type may be stored in a stream of `kind`.
    pub fn allowed_in(&self, kind: StreamKind) -> bool {
        match self {
            EventType::NoOp => true,
            EventType::CreateEcosystem => kind == StreamKind::Ecosystem,
            _ => kind == StreamKind::Course,
        }
    }

    /// create_course / create_ecosystem: forced to sequence number 0 and
    /// assigned a metadata sequence number when stored (A5).
    pub fn is_create(&self) -> bool {
        matches!(self, EventType::CreateCourse | EventType::CreateEcosystem)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A client-assigned, per-stream sequence number (api.md §4.4): any
/// non-negative integer that fits a signed 64-bit database column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct SequenceNumber(u64);

/// A sequence number above `i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sequence number {0} is larger than {max}", max = i64::MAX)]
pub struct SequenceNumberOutOfRange(pub u64);

impl SequenceNumber {
    /// Sequence number 0, taken by create events.
    pub const ZERO: SequenceNumber = SequenceNumber(0);
    /// The largest storable sequence number.
    pub const MAX: SequenceNumber = SequenceNumber(i64::MAX as u64);

    /// Checks the range.
    pub fn new(value: u64) -> Result<Self, SequenceNumberOutOfRange> {
        if value > i64::MAX as u64 {
            Err(SequenceNumberOutOfRange(value))
        } else {
            Ok(SequenceNumber(value))
        }
    }

    /// The number as `u64`.
    pub const fn get(&self) -> u64 {
        self.0
    }

    /// The number as a database `BIGINT`.
    pub const fn as_i64(&self) -> i64 {
        self.0 as i64
    }

    /// From a database `BIGINT`; `None` if negative.
    pub fn from_i64(value: i64) -> Option<Self> {
        u64::try_from(value).ok().map(SequenceNumber)
    }

    /// The next number, saturating at [`SequenceNumber::MAX`].
    pub fn next(&self) -> SequenceNumber {
        SequenceNumber((self.0 + 1).min(i64::MAX as u64))
    }

    /// The previous number, `None` at 0.
    pub fn prev(&self) -> Option<SequenceNumber> {
        self.0.checked_sub(1).map(SequenceNumber)
    }
}

impl TryFrom<u64> for SequenceNumber {
    type Error = SequenceNumberOutOfRange;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        SequenceNumber::new(value)
    }
}

impl From<SequenceNumber> for u64 {
    fn from(value: SequenceNumber) -> Self {
        value.0
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The `event_data` object of an event, as compact JSON text. Immutable and
/// cheap to clone; stored and returned verbatim (O2).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EventData(Arc<str>);

impl EventData {
    /// Wraps JSON text. The caller guarantees it is a JSON object (the event
    /// constructors in [`crate::events`] do).
    pub fn from_json_text(text: impl Into<Arc<str>>) -> Self {
        EventData(text.into())
    }

    /// Serializes a JSON value compactly.
    pub fn from_value(value: &serde_json::Value) -> Self {
        EventData(value.to_string().into())
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Size used by the fetch byte cap: bit length of the JSON text (api.md §4.7).
    pub fn bit_len(&self) -> u64 {
        self.0.len() as u64 * 8
    }

    /// Parses the JSON text.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

impl fmt::Debug for EventData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventData({})", &self.0)
    }
}

/// One event, as appended and as stored. Events never change once stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The stream it belongs to.
    pub stream: StreamId,
    /// Its client-assigned position in the stream.
    pub sequence_number: SequenceNumber,
    /// Globally unique id (the idempotency key).
    pub event_id: EventId,
    /// Its type.
    pub event_type: EventType,
    /// Its data, verbatim.
    pub data: EventData,
}

/// One atomic client call: every event is stored, or none is (A4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppendRequest {
    /// The events in request order.
    pub events: Vec<Event>,
}

/// What an accepted append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppendReceipt {
    /// Events newly stored.
    pub stored: usize,
    /// Events that were identical replays of stored ones (or of earlier items
    /// of the same call, A10) and were not stored again.
    pub replayed: usize,
}

/// Why a whole append request was refused; nothing of it was stored (A4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendRejection {
    /// A different event already holds this (stream, sequence number).
    #[error("events[{index}]: {stream} sequence number {sequence_number} is already used by event {existing}, not {event_id}")]
    SequenceNumberTaken {
        /// Position in the request.
        index: usize,
        /// Stream of the rejected event.
        stream: StreamId,
        /// The contested number.
        sequence_number: SequenceNumber,
        /// The rejected event.
        event_id: EventId,
        /// The event that holds the number.
        existing: EventId,
    },
    /// The event uuid is already stored with a different stream, number or type.
    #[error("events[{index}]: event {event_id} was already stored as {existing_type} at {existing_stream} sequence number {existing_sequence_number}")]
    EventIdReused {
        /// Position in the request.
        index: usize,
        /// The reused uuid.
        event_id: EventId,
        /// Where it is stored.
        existing_stream: StreamId,
        /// At which number.
        existing_sequence_number: SequenceNumber,
        /// With which type.
        existing_type: EventType,
    },
    /// The event type cannot go in that kind of stream, or a create event is
    /// not at sequence number 0.
    #[error("events[{index}]: {event_type} cannot be stored in {stream} at sequence number {sequence_number}")]
    InvalidPlacement {
        /// Position in the request.
        index: usize,
        /// The event type.
        event_type: EventType,
        /// The stream.
        stream: StreamId,
        /// The number.
        sequence_number: SequenceNumber,
    },
}

/// Server-assigned metadata of a created stream (api.md §4.6, §4.8, A5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamMetadata {
    /// The stream.
    pub stream: StreamId,
    /// Gap-free, strictly increasing per stream kind, in commit order.
    pub metadata_sequence_number: u64,
    /// For courses: the ecosystem of the create_course event.
    pub initial_ecosystem: Option<EcosystemId>,
}

/// The state of one stream's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHead {
    /// 1 + the highest stored sequence number (api.md §4.4).
    pub high_water_mark: u64,
    /// The highest n such that every number 0..=n is stored; `None` while 0 is
    /// missing. Consumers never read past it.
    pub contiguous_through: Option<SequenceNumber>,
}

/// One sub-request of fetch_course_events / fetch_ecosystem_events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// Echoed as sent (A9).
    pub request_uuid: String,
    /// The stream to read.
    pub stream: StreamId,
    /// Inclusive offset (the consumer's cursor).
    pub sequence_number_offset: SequenceNumber,
    /// Requested types; never empty (validated on input).
    pub event_types: BTreeSet<EventType>,
}

/// A whole fetch call (api.md §4.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchQuery {
    /// Sub-requests in request order.
    pub requests: Vec<FetchRequest>,
    /// Call-wide cap on returned events (1..=1000).
    pub max_num_events: u32,
}

/// The answer to one [`FetchRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResponse {
    /// Echo.
    pub request_uuid: String,
    /// Echo.
    pub stream: StreamId,
    /// Ascending sequence numbers.
    pub events: Vec<Event>,
    /// The next number after the returned events is missing.
    pub is_gap: bool,
    /// Caught up: no later event of a requested type.
    pub is_end: bool,
}

/// The byte cap of one fetch call: 32,000,000 bits of event data (api.md §4.7).
pub const FETCH_BIT_CAP: u64 = 32_000_000;

/// A named consumer of per-course bundles (e.g. the scheduler, a SPARFA worker).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConsumerName(String);

/// A consumer name that is empty, longer than 64 bytes or not `[a-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("consumer name {0:?} must be 1-64 characters of a-z, 0-9, '_' or '-'")]
pub struct InvalidConsumerName(pub String);

impl ConsumerName {
    /// Checks the form.
    pub fn new(name: impl Into<String>) -> Result<Self, InvalidConsumerName> {
        let name = name.into();
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(ConsumerName(name))
        } else {
            Err(InvalidConsumerName(name))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Limits for one [`crate::log::BundleLog::next_bundles`] call. Sizes adapt to
/// each course's backlog up to these caps (O2b): no fixed 10-event window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// At most this many courses per call.
    pub max_courses: usize,
    /// At most this many events per course bundle.
    pub max_events_per_bundle: usize,
    /// At most this many bytes of event data per call (the first event of
    /// each bundle is always allowed, so one large event still moves).
    pub max_bytes: u64,
}

impl Default for BundleLimits {
    fn default() -> Self {
        BundleLimits {
            max_courses: 256,
            max_events_per_bundle: 10_000,
            max_bytes: 8 * 1024 * 1024,
        }
    }
}

/// A contiguous, gap-free run of one course's events that a consumer has not
/// yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The course.
    pub course: CourseId,
    /// Contiguous ascending events starting right after the consumer's
    /// confirmed watermark (or at 0).
    pub events: Vec<Event>,
}

impl Bundle {
    /// The last sequence number in the bundle: what to confirm after processing.
    pub fn last_sequence_number(&self) -> Option<SequenceNumber> {
        self.events.last().map(|e| e.sequence_number)
    }
}

/// A stream whose consumers are blocked at a missing sequence number (O3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenGap {
    /// The stream.
    pub stream: StreamId,
    /// The first missing number.
    pub missing: SequenceNumber,
    /// How many stored events wait behind it.
    pub events_waiting: u64,
    /// When the store first saw this gap open, in microseconds since the
    /// Unix epoch, so that the age of the oldest unresolved gap can be
    /// exported (O3). It is the commit time of the append that left the
    /// stream blocked, and stays fixed while the stream stays blocked (also
    /// when filling the missing number only moves the gap further on).
    /// `None` where the store keeps
    /// no clock (the pure [`open_gap`](crate::log::bundle::open_gap) and the
    /// in-memory store, which must run without one on wasm).
    pub first_seen_unix_micros: Option<i64>,
}
