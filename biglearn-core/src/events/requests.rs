//! Request-body parsers of the ten event-writing endpoints (api.md §5).
//!
//! Each parser validates a whole body and returns the typed events, or every
//! problem with its JSON path (A2). Unknown keys are rejected at the body's
//! top level only; inside bulk items and nested objects they are accepted
//! (item-level ones are dropped by the §4.3 slice, deeper ones are stored
//! verbatim).

use serde_json::Value;

use super::assignment::{CreateUpdateAssignment, RecordResponse};
use super::convert::WireEvent;
use super::course::{
    CreateCourse, PrepareCourseEcosystem, UpdateCourseActiveDates, UpdateCourseEcosystem,
};
use super::decode::{bulk, finish, UnknownKeys};
use super::ecosystem::CreateEcosystem;
use super::exclusions::{ExclusionScope, UpdateExcludedExercises};
use super::path::{At, ValidationErrors};
use super::roster::UpdateRoster;
use super::Echoed;
use crate::log::{AppendRequest, Event};

/// Items per bulk call (A8).
pub const MAX_BULK_ITEMS: usize = 1000;
/// Rosters per update_rosters call (A8).
pub const MAX_ROSTERS: usize = 100;

/// Parses POST /create_ecosystem.
pub fn parse_create_ecosystem(body: &Value) -> Result<Echoed<CreateEcosystem>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let parsed = CreateEcosystem::decode(body, &At::Root, &mut errs, UnknownKeys::Reject);
    finish(parsed, errs)
}

/// Parses POST /create_course.
pub fn parse_create_course(body: &Value) -> Result<Echoed<CreateCourse>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let parsed = CreateCourse::decode(body, &At::Root, &mut errs, UnknownKeys::Reject);
    finish(parsed, errs)
}

/// Parses POST /update_course_active_dates.
pub fn parse_update_course_active_dates(
    body: &Value,
) -> Result<Echoed<UpdateCourseActiveDates>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let parsed = UpdateCourseActiveDates::decode(body, &At::Root, &mut errs, UnknownKeys::Reject);
    finish(parsed, errs)
}

/// Parses POST /prepare_course_ecosystem.
pub fn parse_prepare_course_ecosystem(
    body: &Value,
) -> Result<Echoed<PrepareCourseEcosystem>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let parsed = PrepareCourseEcosystem::decode(body, &At::Root, &mut errs, UnknownKeys::Reject);
    finish(parsed, errs)
}

/// Parses POST /update_globally_excluded_exercises.
pub fn parse_update_globally_excluded_exercises(
    body: &Value,
) -> Result<Echoed<UpdateExcludedExercises>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let parsed =
        UpdateExcludedExercises::decode(body, &At::Root, &mut errs, ExclusionScope::Global);
    finish(parsed, errs)
}

/// Parses POST /update_course_excluded_exercises.
pub fn parse_update_course_excluded_exercises(
    body: &Value,
) -> Result<Echoed<UpdateExcludedExercises>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let parsed =
        UpdateExcludedExercises::decode(body, &At::Root, &mut errs, ExclusionScope::Course);
    finish(parsed, errs)
}

