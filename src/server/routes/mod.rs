//! The 25 endpoints of api.md §5.10 and their dispatch, one file per
//! family: event writes ([`writes`]), event and metadata fetches
//! ([`fetch`]), engine reads ([`reads`]) and external result pushes
//! ([`updates`]).

pub mod fetch;
pub mod reads;
pub mod updates;
pub mod writes;

use serde_json::Value;

use biglearn_core::engine_store::ResultKind;
use biglearn_core::events::WriteEndpoint;
use biglearn_core::log::StreamKind;

use super::{ApiError, App, Reply};

/// One POST endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// One of the ten event-writing endpoints.
    Write(WriteEndpoint),
    /// fetch_course_metadatas / fetch_ecosystem_metadatas.
    FetchMetadatas(StreamKind),
    /// fetch_course_events / fetch_ecosystem_events.
    FetchEvents(StreamKind),
    /// fetch_course_ecosystem_statuses.
    FetchCourseEcosystemStatuses,
    /// fetch_assignment_pes / _spes / fetch_practice_worst_areas_exercises /
    /// fetch_student_clues / fetch_teacher_clues.
    Read(ResultKind),
    /// The five update_* endpoints.
    Update(ResultKind),
}

impl Endpoint {
    /// All 25.
    pub const ALL: [Endpoint; 25] = [
        Endpoint::Write(WriteEndpoint::CreateEcosystem),
        Endpoint::FetchMetadatas(StreamKind::Ecosystem),
        Endpoint::FetchEvents(StreamKind::Ecosystem),
        Endpoint::Write(WriteEndpoint::CreateCourse),
        Endpoint::Write(WriteEndpoint::UpdateCourseActiveDates),
        Endpoint::FetchMetadatas(StreamKind::Course),
        Endpoint::FetchEvents(StreamKind::Course),
        Endpoint::Write(WriteEndpoint::UpdateRosters),
        Endpoint::Write(WriteEndpoint::PrepareCourseEcosystem),
        Endpoint::Write(WriteEndpoint::UpdateCourseEcosystems),
        Endpoint::FetchCourseEcosystemStatuses,
        Endpoint::Write(WriteEndpoint::UpdateGloballyExcludedExercises),
        Endpoint::Write(WriteEndpoint::UpdateCourseExcludedExercises),
        Endpoint::Write(WriteEndpoint::CreateUpdateAssignments),
        Endpoint::Write(WriteEndpoint::RecordResponses),
        Endpoint::Read(ResultKind::AssignmentPes),
        Endpoint::Read(ResultKind::AssignmentSpes),
        Endpoint::Read(ResultKind::PracticeWorstAreas),
        Endpoint::Update(ResultKind::AssignmentPes),
        Endpoint::Update(ResultKind::AssignmentSpes),
        Endpoint::Update(ResultKind::PracticeWorstAreas),
        Endpoint::Read(ResultKind::StudentClues),
        Endpoint::Read(ResultKind::TeacherClues),
        Endpoint::Update(ResultKind::StudentClues),
        Endpoint::Update(ResultKind::TeacherClues),
    ];

    /// The path without the leading slash.
    pub fn name(&self) -> &'static str {
        match self {
            Endpoint::Write(write) => write.name(),
            Endpoint::FetchMetadatas(StreamKind::Course) => "fetch_course_metadatas",
            Endpoint::FetchMetadatas(StreamKind::Ecosystem) => "fetch_ecosystem_metadatas",
            Endpoint::FetchEvents(StreamKind::Course) => "fetch_course_events",
            Endpoint::FetchEvents(StreamKind::Ecosystem) => "fetch_ecosystem_events",
            Endpoint::FetchCourseEcosystemStatuses => "fetch_course_ecosystem_statuses",
            Endpoint::Read(ResultKind::AssignmentPes) => "fetch_assignment_pes",
            Endpoint::Read(ResultKind::AssignmentSpes) => "fetch_assignment_spes",
            Endpoint::Read(ResultKind::PracticeWorstAreas) => {
                "fetch_practice_worst_areas_exercises"
            }
            Endpoint::Read(ResultKind::StudentClues) => "fetch_student_clues",
            Endpoint::Read(ResultKind::TeacherClues) => "fetch_teacher_clues",
            Endpoint::Update(ResultKind::AssignmentPes) => "update_assignment_pes",
            Endpoint::Update(ResultKind::AssignmentSpes) => "update_assignment_spes",
            Endpoint::Update(ResultKind::PracticeWorstAreas) => {
                "update_practice_worst_areas_exercises"
            }
            Endpoint::Update(ResultKind::StudentClues) => "update_student_clues",
            Endpoint::Update(ResultKind::TeacherClues) => "update_teacher_clues",
        }
    }

    /// The endpoint of a path name (with or without the leading slash).
    pub fn from_name(name: &str) -> Option<Endpoint> {
        let name = name.strip_prefix('/').unwrap_or(name);
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// Runs an endpoint on a parsed body (on the blocking pool).
pub fn dispatch(app: &App, endpoint: Endpoint, body: &Value) -> Result<Reply, ApiError> {
    match endpoint {
        Endpoint::Write(write) => writes::handle(app, write, body),
        Endpoint::FetchMetadatas(kind) => fetch::metadatas(app, kind, body),
        Endpoint::FetchEvents(kind) => fetch::events(app, kind, body),
        Endpoint::FetchCourseEcosystemStatuses => fetch::course_ecosystem_statuses(app, body),
        Endpoint::Read(kind) => reads::handle(app, kind, body),
        Endpoint::Update(kind) => updates::handle(app, kind, body),
    }
}
