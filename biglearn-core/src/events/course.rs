//! Course events: create_course, update_course_active_dates,
//! prepare_course_ecosystem and update_course_ecosystem (api.md §4.3,
//! §5.2, §5.4). Rosters are in `roster.rs`, exclusions in `exclusions.rs`.
//!
//! Each body has the §4.3 `event_data` keys as its serde form and a
//! validating decoder for its request form.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::datetime::Datetime;
use super::decode::{
    array, boolean, datetime, sequence_number, uuid, uuid_with_text, Obj, UnknownKeys,
};
use super::path::{At, ValidationErrors};
use super::Echoed;
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

impl CreateCourse {
    /// The request keys of POST /create_course.
    pub const KEYS: &'static [&'static str] = &[
        "course_uuid",
        "ecosystem_uuid",
        "is_real_course",
        "starts_at",
        "ends_at",
        "created_at",
    ];

    pub(crate) fn decode(
        value: &Value,
        path: &At<'_>,
        errs: &mut ValidationErrors,
        unknown: UnknownKeys,
    ) -> Option<Echoed<Self>> {
        let o = Obj::new(value, path, errs)?;
        let course = o.required(errs, "course_uuid", uuid_with_text::<CourseId>);
        let ecosystem_uuid = o.required(errs, "ecosystem_uuid", uuid);
        let is_real_course = o.required(errs, "is_real_course", boolean);
        let starts_at = o.required(errs, "starts_at", datetime);
        let ends_at = o.required(errs, "ends_at", datetime);
        let created_at = o.required(errs, "created_at", datetime);
        o.rest(errs, Self::KEYS, unknown);
        let (course_uuid, raw_uuid) = course?;
        Some(Echoed {
            raw_uuid,
            event: CreateCourse {
                course_uuid,
                ecosystem_uuid: ecosystem_uuid?,
                is_real_course: is_real_course?,
                starts_at: starts_at?,
                ends_at: ends_at?,
                created_at: created_at?,
            },
        })
    }
}

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

impl UpdateCourseActiveDates {
    /// The request keys of POST /update_course_active_dates.
    pub const KEYS: &'static [&'static str] = &[
        "request_uuid",
        "course_uuid",
        "sequence_number",
        "starts_at",
        "ends_at",
        "updated_at",
    ];

    pub(crate) fn decode(
        value: &Value,
        path: &At<'_>,
        errs: &mut ValidationErrors,
        unknown: UnknownKeys,
    ) -> Option<Echoed<Self>> {
        let o = Obj::new(value, path, errs)?;
        let request = o.required(errs, "request_uuid", uuid_with_text::<RequestId>);
        let course_uuid = o.required(errs, "course_uuid", uuid);
        let seq = o.required(errs, "sequence_number", sequence_number);
        let starts_at = o.required(errs, "starts_at", datetime);
        let ends_at = o.required(errs, "ends_at", datetime);
        let updated_at = o.required(errs, "updated_at", datetime);
        o.rest(errs, Self::KEYS, unknown);
        let (request_uuid, raw_uuid) = request?;
        Some(Echoed {
            raw_uuid,
            event: UpdateCourseActiveDates {
                request_uuid,
                course_uuid: course_uuid?,
                sequence_number: seq?,
                starts_at: starts_at?,
                ends_at: ends_at?,
                updated_at: updated_at?,
            },
        })
    }
}

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

