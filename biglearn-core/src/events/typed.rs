//! [`TypedEvent`]: any stored event as its typed body, and [`NoOp`].

use serde_json::{Map, Value};

use super::assignment::{CreateUpdateAssignment, RecordResponse};
use super::convert::{EventDataError, WireEvent};
use super::course::{
    CreateCourse, PrepareCourseEcosystem, UpdateCourseActiveDates, UpdateCourseEcosystem,
};
use super::ecosystem::CreateEcosystem;
use super::exclusions::UpdateExcludedExercises;
use super::roster::UpdateRoster;
use crate::ids::EventId;
use crate::log::{Event, EventData, EventType, SequenceNumber, StreamId};

/// A no_op event: fills a permanently lost sequence number (O3). Written only
/// by the admin command, in either kind of stream; its data is free-form
/// (`{}` by default) and kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoOp {
    /// The stream with the gap.
    pub stream: StreamId,
    /// The missing number it fills.
    pub sequence_number: SequenceNumber,
    /// Its uuid.
    pub event_id: EventId,
    /// Its data, verbatim (e.g. why the gap was filled).
    pub data: Map<String, Value>,
}

impl NoOp {
    /// A no_op with empty data.
    pub fn new(stream: StreamId, sequence_number: SequenceNumber, event_id: EventId) -> Self {
        NoOp {
            stream,
            sequence_number,
            event_id,
            data: Map::new(),
        }
    }

    /// The event to append.
    pub fn to_event(&self) -> Event {
        Event {
            stream: self.stream,
            sequence_number: self.sequence_number,
            event_id: self.event_id,
            event_type: EventType::NoOp,
            data: EventData::from_value(&Value::Object(self.data.clone())),
        }
    }

    /// Reads a stored no_op back.
    pub fn from_event(event: &Event) -> Result<Self, EventDataError> {
        if event.event_type != EventType::NoOp {
            return Err(EventDataError::WrongType {
                event_id: event.event_id,
                expected: "no_op",
                found: event.event_type,
            });
        }
        let malformed = |message: String| EventDataError::Malformed {
            event_id: event.event_id,
            event_type: event.event_type,
            message,
        };
        match event
            .data
            .to_value()
            .map_err(|e| malformed(e.to_string()))?
        {
            Value::Object(data) => Ok(NoOp {
                stream: event.stream,
                sequence_number: event.sequence_number,
                event_id: event.event_id,
                data,
            }),
            _ => Err(malformed("event data is not a JSON object".into())),
        }
    }
}

/// Any event of api.md §4.2 as its typed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedEvent {
    /// no_op (either stream).
    NoOp(NoOp),
    /// create_ecosystem (ecosystem stream).
    CreateEcosystem(Box<CreateEcosystem>),
    /// create_course.
    CreateCourse(CreateCourse),
    /// prepare_course_ecosystem.
    PrepareCourseEcosystem(Box<PrepareCourseEcosystem>),
    /// update_course_ecosystem.
    UpdateCourseEcosystem(UpdateCourseEcosystem),
    /// update_roster.
    UpdateRoster(Box<UpdateRoster>),
    /// update_course_active_dates.
    UpdateCourseActiveDates(UpdateCourseActiveDates),
    /// update_globally_excluded_exercises or update_course_excluded_exercises
    /// (see [`UpdateExcludedExercises::scope`]).
    UpdateExcludedExercises(Box<UpdateExcludedExercises>),
    /// create_update_assignment.
    CreateUpdateAssignment(Box<CreateUpdateAssignment>),
    /// record_response.
    RecordResponse(RecordResponse),
}

impl TypedEvent {
    /// The event type.
    pub fn event_type(&self) -> EventType {
        match self {
            TypedEvent::NoOp(_) => EventType::NoOp,
            TypedEvent::CreateEcosystem(body) => body.event_type(),
            TypedEvent::CreateCourse(body) => body.event_type(),
            TypedEvent::PrepareCourseEcosystem(body) => body.event_type(),
            TypedEvent::UpdateCourseEcosystem(body) => body.event_type(),
            TypedEvent::UpdateRoster(body) => body.event_type(),
            TypedEvent::UpdateCourseActiveDates(body) => body.event_type(),
            TypedEvent::UpdateExcludedExercises(body) => body.event_type(),
            TypedEvent::CreateUpdateAssignment(body) => body.event_type(),
            TypedEvent::RecordResponse(body) => body.event_type(),
        }
    }

    /// The event to append.
    pub fn to_event(&self) -> Event {
        match self {
            TypedEvent::NoOp(body) => body.to_event(),
            TypedEvent::CreateEcosystem(body) => body.to_event(),
            TypedEvent::CreateCourse(body) => body.to_event(),
            TypedEvent::PrepareCourseEcosystem(body) => body.to_event(),
            TypedEvent::UpdateCourseEcosystem(body) => body.to_event(),
            TypedEvent::UpdateRoster(body) => body.to_event(),
            TypedEvent::UpdateCourseActiveDates(body) => body.to_event(),
            TypedEvent::UpdateExcludedExercises(body) => body.to_event(),
            TypedEvent::CreateUpdateAssignment(body) => body.to_event(),
            TypedEvent::RecordResponse(body) => body.to_event(),
        }
    }

    /// Reads any stored event back as its typed body.
    pub fn from_event(event: &Event) -> Result<Self, EventDataError> {
        Ok(match event.event_type {
            EventType::NoOp => TypedEvent::NoOp(NoOp::from_event(event)?),
            EventType::CreateEcosystem => {
                TypedEvent::CreateEcosystem(Box::new(WireEvent::from_event(event)?))
            }
            EventType::CreateCourse => TypedEvent::CreateCourse(WireEvent::from_event(event)?),
            EventType::PrepareCourseEcosystem => {
                TypedEvent::PrepareCourseEcosystem(Box::new(WireEvent::from_event(event)?))
            }
            EventType::UpdateCourseEcosystem => {
                TypedEvent::UpdateCourseEcosystem(WireEvent::from_event(event)?)
            }
            EventType::UpdateRoster => {
                TypedEvent::UpdateRoster(Box::new(WireEvent::from_event(event)?))
            }
            EventType::UpdateCourseActiveDates => {
                TypedEvent::UpdateCourseActiveDates(WireEvent::from_event(event)?)
            }
            EventType::UpdateGloballyExcludedExercises
            | EventType::UpdateCourseExcludedExercises => {
                TypedEvent::UpdateExcludedExercises(Box::new(WireEvent::from_event(event)?))
            }
            EventType::CreateUpdateAssignment => {
                TypedEvent::CreateUpdateAssignment(Box::new(WireEvent::from_event(event)?))
            }
            EventType::RecordResponse => TypedEvent::RecordResponse(WireEvent::from_event(event)?),
        })
    }
}
