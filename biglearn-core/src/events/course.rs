//! Course events: create_course, update_course_active_dates,
//! prepare_course_ecosystem and update_course_ecosystem (api.md §4.3,
//! §5.2, §5.4). Rosters are in `roster.rs`, exclusions in `exclusions.rs`.
//!
//! Each body has the §4.3 `event_data` keys as its serde form and a
//! validating decoder for its request form.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::datetime::Datetime;
use super::decode::{array, boolean, datetime, sequence_number, uuid};
use super::decoders::{event_decoder, nested_decoder};
use crate::ids::{BookContainerId, CourseId, EcosystemId, ExerciseId, PreparationId, RequestId};
use crate::log::{EventType, SequenceNumber};

/// create_course: a course and its initial ecosystem (event uuid = course uuid,
/// sequence number 0, A5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCourse {
    /// The course (event uuid and stream).
    pub course_uuid: CourseId,
    /// Its initial ecosystem; not checked for existence.
    pub ecosystem_uuid: EcosystemId,
    /// False for preview/test courses.
    pub is_real_course: bool,
    /// Course start.
    pub starts_at: Datetime,
    /// Course end.
    pub ends_at: Datetime,
    /// When Tutor created it.
    pub created_at: Datetime,
}
course_event!(CreateCourse, EventType::CreateCourse, course_uuid, |_| {
    SequenceNumber::ZERO
});

event_decoder!(
    /// The request keys of POST /create_course.
    CreateCourse, echo course_uuid: CourseId, {
        ecosystem_uuid: required(uuid),
        is_real_course: required(boolean),
        starts_at: required(datetime),
        ends_at: required(datetime),
        created_at: required(datetime),
    }
);

/// update_course_active_dates: new start and end of a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCourseActiveDates {
    /// Event uuid.
    pub request_uuid: RequestId,
    /// The course.
    pub course_uuid: CourseId,
    /// Client-assigned position.
    pub sequence_number: SequenceNumber,
    /// New start.
    pub starts_at: Datetime,
    /// New end.
    pub ends_at: Datetime,
    /// When it changed.
    pub updated_at: Datetime,
}
course_event!(
    UpdateCourseActiveDates,
    EventType::UpdateCourseActiveDates,
    request_uuid,
    |b| b.sequence_number
);

event_decoder!(
    /// The request keys of POST /update_course_active_dates.
    UpdateCourseActiveDates, echo request_uuid: RequestId, {
        course_uuid: required(uuid),
        sequence_number: required(sequence_number),
        starts_at: required(datetime),
        ends_at: required(datetime),
        updated_at: required(datetime),
    }
);

/// One `ecosystem_map.book_container_mappings[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookContainerMapping {
    /// Container of the old ecosystem.
    pub from_book_container_uuid: BookContainerId,
    /// Container of the new ecosystem.
    pub to_book_container_uuid: BookContainerId,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `ecosystem_map.exercise_mappings[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseMapping {
    /// Exercise of the old ecosystem.
    pub from_exercise_uuid: ExerciseId,
    /// Where it lives in the new ecosystem.
    pub to_book_container_uuid: BookContainerId,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `ecosystem_map` of a preparation (stored verbatim).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcosystemMap {
    /// The course's current ecosystem.
    pub from_ecosystem_uuid: EcosystemId,
    /// The ecosystem being prepared.
    pub to_ecosystem_uuid: EcosystemId,
    /// Old → new book containers.
    pub book_container_mappings: Vec<BookContainerMapping>,
    /// Old exercises → new book containers.
    pub exercise_mappings: Vec<ExerciseMapping>,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

nested_decoder!(BookContainerMapping {
    from_book_container_uuid: required(uuid),
    to_book_container_uuid: required(uuid),
});

nested_decoder!(ExerciseMapping {
    from_exercise_uuid: required(uuid),
    to_book_container_uuid: required(uuid),
});

nested_decoder!(EcosystemMap {
    from_ecosystem_uuid: required(uuid),
    to_ecosystem_uuid: required(uuid),
    book_container_mappings: required(array(None, BookContainerMapping::decode)),
    exercise_mappings: required(array(None, ExerciseMapping::decode)),
});

/// prepare_course_ecosystem: announces a move to another ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrepareCourseEcosystem {
    /// Event uuid; later named by update_course_ecosystems.
    pub preparation_uuid: PreparationId,
    /// The course.
    pub course_uuid: CourseId,
    /// Client-assigned position.
    pub sequence_number: SequenceNumber,
    /// The request's `next_ecosystem_uuid`, stored as `ecosystem_uuid` (§4.3).
    #[serde(rename = "ecosystem_uuid")]
    pub next_ecosystem_uuid: EcosystemId,
    /// How old containers and exercises map to the new ecosystem.
    pub ecosystem_map: EcosystemMap,
    /// When Tutor prepared it.
    pub prepared_at: Datetime,
}
course_event!(
    PrepareCourseEcosystem,
    EventType::PrepareCourseEcosystem,
    preparation_uuid,
    |b| b.sequence_number
);

event_decoder!(
    /// The request keys of POST /prepare_course_ecosystem.
    PrepareCourseEcosystem, echo preparation_uuid: PreparationId, {
        course_uuid: required(uuid),
        sequence_number: required(sequence_number),
        next_ecosystem_uuid: required(uuid),
        ecosystem_map: required(EcosystemMap::decode),
        prepared_at: required(datetime),
    }
);

/// update_course_ecosystem: the course switches to a prepared ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCourseEcosystem {
    /// Event uuid.
    pub request_uuid: RequestId,
    /// The course.
    pub course_uuid: CourseId,
    /// Client-assigned position.
    pub sequence_number: SequenceNumber,
    /// The preparation being applied.
    pub preparation_uuid: PreparationId,
    /// When it was applied.
    pub updated_at: Datetime,
}
course_event!(
    UpdateCourseEcosystem,
    EventType::UpdateCourseEcosystem,
    request_uuid,
    |b| b.sequence_number
);

event_decoder!(
    /// The keys of one `update_requests[]` item.
    UpdateCourseEcosystem, echo request_uuid: RequestId, {
        course_uuid: required(uuid),
        sequence_number: required(sequence_number),
        preparation_uuid: required(uuid),
        updated_at: required(datetime),
    }
);
