//! Typed events ⇄ stored [`Event`]s.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::ids::EventId;
use crate::log::{Event, EventData, EventType, SequenceNumber, StreamId};

/// Why a stored [`Event`] does not read back as the typed event asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDataError {
    /// The event has another type than the one asked for.
    #[error("event {event_id}: expected {expected}, found a {found} event")]
    WrongType {
        /// The event.
        event_id: EventId,
        /// What was asked for.
        expected: &'static str,
        /// What the event is.
        found: EventType,
    },
    /// The event data is not the §4.3 shape of its type.
    #[error("event {event_id} ({event_type}): malformed event data: {message}")]
    Malformed {
        /// The event.
        event_id: EventId,
        /// Its type.
        event_type: EventType,
        /// The decoder's message.
        message: String,
    },
    /// The event data names another stream, number or uuid than the event.
    #[error("event {event_id} ({event_type}): {field} is {in_data} in the event data but {in_event} on the event")]
    Mismatch {
        /// The event.
        event_id: EventId,
        /// Its type.
        event_type: EventType,
        /// Which field disagrees.
        field: &'static str,
        /// The value inside `event_data`.
        in_data: String,
        /// The value on the event itself.
        in_event: String,
    },
}

/// Serializes a typed event body to compact JSON text. The types in this
/// module serialize without fail (string keys, strings, booleans, integers and
/// verbatim JSON values), so an error here would be a bug in this module; it
/// is reported as an empty object rather than a panic on the request path.
fn to_text<T: Serialize>(body: &T) -> String {
    match serde_json::to_string(body) {
        Ok(text) => text,
        Err(_) => {
            debug_assert!(false, "typed event bodies serialize to JSON objects");
            "{}".to_owned()
        }
    }
}

/// A typed event body that is stored as one [`Event`] (api.md §4.2–§4.3).
///
/// `to_event` writes exactly the §4.3 keys (create events get
/// `"sequence_number": 0` after their uuid, which must be their first
/// serialized field, and are placed at number 0);
/// `from_event` reads a stored event back and checks that its stream, number
/// and uuid agree with its data.
pub trait WireEvent: Serialize + DeserializeOwned + Sized {
    /// The type this body is stored as.
    fn event_type(&self) -> EventType;
    /// The stream it is appended to.
    fn stream(&self) -> StreamId;
    /// Its position in the stream (0 for create events).
    fn sequence_number(&self) -> SequenceNumber;
    /// Its uuid (the idempotency key).
    fn event_id(&self) -> EventId;
    /// Whether a stored event of `event_type` reads back as this body.
    fn accepts(event_type: EventType) -> bool;
    /// Human-readable name of what [`WireEvent::accepts`] takes, for errors.
    fn expected_name() -> &'static str;

    /// Records which of the accepted types a stored event had (used by the
    /// two exclusion event types that share one body).
    fn adopt_event_type(&mut self, _event_type: EventType) {}

    /// The `event_data` as compact JSON text: exactly the §4.3 keys.
    fn event_data_text(&self) -> String {
        let text = to_text(self);
        if !self.event_type().is_create() {
            return text;
        }
        // Create events carry `"sequence_number": 0` right after their uuid.
        // The first field of every create body is its uuid, a JSON string
        // without commas, so the first comma ends the first member.
        match text.find(',') {
            Some(comma) => format!(
                "{}\"sequence_number\":0,{}",
                &text[..=comma],
                &text[comma + 1..]
            ),
            None => text,
        }
    }

    /// The `event_data` object: exactly the §4.3 keys.
    fn event_data(&self) -> Map<String, Value> {
        match serde_json::from_str(&self.event_data_text()) {
            Ok(map) => map,
            Err(_) => Map::new(),
        }
    }

    /// The event to append.
    fn to_event(&self) -> Event {
        Event {
            stream: self.stream(),
            sequence_number: self.sequence_number(),
            event_id: self.event_id(),
            event_type: self.event_type(),
            data: EventData::from_json_text(self.event_data_text()),
        }
    }

    /// Reads a stored event back.
    fn from_event(event: &Event) -> Result<Self, EventDataError> {
        if !Self::accepts(event.event_type) {
            return Err(EventDataError::WrongType {
                event_id: event.event_id,
                expected: Self::expected_name(),
                found: event.event_type,
            });
        }
        let malformed = |message: String| EventDataError::Malformed {
            event_id: event.event_id,
            event_type: event.event_type,
            message,
        };
        let parsed = if event.event_type.is_create() {
            let mut value: Value = event
                .data
                .to_value()
                .map_err(|e| malformed(e.to_string()))?;
            let Some(map) = value.as_object_mut() else {
                return Err(malformed("event data is not a JSON object".into()));
            };
            match map.remove("sequence_number") {
                Some(n) if n.as_u64() == Some(0) => {}
                Some(other) => {
                    return Err(malformed(format!(
                        "a create event has sequence_number {other}, not 0"
                    )))
                }
                None => return Err(malformed("missing field `sequence_number`".into())),
            }
            serde_json::from_value(value)
        } else {
            serde_json::from_str(event.data.as_str())
        };
        let mut body: Self = parsed.map_err(|e| malformed(e.to_string()))?;
        body.adopt_event_type(event.event_type);
        let mismatch = |field, in_data: String, in_event: String| EventDataError::Mismatch {
            event_id: event.event_id,
            event_type: event.event_type,
            field,
            in_data,
            in_event,
        };
        if body.stream() != event.stream {
            return Err(mismatch(
                "stream",
                body.stream().to_string(),
                event.stream.to_string(),
            ));
        }
        if body.sequence_number() != event.sequence_number {
            return Err(mismatch(
                "sequence_number",
                body.sequence_number().to_string(),
                event.sequence_number.to_string(),
            ));
        }
        if body.event_id() != event.event_id {
            return Err(mismatch(
                "event uuid",
                body.event_id().to_string(),
                event.event_id.to_string(),
            ));
        }
        Ok(body)
    }
}

/// Implements [`WireEvent`] for a course event body with one fixed type.
macro_rules! course_event {
    ($body:ty, $event_type:expr, $id:ident, $seq:expr) => {
        impl $crate::events::WireEvent for $body {
            fn event_type(&self) -> $crate::log::EventType {
                $event_type
            }
            fn stream(&self) -> $crate::log::StreamId {
                $crate::log::StreamId::Course(self.course_uuid)
            }
            fn sequence_number(&self) -> $crate::log::SequenceNumber {
                let seq: fn(&Self) -> $crate::log::SequenceNumber = $seq;
                seq(self)
            }
            fn event_id(&self) -> $crate::ids::EventId {
                $crate::ids::EventId::from_uuid(*self.$id.as_uuid())
            }
            fn accepts(event_type: $crate::log::EventType) -> bool {
                event_type == $event_type
            }
            fn expected_name() -> &'static str {
                $event_type.name()
            }
        }
    };
}
