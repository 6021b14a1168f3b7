//! Course events about student work: create_update_assignment and
//! record_response (api.md §4.3, §5.6).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::datetime::Datetime;
use super::decode::{array, boolean, count_u32, datetime, sequence_number, string_len, uuid};
use super::decoders::{event_decoder, nested_decoder};
use super::slot::Slot;
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

nested_decoder!(ExclusionInfo {
    opens_at: optional(datetime),
    due_at: optional(datetime),
    feedback_at: optional(datetime),
    closes_at: optional(datetime),
});

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

nested_decoder!(CalculationRef {
    calculation_uuid: optional(uuid),
    ecosystem_matrix_uuid: optional(uuid),
});

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

nested_decoder!(AssignedExercise {
    trial_uuid: required(uuid),
    exercise_uuid: required(uuid),
    is_spe: required(boolean),
    is_pe: required(boolean),
});

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

event_decoder!(
    /// The keys of one `assignments[]` item.
    CreateUpdateAssignment, echo request_uuid: RequestId, {
        course_uuid: required(uuid),
        sequence_number: required(sequence_number),
        assignment_uuid: required(uuid),
        is_deleted: required(boolean),
        ecosystem_uuid: required(uuid),
        student_uuid: required(uuid),
        assignment_type: required(string_len(1, MAX_ASSIGNMENT_TYPE_LEN)),
        exclusion_info: optional(ExclusionInfo::decode),
        pes: optional(CalculationRef::decode),
        spes: optional(CalculationRef::decode),
        assigned_book_container_uuids: required(array(None, uuid)),
        goal_num_tutor_assigned_spes: optional(count_u32),
        spes_are_assigned: required(boolean),
        goal_num_tutor_assigned_pes: optional(count_u32),
        pes_are_assigned: required(boolean),
        assigned_exercises: required(array(None, AssignedExercise::decode)),
        created_at: required(datetime),
        updated_at: required(datetime),
    }
);

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

event_decoder!(
    /// The keys of one `responses[]` item.
    RecordResponse, echo response_uuid: ResponseId, {
        course_uuid: required(uuid),
        sequence_number: required(sequence_number),
        ecosystem_uuid: required(uuid),
        trial_uuid: required(uuid),
        student_uuid: required(uuid),
        exercise_uuid: required(uuid),
        is_correct: required(boolean),
        is_real_response: required(boolean),
        responded_at: required(datetime),
    }
);
