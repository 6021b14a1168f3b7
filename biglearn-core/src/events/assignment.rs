//! Course events about student work: create_update_assignment and
//! record_response (api.md §4.3, §5.6).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::datetime::Datetime;
use super::decode::{
    array, boolean, count_u32, datetime, sequence_number, string_len, uuid, uuid_with_text, Obj,
    UnknownKeys,
};
use super::path::{At, ValidationErrors};
use super::slot::Slot;
use super::Echoed;
use crate::ids::{
    AssignmentId, BookContainerId, CalculationId, CourseId, EcosystemId, EcosystemMatrixId,
    ExerciseId, RequestId, ResponseId, StudentId, TrialId,
};
use crate::log::{EventType, SequenceNumber};

/// Longest `assignment_type` (declared 1–100 characters).
pub const MAX_ASSIGNMENT_TYPE_LEN: usize = 100;

/// `exclusion_info`: the dates that drive anti-cheating and CLUE hiding.
///
/// Only present dates are sent (api.md §6.1). The final Tutor versions send
/// `closes_at` instead of `feedback_at` (S3: stored, otherwise unused).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExclusionInfo {
    /// When the assignment opens.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub opens_at: Slot<Datetime>,
    /// When it is due.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub due_at: Slot<Datetime>,
    /// When feedback is shown.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub feedback_at: Slot<Datetime>,
    /// When it closes (2020 Tutor; undeclared but validated as a datetime).
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub closes_at: Slot<Datetime>,
    /// Other undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ExclusionInfo {
    const KEYS: &'static [&'static str] = &["opens_at", "due_at", "feedback_at", "closes_at"];

    fn decode(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<Self> {
        let o = Obj::new(value, path, errs)?;
        let opens_at = o.optional(errs, "opens_at", datetime);
        let due_at = o.optional(errs, "due_at", datetime);
        let feedback_at = o.optional(errs, "feedback_at", datetime);
        let closes_at = o.optional(errs, "closes_at", datetime);
        let extra = o.rest(errs, Self::KEYS, UnknownKeys::Accept);
        Some(ExclusionInfo {
            opens_at: opens_at?,
            due_at: due_at?,
            feedback_at: feedback_at?,
            closes_at: closes_at?,
            extra,
        })
    }
}

/// `pes` / `spes`: which precomputed calculation Tutor actually used.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CalculationRef {
    /// The calculation, when Tutor had one.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub calculation_uuid: Slot<CalculationId>,
    /// The matrix, when Tutor had one.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub ecosystem_matrix_uuid: Slot<EcosystemMatrixId>,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CalculationRef {
    fn decode(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<Self> {
        let o = Obj::new(value, path, errs)?;
        let calculation_uuid = o.optional(errs, "calculation_uuid", uuid);
        let ecosystem_matrix_uuid = o.optional(errs, "ecosystem_matrix_uuid", uuid);
        let extra = o.rest(
            errs,
            &["calculation_uuid", "ecosystem_matrix_uuid"],
            UnknownKeys::Accept,
        );
        Some(CalculationRef {
            calculation_uuid: calculation_uuid?,
            ecosystem_matrix_uuid: ecosystem_matrix_uuid?,
            extra,
        })
    }
}

/// One `assigned_exercises[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedExercise {
    /// This issuance (record_response refers to it).
    pub trial_uuid: TrialId,
    /// The exercise.
    pub exercise_uuid: ExerciseId,
    /// Placed as a spaced-practice exercise.
    pub is_spe: bool,
    /// Placed as a personalized exercise.
    pub is_pe: bool,
    /// Undeclared keys, kept verbatim (A2).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AssignedExercise {
    fn decode(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<Self> {
        let o = Obj::new(value, path, errs)?;
        let trial_uuid = o.required(errs, "trial_uuid", uuid);
        let exercise_uuid = o.required(errs, "exercise_uuid", uuid);
        let is_spe = o.required(errs, "is_spe", boolean);
        let is_pe = o.required(errs, "is_pe", boolean);
        let extra = o.rest(
            errs,
            &["trial_uuid", "exercise_uuid", "is_spe", "is_pe"],
            UnknownKeys::Accept,
        );
        Some(AssignedExercise {
            trial_uuid: trial_uuid?,
            exercise_uuid: exercise_uuid?,
            is_spe: is_spe?,
            is_pe: is_pe?,
            extra,
        })
    }
}

