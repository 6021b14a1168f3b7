//! The course event update_roster: course containers and students
//! (api.md §4.3, §5.3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::datetime::Datetime;
use super::decode::{array, datetime, sequence_number, uuid};
use super::decoders::{event_decoder, nested_decoder};
use super::slot::Slot;
use crate::ids::{CourseContainerId, CourseId, RequestId, StudentId};
use crate::log::{EventType, SequenceNumber};

/// One `course_containers[]` entry of a roster (a period, or the course root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseContainer {
    /// The container.
    pub container_uuid: CourseContainerId,
    /// Its parent: Tutor sends the course uuid for periods.
    pub parent_container_uuid: Uuid,
    /// When it was created.
    pub created_at: Datetime,
    /// When it was archived; Tutor omits the key when not archived.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub archived_at: Slot<Datetime>,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `students[]` entry of a roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterStudent {
    /// The course-specific student.
    pub student_uuid: StudentId,
    /// The student's current course container.
    pub container_uuid: CourseContainerId,
    /// When the student enrolled.
    pub enrolled_at: Datetime,
    /// When the student last changed container.
    pub last_course_container_change_at: Datetime,
    /// When the student dropped, if so.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub dropped_at: Slot<Datetime>,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// update_roster: the full roster snapshot of one course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoster {
    /// Event uuid.
    pub request_uuid: RequestId,
    /// The course.
    pub course_uuid: CourseId,
    /// Client-assigned position.
    pub sequence_number: SequenceNumber,
    /// Every course container (no item limit, A8).
    pub course_containers: Vec<CourseContainer>,
    /// Every student (no item limit, A8).
    pub students: Vec<RosterStudent>,
}
course_event!(UpdateRoster, EventType::UpdateRoster, request_uuid, |b| b
    .sequence_number);

nested_decoder!(CourseContainer {
    container_uuid: required(uuid),
    parent_container_uuid: required(uuid),
    created_at: required(datetime),
    archived_at: optional(datetime),
});

nested_decoder!(RosterStudent {
    student_uuid: required(uuid),
    container_uuid: required(uuid),
    enrolled_at: required(datetime),
    last_course_container_change_at: required(datetime),
    dropped_at: optional(datetime),
});

event_decoder!(
    /// The keys of one `rosters[]` item.
    UpdateRoster, echo request_uuid: RequestId, {
        course_uuid: required(uuid),
        sequence_number: required(sequence_number),
        course_containers: required(array(None, CourseContainer::decode)),
        students: required(array(None, RosterStudent::decode)),
    }
);