type ItemDecoder<T> = fn(&Value, &At<'_>, &mut ValidationErrors, UnknownKeys) -> Option<Echoed<T>>;

/// A bulk write body `{ <key>: [ item, … ] }` of at most `max` items whose
/// unknown item keys are accepted (the §4.3 slice drops them).
fn bulk_events<T>(
    body: &Value,
    key: &str,
    max: usize,
    item: ItemDecoder<T>,
) -> Result<Vec<Echoed<T>>, ValidationErrors> {
    bulk(body, key, max, |v, p, e| item(v, p, e, UnknownKeys::Accept))
}

/// Parses POST /update_rosters (at most [`MAX_ROSTERS`] rosters).
pub fn parse_update_rosters(body: &Value) -> Result<Vec<Echoed<UpdateRoster>>, ValidationErrors> {
    bulk_events(body, "rosters", MAX_ROSTERS, UpdateRoster::decode)
}

/// Parses POST /update_course_ecosystems.
pub fn parse_update_course_ecosystems(
    body: &Value,
) -> Result<Vec<Echoed<UpdateCourseEcosystem>>, ValidationErrors> {
    bulk_events(
        body,
        "update_requests",
        MAX_BULK_ITEMS,
        UpdateCourseEcosystem::decode,
    )
}

/// Parses POST /create_update_assignments.
pub fn parse_create_update_assignments(
    body: &Value,
) -> Result<Vec<Echoed<CreateUpdateAssignment>>, ValidationErrors> {
    bulk_events(
        body,
        "assignments",
        MAX_BULK_ITEMS,
        CreateUpdateAssignment::decode,
    )
}

/// Parses POST /record_responses.
pub fn parse_record_responses(
    body: &Value,
) -> Result<Vec<Echoed<RecordResponse>>, ValidationErrors> {
    bulk_events(body, "responses", MAX_BULK_ITEMS, RecordResponse::decode)
}

/// The ten event-writing endpoints (api.md §5.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteEndpoint {
    /// POST /create_ecosystem
    CreateEcosystem,
    /// POST /create_course
    CreateCourse,
    /// POST /update_course_active_dates
    UpdateCourseActiveDates,
    /// POST /update_rosters
    UpdateRosters,
    /// POST /prepare_course_ecosystem
    PrepareCourseEcosystem,
    /// POST /update_course_ecosystems
    UpdateCourseEcosystems,
    /// POST /update_globally_excluded_exercises
    UpdateGloballyExcludedExercises,
    /// POST /update_course_excluded_exercises
    UpdateCourseExcludedExercises,
    /// POST /create_update_assignments
    CreateUpdateAssignments,
    /// POST /record_responses
    RecordResponses,
}

impl WriteEndpoint {
    /// Every write endpoint.
    pub const ALL: [WriteEndpoint; 10] = [
        WriteEndpoint::CreateEcosystem,
        WriteEndpoint::CreateCourse,
        WriteEndpoint::UpdateCourseActiveDates,
        WriteEndpoint::UpdateRosters,
        WriteEndpoint::PrepareCourseEcosystem,
        WriteEndpoint::UpdateCourseEcosystems,
        WriteEndpoint::UpdateGloballyExcludedExercises,
        WriteEndpoint::UpdateCourseExcludedExercises,
        WriteEndpoint::CreateUpdateAssignments,
        WriteEndpoint::RecordResponses,
    ];

    /// The path without the leading slash (`record_responses`).
    pub fn name(&self) -> &'static str {
        match self {
            WriteEndpoint::CreateEcosystem => "create_ecosystem",
            WriteEndpoint::CreateCourse => "create_course",
            WriteEndpoint::UpdateCourseActiveDates => "update_course_active_dates",
            WriteEndpoint::UpdateRosters => "update_rosters",
            WriteEndpoint::PrepareCourseEcosystem => "prepare_course_ecosystem",
            WriteEndpoint::UpdateCourseEcosystems => "update_course_ecosystems",
            WriteEndpoint::UpdateGloballyExcludedExercises => "update_globally_excluded_exercises",
            WriteEndpoint::UpdateCourseExcludedExercises => "update_course_excluded_exercises",
            WriteEndpoint::CreateUpdateAssignments => "create_update_assignments",
            WriteEndpoint::RecordResponses => "record_responses",
        }
    }

    /// The endpoint of a path name (with or without the leading slash).
    pub fn from_name(name: &str) -> Option<WriteEndpoint> {
        let name = name.strip_prefix('/').unwrap_or(name);
        WriteEndpoint::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Parses a body of this endpoint.
    pub fn parse(&self, body: &Value) -> Result<WriteRequest, ValidationErrors> {
        Ok(match self {
            WriteEndpoint::CreateEcosystem => {
                WriteRequest::CreateEcosystem(parse_create_ecosystem(body)?)
            }
            WriteEndpoint::CreateCourse => WriteRequest::CreateCourse(parse_create_course(body)?),
            WriteEndpoint::UpdateCourseActiveDates => {
                WriteRequest::UpdateCourseActiveDates(parse_update_course_active_dates(body)?)
            }
            WriteEndpoint::UpdateRosters => {
                WriteRequest::UpdateRosters(parse_update_rosters(body)?)
            }
            WriteEndpoint::PrepareCourseEcosystem => {
                WriteRequest::PrepareCourseEcosystem(parse_prepare_course_ecosystem(body)?)
            }
            WriteEndpoint::UpdateCourseEcosystems => {
                WriteRequest::UpdateCourseEcosystems(parse_update_course_ecosystems(body)?)
            }
            WriteEndpoint::UpdateGloballyExcludedExercises => {
                WriteRequest::UpdateExcludedExercises(parse_update_globally_excluded_exercises(
                    body,
                )?)
            }
            WriteEndpoint::UpdateCourseExcludedExercises => {
                WriteRequest::UpdateExcludedExercises(parse_update_course_excluded_exercises(body)?)
            }
            WriteEndpoint::CreateUpdateAssignments => {
                WriteRequest::CreateUpdateAssignments(parse_create_update_assignments(body)?)
            }
            WriteEndpoint::RecordResponses => {
                WriteRequest::RecordResponses(parse_record_responses(body)?)
            }
        })
    }
}