/// create_update_assignment: one (student, task) as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUpdateAssignment {
    /// Event uuid.
    pub request_uuid: RequestId,
    /// The course.
    pub course_uuid: CourseId,
    /// Client-assigned position.
    pub sequence_number: SequenceNumber,
    /// The assignment (per student task).
    pub assignment_uuid: AssignmentId,
    /// Task withdrawn.
    pub is_deleted: bool,
    /// The assignment's own ecosystem.
    pub ecosystem_uuid: EcosystemId,
    /// The student.
    pub student_uuid: StudentId,
    /// `reading`, `homework`, `practice`, …: matched against pool types.
    pub assignment_type: String,
    /// Dates; absent or null when Tutor sends none.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub exclusion_info: Slot<ExclusionInfo>,
    /// The PE calculation Tutor used.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub pes: Slot<CalculationRef>,
    /// The SPE calculation Tutor used.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub spes: Slot<CalculationRef>,
    /// Core pages of the task (no item limit, A8).
    pub assigned_book_container_uuids: Vec<BookContainerId>,
    /// How many SPEs Tutor wants.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub goal_num_tutor_assigned_spes: Slot<u32>,
    /// Whether the SPE slots are filled.
    pub spes_are_assigned: bool,
    /// How many PEs Tutor wants.
    #[serde(default, skip_serializing_if = "Slot::is_absent")]
    pub goal_num_tutor_assigned_pes: Slot<u32>,
    /// Whether the PE slots are filled.
    pub pes_are_assigned: bool,
    /// The exercises issued so far (no item limit, A8).
    pub assigned_exercises: Vec<AssignedExercise>,
    /// When the task was created.
    pub created_at: Datetime,
    /// When it last changed.
    pub updated_at: Datetime,
}

course_event!(
    CreateUpdateAssignment,
    EventType::CreateUpdateAssignment,
    request_uuid,
    |b| b.sequence_number
);

impl CreateUpdateAssignment {
    /// The keys of one `assignments[]` item.
    pub const KEYS: &'static [&'static str] = &[
        "request_uuid",
        "course_uuid",
        "sequence_number",
        "assignment_uuid",
        "is_deleted",
        "ecosystem_uuid",
        "student_uuid",
        "assignment_type",
        "exclusion_info",
        "pes",
        "spes",
        "assigned_book_container_uuids",
        "goal_num_tutor_assigned_spes",
        "spes_are_assigned",
        "goal_num_tutor_assigned_pes",
        "pes_are_assigned",
        "assigned_exercises",
        "created_at",
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
        let assignment_uuid = o.required(errs, "assignment_uuid", uuid);
        let is_deleted = o.required(errs, "is_deleted", boolean);
        let ecosystem_uuid = o.required(errs, "ecosystem_uuid", uuid);
        let student_uuid = o.required(errs, "student_uuid", uuid);
        let assignment_type = o.required(
            errs,
            "assignment_type",
            string_len(1, MAX_ASSIGNMENT_TYPE_LEN),
        );
        let exclusion_info = o.optional(errs, "exclusion_info", ExclusionInfo::decode);
        let pes = o.optional(errs, "pes", CalculationRef::decode);
        let spes = o.optional(errs, "spes", CalculationRef::decode);
        let pages = o.required(errs, "assigned_book_container_uuids", array(None, uuid));
        let goal_spes = o.optional(errs, "goal_num_tutor_assigned_spes", count_u32);
        let spes_are_assigned = o.required(errs, "spes_are_assigned", boolean);
        let goal_pes = o.optional(errs, "goal_num_tutor_assigned_pes", count_u32);
        let pes_are_assigned = o.required(errs, "pes_are_assigned", boolean);
        let exercises = o.required(
            errs,
            "assigned_exercises",
            array(None, AssignedExercise::decode),
        );
        let created_at = o.required(errs, "created_at", datetime);
        let updated_at = o.required(errs, "updated_at", datetime);
        o.rest(errs, Self::KEYS, unknown);
        let (request_uuid, raw_uuid) = request?;
        Some(Echoed {
            raw_uuid,
            event: CreateUpdateAssignment {
                request_uuid,
                course_uuid: course_uuid?,
                sequence_number: seq?,
                assignment_uuid: assignment_uuid?,
                is_deleted: is_deleted?,
                ecosystem_uuid: ecosystem_uuid?,
                student_uuid: student_uuid?,
                assignment_type: assignment_type?,
                exclusion_info: exclusion_info?,
                pes: pes?,
                spes: spes?,
                assigned_book_container_uuids: pages?,
                goal_num_tutor_assigned_spes: goal_spes?,
                spes_are_assigned: spes_are_assigned?,
                goal_num_tutor_assigned_pes: goal_pes?,
                pes_are_assigned: pes_are_assigned?,
                assigned_exercises: exercises?,
                created_at: created_at?,
                updated_at: updated_at?,
            },
        })
    }
}

