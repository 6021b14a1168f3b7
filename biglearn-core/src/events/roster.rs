//! The course event update_roster: course containers and students
//! (api.md §4.3, §5.3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::datetime::Datetime;
use super::decode::{array, datetime, sequence_number, uuid, uuid_with_text, Obj, UnknownKeys};
use super::path::{At, ValidationErrors};
use super::slot::Slot;
use super::Echoed;
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

impl UpdateRoster {
    /// The keys of one `rosters[]` item.
    pub const KEYS: &'static [&'static str] = &[
        "request_uuid",
        "course_uuid",
        "sequence_number",
        "course_containers",
        "students",
    ];

    pub(crate) fn decode(
        value: &Value,
        path: &At<'_>,
        errs: &mut ValidationErrors,
        unknown: UnknownKeys,
    ) -> Option<Echoed<Self>> {
        const CONTAINER_KEYS: &[&str] = &[
            "container_uuid",
            "parent_container_uuid",
            "created_at",
            "archived_at",
        ];
        const STUDENT_KEYS: &[&str] = &[
            "student_uuid",
            "container_uuid",
            "enrolled_at",
            "last_course_container_change_at",
            "dropped_at",
        ];
        let o = Obj::new(value, path, errs)?;
        let request = o.required(errs, "request_uuid", uuid_with_text::<RequestId>);
        let course_uuid = o.required(errs, "course_uuid", uuid);
        let seq = o.required(errs, "sequence_number", sequence_number);
        let containers = o.required(
            errs,
            "course_containers",
            array(None, |v, p, e| {
                let c = Obj::new(v, p, e)?;
                let container_uuid = c.required(e, "container_uuid", uuid);
                let parent = c.required(e, "parent_container_uuid", uuid);
                let created_at = c.required(e, "created_at", datetime);
                let archived_at = c.optional(e, "archived_at", datetime);
                let extra = c.rest(e, CONTAINER_KEYS, UnknownKeys::Accept);
                Some(CourseContainer {
                    container_uuid: container_uuid?,
                    parent_container_uuid: parent?,
                    created_at: created_at?,
                    archived_at: archived_at?,
                    extra,
                })
            }),
        );
        let students = o.required(
            errs,
            "students",
            array(None, |v, p, e| {
                let s = Obj::new(v, p, e)?;
                let student_uuid = s.required(e, "student_uuid", uuid);
                let container_uuid = s.required(e, "container_uuid", uuid);
                let enrolled_at = s.required(e, "enrolled_at", datetime);
                let changed_at = s.required(e, "last_course_container_change_at", datetime);
                let dropped_at = s.optional(e, "dropped_at", datetime);
                let extra = s.rest(e, STUDENT_KEYS, UnknownKeys::Accept);
                Some(RosterStudent {
                    student_uuid: student_uuid?,
                    container_uuid: container_uuid?,
                    enrolled_at: enrolled_at?,
                    last_course_container_change_at: changed_at?,
                    dropped_at: dropped_at?,
                    extra,
                })
            }),
        );
        o.rest(errs, Self::KEYS, unknown);
        let (request_uuid, raw_uuid) = request?;
        Some(Echoed {
            raw_uuid,
            event: UpdateRoster {
                request_uuid,
                course_uuid: course_uuid?,
                sequence_number: seq?,
                course_containers: containers?,
                students: students?,
            },
        })
    }
}