/// A parsed write request: the typed events of one call, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteRequest {
    /// POST /create_ecosystem
    CreateEcosystem(Echoed<CreateEcosystem>),
    /// POST /create_course
    CreateCourse(Echoed<CreateCourse>),
    /// POST /update_course_active_dates
    UpdateCourseActiveDates(Echoed<UpdateCourseActiveDates>),
    /// POST /update_rosters
    UpdateRosters(Vec<Echoed<UpdateRoster>>),
    /// POST /prepare_course_ecosystem
    PrepareCourseEcosystem(Echoed<PrepareCourseEcosystem>),
    /// POST /update_course_ecosystems (every item; the server drops the ones
    /// whose preparation is unknown before appending, api.md §5.4)
    UpdateCourseEcosystems(Vec<Echoed<UpdateCourseEcosystem>>),
    /// POST /update_globally_excluded_exercises or
    /// /update_course_excluded_exercises (the scope is in the body)
    UpdateExcludedExercises(Echoed<UpdateExcludedExercises>),
    /// POST /create_update_assignments
    CreateUpdateAssignments(Vec<Echoed<CreateUpdateAssignment>>),
    /// POST /record_responses
    RecordResponses(Vec<Echoed<RecordResponse>>),
}

fn events_of<T: WireEvent>(items: &[Echoed<T>]) -> Vec<Event> {
    items.iter().map(|item| item.event.to_event()).collect()
}

impl WriteRequest {
    /// The events of the call, in request order (one atomic append, A4).
    pub fn events(&self) -> Vec<Event> {
        match self {
            WriteRequest::CreateEcosystem(item) => vec![item.event.to_event()],
            WriteRequest::CreateCourse(item) => vec![item.event.to_event()],
            WriteRequest::UpdateCourseActiveDates(item) => vec![item.event.to_event()],
            WriteRequest::UpdateRosters(items) => events_of(items),
            WriteRequest::PrepareCourseEcosystem(item) => vec![item.event.to_event()],
            WriteRequest::UpdateCourseEcosystems(items) => events_of(items),
            WriteRequest::UpdateExcludedExercises(item) => vec![item.event.to_event()],
            WriteRequest::CreateUpdateAssignments(items) => events_of(items),
            WriteRequest::RecordResponses(items) => events_of(items),
        }
    }

    /// The event uuids exactly as sent, in request order (for echoes, A9).
    pub fn raw_uuids(&self) -> Vec<&str> {
        fn raws<T>(items: &[Echoed<T>]) -> Vec<&str> {
            items.iter().map(|item| item.raw_uuid.as_str()).collect()
        }
        match self {
            WriteRequest::CreateEcosystem(item) => vec![&item.raw_uuid],
            WriteRequest::CreateCourse(item) => vec![&item.raw_uuid],
            WriteRequest::UpdateCourseActiveDates(item) => vec![&item.raw_uuid],
            WriteRequest::UpdateRosters(items) => raws(items),
            WriteRequest::PrepareCourseEcosystem(item) => vec![&item.raw_uuid],
            WriteRequest::UpdateCourseEcosystems(items) => raws(items),
            WriteRequest::UpdateExcludedExercises(item) => vec![&item.raw_uuid],
            WriteRequest::CreateUpdateAssignments(items) => raws(items),
            WriteRequest::RecordResponses(items) => raws(items),
        }
    }

    /// The whole call as one atomic append request.
    pub fn append_request(&self) -> AppendRequest {
        AppendRequest {
            events: self.events(),
        }
    }
}
