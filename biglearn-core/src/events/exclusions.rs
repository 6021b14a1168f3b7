//! The two exclusion course events, update_globally_excluded_exercises and
//! update_course_excluded_exercises (api.md §2.6 `exercise_exclusion`, §5.5).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::convert::WireEvent;
use super::datetime::Datetime;
use super::decode::{
    array, datetime, expected, sequence_number, uuid, uuid_with_text, Obj, UnknownKeys,
};
use super::path::{At, ValidationErrors};
use super::slot::Slot;
use super::Echoed;
use crate::ids::{CourseId, EventId, ExerciseGroupId, ExerciseId, RequestId};
use crate::log::{EventType, SequenceNumber, StreamId};

/// What one exclusion excludes (api.md §2.6 `exercise_exclusion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExclusionTarget {
    /// `{exercise_uuid}`: one specific exercise version.
    Exercise(ExerciseId),
    /// `{exercise_group_uuid}`: every version of an exercise.
    Group(ExerciseGroupId),
}

/// One exercise exclusion: exactly one of `exercise_uuid` / `exercise_group_uuid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawExclusion", into = "RawExclusion")]
pub struct ExerciseExclusion {
    /// What is excluded.
    pub target: ExclusionTarget,
    /// Undeclared keys, kept verbatim (A2).
    pub extra: Map<String, Value>,
}

/// The serde shape of [`ExerciseExclusion`].
#[derive(Serialize, Deserialize)]
struct RawExclusion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exercise_uuid: Option<ExerciseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exercise_group_uuid: Option<ExerciseGroupId>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

const EXACTLY_ONE: &str = "expected exactly one of exercise_uuid or exercise_group_uuid";

impl TryFrom<RawExclusion> for ExerciseExclusion {
    type Error = &'static str;
    fn try_from(raw: RawExclusion) -> Result<Self, Self::Error> {
        let target = match (raw.exercise_uuid, raw.exercise_group_uuid) {
            (Some(exercise), None) => ExclusionTarget::Exercise(exercise),
            (None, Some(group)) => ExclusionTarget::Group(group),
            _ => return Err(EXACTLY_ONE),
        };
        Ok(ExerciseExclusion {
            target,
            extra: raw.extra,
        })
    }
}

impl From<ExerciseExclusion> for RawExclusion {
    fn from(exclusion: ExerciseExclusion) -> Self {
        let (exercise_uuid, exercise_group_uuid) = match exclusion.target {
            ExclusionTarget::Exercise(id) => (Some(id), None),
            ExclusionTarget::Group(id) => (None, Some(id)),
        };
        RawExclusion {
            exercise_uuid,
            exercise_group_uuid,
            extra: exclusion.extra,
        }
    }
}

impl ExerciseExclusion {
    fn decode(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<Self> {
        let o = Obj::new(value, path, errs)?;
        let exercise = o.optional(errs, "exercise_uuid", uuid::<ExerciseId>);
        let group = o.optional(errs, "exercise_group_uuid", uuid::<ExerciseGroupId>);
        let extra = o.rest(
            errs,
            &["exercise_uuid", "exercise_group_uuid"],
            UnknownKeys::Accept,
        );
        let target = match (exercise?, group?) {
            (Slot::Present(exercise), Slot::Absent) => ExclusionTarget::Exercise(exercise),
            (Slot::Absent, Slot::Present(group)) => ExclusionTarget::Group(group),
            (Slot::Present(_), Slot::Present(_)) => {
                errs.push_at(path, format!("{EXACTLY_ONE}, got both"));
                return None;
            }
            (Slot::Null, _) | (_, Slot::Null) => {
                let key = if matches!(o.map.get("exercise_uuid"), Some(Value::Null)) {
                    "exercise_uuid"
                } else {
                    "exercise_group_uuid"
                };
                expected(
                    errs,
                    &path.key(key),
                    "a uuid (8-4-4-4-12 hex digits)",
                    &Value::Null,
                );
                return None;
            }
            (Slot::Absent, Slot::Absent) => {
                errs.push_at(path, format!("{EXACTLY_ONE}, got neither"));
                return None;
            }
        };
        Some(ExerciseExclusion { target, extra })
    }
}

/// Which list an exclusion event replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExclusionScope {
    /// update_globally_excluded_exercises: the admin list, re-sent per course.
    #[default]
    Global,
    /// update_course_excluded_exercises: the course's own list.
    Course,
}