/// record_response: one answer to one issued exercise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordResponse {
    /// Event uuid (idempotency key).
    pub response_uuid: ResponseId,
    /// The course.
    pub course_uuid: CourseId,
    /// Client-assigned position.
    pub sequence_number: SequenceNumber,
    /// The task's ecosystem.
    pub ecosystem_uuid: EcosystemId,
    /// The issuance answered (from `assigned_exercises`).
    pub trial_uuid: TrialId,
    /// The student.
    pub student_uuid: StudentId,
    /// The exercise.
    pub exercise_uuid: ExerciseId,
    /// Whether the answer was right.
    pub is_correct: bool,
    /// False for preview courses and teacher-students.
    pub is_real_response: bool,
    /// When it was answered.
    pub responded_at: Datetime,
}

course_event!(
    RecordResponse,
    EventType::RecordResponse,
    response_uuid,
    |b| b.sequence_number
);

impl RecordResponse {
    /// The keys of one `responses[]` item.
    pub const KEYS: &'static [&'static str] = &[
        "response_uuid",
        "course_uuid",
        "sequence_number",
        "ecosystem_uuid",
        "trial_uuid",
        "student_uuid",
        "exercise_uuid",
        "is_correct",
        "is_real_response",
        "responded_at",
    ];

    pub(crate) fn decode(
        value: &Value,
        path: &At<'_>,
        errs: &mut ValidationErrors,
        unknown: UnknownKeys,
    ) -> Option<Echoed<Self>> {
        let o = Obj::new(value, path, errs)?;
        let response = o.required(errs, "response_uuid", uuid_with_text::<ResponseId>);
        let course_uuid = o.required(errs, "course_uuid", uuid);
        let seq = o.required(errs, "sequence_number", sequence_number);
        let ecosystem_uuid = o.required(errs, "ecosystem_uuid", uuid);
        let trial_uuid = o.required(errs, "trial_uuid", uuid);
        let student_uuid = o.required(errs, "student_uuid", uuid);
        let exercise_uuid = o.required(errs, "exercise_uuid", uuid);
        let is_correct = o.required(errs, "is_correct", boolean);
        let is_real_response = o.required(errs, "is_real_response", boolean);
        let responded_at = o.required(errs, "responded_at", datetime);
        o.rest(errs, Self::KEYS, unknown);
        let (response_uuid, raw_uuid) = response?;
        Some(Echoed {
            raw_uuid,
            event: RecordResponse {
                response_uuid,
                course_uuid: course_uuid?,
                sequence_number: seq?,
                ecosystem_uuid: ecosystem_uuid?,
                trial_uuid: trial_uuid?,
                student_uuid: student_uuid?,
                exercise_uuid: exercise_uuid?,
                is_correct: is_correct?,
                is_real_response: is_real_response?,
                responded_at: responded_at?,
            },
        })
    }
}
