//! Builders for the events, requests and queries the checks use. Public so a
//! backend's own tests can build the same shapes.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::ids::{CourseId, EcosystemId, EventId};
use crate::log::*;

/// The course stream with uuid `n`.
pub fn course(n: u128) -> StreamId {
    StreamId::Course(course_id(n))
}

/// The course id with uuid `n`.
pub fn course_id(n: u128) -> CourseId {
    CourseId::from_uuid(Uuid::from_u128(n))
}

/// The ecosystem stream with uuid `n`.
pub fn ecosystem(n: u128) -> StreamId {
    StreamId::Ecosystem(EcosystemId::from_uuid(Uuid::from_u128(n)))
}

/// The ecosystem id with uuid `n`.
pub fn ecosystem_id(n: u128) -> EcosystemId {
    EcosystemId::from_uuid(Uuid::from_u128(n))
}

/// The event id with uuid `n`.
pub fn event_id(n: u128) -> EventId {
    EventId::from_uuid(Uuid::from_u128(n))
}

/// A sequence number (panics above `i64::MAX`: test input only).
pub fn seq(n: u64) -> SequenceNumber {
    match SequenceNumber::new(n) {
        Ok(number) => number,
        Err(e) => panic!("test sequence number: {e}"),
    }
}

/// A non-create event of `event_type` with small JSON data naming its number
/// and uuid.
pub fn event(stream: StreamId, number: u64, id: u128, event_type: EventType) -> Event {
    Event {
        stream,
        sequence_number: seq(number),
        event_id: event_id(id),
        event_type,
        data: EventData::from_json_text(format!(
            r#"{{"sequence_number":{number},"uuid":"{}"}}"#,
            Uuid::from_u128(id)
        )),
    }
}

/// A record_response event (the common case).
pub fn response(stream: StreamId, number: u64, id: u128) -> Event {
    event(stream, number, id, EventType::RecordResponse)
}

/// An event whose data is about `bytes` bytes long (at least 16).
pub fn sized(stream: StreamId, number: u64, id: u128, bytes: usize) -> Event {
    Event {
        data: EventData::from_json_text(format!(
            r#"{{"padding":"{}"}}"#,
            "x".repeat(bytes.saturating_sub(14))
        )),
        ..response(stream, number, id)
    }
}

/// The create_course event of course `n` (event uuid = course uuid) with
/// `ecosystem_uuid` = ecosystem `eco`.
pub fn create_course(n: u128, eco: u128) -> Event {
    Event {
        stream: course(n),
        sequence_number: SequenceNumber::ZERO,
        event_id: event_id(n),
        event_type: EventType::CreateCourse,
        data: EventData::from_json_text(format!(
            r#"{{"course_uuid":"{}","sequence_number":0,"ecosystem_uuid":"{}","is_real_course":true}}"#,
            Uuid::from_u128(n),
            Uuid::from_u128(eco)
        )),
    }
}

/// The create_ecosystem event of ecosystem `n` (event uuid = ecosystem uuid).
pub fn create_ecosystem(n: u128) -> Event {
    Event {
        stream: ecosystem(n),
        sequence_number: SequenceNumber::ZERO,
        event_id: event_id(n),
        event_type: EventType::CreateEcosystem,
        data: EventData::from_json_text(format!(
            r#"{{"ecosystem_uuid":"{}","sequence_number":0,"book":{{}},"exercises":[]}}"#,
            Uuid::from_u128(n)
        )),
    }
}

/// A request of these events.
pub fn request(events: Vec<Event>) -> AppendRequest {
    AppendRequest { events }
}

/// Every event type a course stream holds.
pub fn course_types() -> BTreeSet<EventType> {
    EventType::ALL
        .into_iter()
        .filter(|t| t.allowed_in(StreamKind::Course))
        .collect()
}

/// A fetch sub-request with `request_uuid` = `id`.
pub fn fetch_request(
    id: &str,
    stream: StreamId,
    offset: u64,
    types: impl IntoIterator<Item = EventType>,
) -> FetchRequest {
    FetchRequest {
        request_uuid: id.to_owned(),
        stream,
        sequence_number_offset: seq(offset),
        event_types: types.into_iter().collect(),
    }
}

/// A consumer name (panics on a bad name: test input only).
pub fn consumer(name: &str) -> ConsumerName {
    match ConsumerName::new(name) {
        Ok(name) => name,
        Err(e) => panic!("test consumer name: {e}"),
    }
}

/// Appends one request and panics unless it is accepted.
pub fn append_ok<S: EventLog + ?Sized>(store: &S, events: Vec<Event>) -> AppendReceipt {
    match store.append(&request(events)) {
        Ok(receipt) => receipt,
        Err(e) => panic!("append should be accepted: {e}"),
    }
}

/// Appends one request and returns its rejection; panics if it is accepted
/// or the backend fails.
pub fn append_rejected<S: EventLog + ?Sized>(store: &S, events: Vec<Event>) -> AppendRejection {
    match store.append(&request(events)) {
        Ok(receipt) => panic!("append should be rejected, got {receipt:?}"),
        Err(AppendError::Rejected(rejection)) => rejection,
        Err(AppendError::Store(e)) => panic!("backend failed: {e}"),
    }
}

/// Unwraps a backend result in a check, naming the operation.
pub fn ok<T>(result: Result<T, StoreError>, operation: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{operation} failed: {e}"),
    }
}

/// The head of a stream (panics on backend failure).
pub fn head<S: EventLog + ?Sized>(store: &S, stream: StreamId) -> Option<StreamHead> {
    ok(store.stream_head(stream), "stream_head")
}

/// A head value.
pub fn head_of(high_water_mark: u64, contiguous_through: Option<u64>) -> StreamHead {
    StreamHead {
        high_water_mark,
        contiguous_through: contiguous_through.map(seq),
    }
}

/// One fetch call (panics on backend failure).
pub fn fetch<S: EventLog + ?Sized>(
    store: &S,
    requests: Vec<FetchRequest>,
    max_num_events: u32,
) -> Vec<FetchResponse> {
    let query = FetchQuery {
        requests,
        max_num_events,
    };
    ok(store.fetch_events(&query), "fetch_events")
}

/// (sequence numbers, is_gap, is_end) of a response: what checks compare.
pub fn summary(response: &FetchResponse) -> (Vec<u64>, bool, bool) {
    (
        response
            .events
            .iter()
            .map(|e| e.sequence_number.get())
            .collect(),
        response.is_gap,
        response.is_end,
    )
}

/// Sequence numbers in a bundle.
pub fn bundle_numbers(bundle: &Bundle) -> Vec<u64> {
    bundle
        .events
        .iter()
        .map(|e| e.sequence_number.get())
        .collect()
}