impl ExclusionScope {
    /// The event type written for this scope.
    pub fn event_type(&self) -> EventType {
        match self {
            ExclusionScope::Global => EventType::UpdateGloballyExcludedExercises,
            ExclusionScope::Course => EventType::UpdateCourseExcludedExercises,
        }
    }
}

/// update_globally_excluded_exercises / update_course_excluded_exercises: the
/// complete current exclusion list of one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateExcludedExercises {
    /// Which list. Not part of the event data (it is the event type): plain
    /// serde deserialization yields `Global`; [`WireEvent::from_event`] sets
    /// it from the stored event's type.
    #[serde(skip)]
    pub scope: ExclusionScope,
    /// Event uuid.
    pub request_uuid: RequestId,
    /// The course.
    pub course_uuid: CourseId,
    /// Client-assigned position.
    pub sequence_number: SequenceNumber,
    /// The complete list (replaces earlier ones).
    pub exclusions: Vec<ExerciseExclusion>,
    /// When it changed.
    pub updated_at: Datetime,
}

impl WireEvent for UpdateExcludedExercises {
    fn event_type(&self) -> EventType {
        self.scope.event_type()
    }
    fn stream(&self) -> StreamId {
        StreamId::Course(self.course_uuid)
    }
    fn sequence_number(&self) -> SequenceNumber {
        self.sequence_number
    }
    fn event_id(&self) -> EventId {
        EventId::from_uuid(*self.request_uuid.as_uuid())
    }
    fn accepts(event_type: EventType) -> bool {
        matches!(
            event_type,
            EventType::UpdateGloballyExcludedExercises | EventType::UpdateCourseExcludedExercises
        )
    }
    fn expected_name() -> &'static str {
        "update_globally_excluded_exercises or update_course_excluded_exercises"
    }
    fn adopt_event_type(&mut self, event_type: EventType) {
        if event_type == EventType::UpdateCourseExcludedExercises {
            self.scope = ExclusionScope::Course;
        } else {
            self.scope = ExclusionScope::Global;
        }
    }
}

impl UpdateExcludedExercises {
    /// The request keys of both exclusion endpoints.
    pub const KEYS: &'static [&'static str] = &[
        "request_uuid",
        "course_uuid",
        "sequence_number",
        "exclusions",
        "updated_at",
    ];

    pub(crate) fn decode(
        value: &Value,
        path: &At<'_>,
        errs: &mut ValidationErrors,
        scope: ExclusionScope,
    ) -> Option<Echoed<Self>> {
        let o = Obj::new(value, path, errs)?;
        let request = o.required(errs, "request_uuid", uuid_with_text::<RequestId>);
        let course_uuid = o.required(errs, "course_uuid", uuid);
        let seq = o.required(errs, "sequence_number", sequence_number);
        let exclusions = o.required(errs, "exclusions", array(None, ExerciseExclusion::decode));
        let updated_at = o.required(errs, "updated_at", datetime);
        o.rest(errs, Self::KEYS, UnknownKeys::Reject);
        let (request_uuid, raw_uuid) = request?;
        Some(Echoed {
            raw_uuid,
            event: UpdateExcludedExercises {
                scope,
                request_uuid,
                course_uuid: course_uuid?,
                sequence_number: seq?,
                exclusions: exclusions?,
                updated_at: updated_at?,
            },
        })
    }
}