impl EcosystemMap {
    fn decode(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<Self> {
        let o = Obj::new(value, path, errs)?;
        let from = o.required(errs, "from_ecosystem_uuid", uuid);
        let to = o.required(errs, "to_ecosystem_uuid", uuid);
        let books = o.required(
            errs,
            "book_container_mappings",
            array(None, |v, p, e| {
                let m = Obj::new(v, p, e)?;
                let from = m.required(e, "from_book_container_uuid", uuid);
                let to = m.required(e, "to_book_container_uuid", uuid);
                let extra = m.rest(
                    e,
                    &["from_book_container_uuid", "to_book_container_uuid"],
                    UnknownKeys::Accept,
                );
                Some(BookContainerMapping {
                    from_book_container_uuid: from?,
                    to_book_container_uuid: to?,
                    extra,
                })
            }),
        );
        let exercises = o.required(
            errs,
            "exercise_mappings",
            array(None, |v, p, e| {
                let m = Obj::new(v, p, e)?;
                let from = m.required(e, "from_exercise_uuid", uuid);
                let to = m.required(e, "to_book_container_uuid", uuid);
                let extra = m.rest(
                    e,
                    &["from_exercise_uuid", "to_book_container_uuid"],
                    UnknownKeys::Accept,
                );
                Some(ExerciseMapping {
                    from_exercise_uuid: from?,
                    to_book_container_uuid: to?,
                    extra,
                })
            }),
        );
        let extra = o.rest(
            errs,
            &[
                "from_ecosystem_uuid",
                "to_ecosystem_uuid",
                "book_container_mappings",
                "exercise_mappings",
            ],
            UnknownKeys::Accept,
        );
        Some(EcosystemMap {
            from_ecosystem_uuid: from?,
            to_ecosystem_uuid: to?,
            book_container_mappings: books?,
            exercise_mappings: exercises?,
            extra,
        })
    }
}

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

impl PrepareCourseEcosystem {
    /// The request keys of POST /prepare_course_ecosystem.
    pub const KEYS: &'static [&'static str] = &[
        "preparation_uuid",
        "course_uuid",
        "sequence_number",
        "next_ecosystem_uuid",
        "ecosystem_map",
        "prepared_at",
    ];

    pub(crate) fn decode(
        value: &Value,
        path: &At<'_>,
        errs: &mut ValidationErrors,
        unknown: UnknownKeys,
    ) -> Option<Echoed<Self>> {
        let o = Obj::new(value, path, errs)?;
        let preparation = o.required(errs, "preparation_uuid", uuid_with_text::<PreparationId>);
        let course_uuid = o.required(errs, "course_uuid", uuid);
        let seq = o.required(errs, "sequence_number", sequence_number);
        let next = o.required(errs, "next_ecosystem_uuid", uuid);
        let map = o.required(errs, "ecosystem_map", EcosystemMap::decode);
        let prepared_at = o.required(errs, "prepared_at", datetime);
        o.rest(errs, Self::KEYS, unknown);
        let (preparation_uuid, raw_uuid) = preparation?;
        Some(Echoed {
            raw_uuid,
            event: PrepareCourseEcosystem {
                preparation_uuid,
                course_uuid: course_uuid?,
                sequence_number: seq?,
                next_ecosystem_uuid: next?,
                ecosystem_map: map?,
                prepared_at: prepared_at?,
            },
        })
    }
}

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

impl UpdateCourseEcosystem {
    /// The keys of one `update_requests[]` item.
    pub const KEYS: &'static [&'static str] = &[
        "request_uuid",
        "course_uuid",
        "sequence_number",
        "preparation_uuid",
        "updated_at",
    ];

    pub(crate) fn decode(
        value: &Value,
        path: &At<'_>,
        errs: &mut ValidationErrors,
        unknown: UnknownKeys,
    ) -> Option<Echoed<Self>> {
        let o = Obj::new(value, path, errs)?;
        let request = o.required(errs, "request_uuid", uuid_with_text::<RequestId>);
        let course_uuid = o.required(errs, "course_uuid", uuid);
        let seq = o.required(errs, "sequence_number", sequence_number);
        let preparation_uuid = o.required(errs, "preparation_uuid", uuid);
        let updated_at = o.required(errs, "updated_at", datetime);
        o.rest(errs, Self::KEYS, unknown);
        let (request_uuid, raw_uuid) = request?;
        Some(Echoed {
            raw_uuid,
            event: UpdateCourseEcosystem {
                request_uuid,
                course_uuid: course_uuid?,
                sequence_number: seq?,
                preparation_uuid: preparation_uuid?,
                updated_at: updated_at?,
            },
        })
    }
}
