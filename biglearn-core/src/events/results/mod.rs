//! Request bodies of the engine-result endpoints (api.md §5.7–§5.9): the
//! reads (fetch_assignment_pes, fetch_assignment_spes,
//! fetch_practice_worst_areas_exercises, fetch_student_clues,
//! fetch_teacher_clues) and the pushes of external algorithms (the five
//! update_* endpoints), plus the wire form of a CLUE and the not-real CLUE
//! the reads answer while none is stored.
//!
//! The same walker, limits and messages as the event writes (decision A2:
//! every problem of a body at once, each with its JSON path; unknown keys
//! rejected at the top level, and inside `clue_data`, whose keys api.md
//! §2.6 closes).

mod clue;
mod reads;
mod updates;

use uuid::Uuid;

use super::decode::expected;
use super::path::{At, ValidationErrors};
use crate::engine_store::{AlgorithmName, ClueTarget, ExerciseTarget, ResultKind};
use crate::ids::{AssignmentId, BookContainerId, CourseContainerId, StudentId};

pub use clue::{clue_data_json, not_real_clue, not_real_clue_json};
pub use reads::{parse_result_reads, ClueRead, ExerciseRead, ResultReads};
pub use updates::parse_result_updates;

/// Largest `max_num_exercises` of a read, and most `exercise_uuids` one
/// update may carry (api.md §5.7; decision A8 caps every list at 1000).
pub const MAX_EXERCISES: u64 = 1000;

/// The list key of a read body (`pe_requests`, …, `teacher_clue_requests`).
pub fn read_list_key(kind: ResultKind) -> &'static str {
    match kind {
        ResultKind::AssignmentPes => "pe_requests",
        ResultKind::AssignmentSpes => "spe_requests",
        ResultKind::PracticeWorstAreas => "worst_areas_requests",
        ResultKind::StudentClues => "student_clue_requests",
        ResultKind::TeacherClues => "teacher_clue_requests",
    }
}

/// The list key of an update body (`pe_updates`, …, `teacher_clue_updates`).
pub fn update_list_key(kind: ResultKind) -> &'static str {
    match kind {
        ResultKind::AssignmentPes => "pe_updates",
        ResultKind::AssignmentSpes => "spe_updates",
        ResultKind::PracticeWorstAreas => "practice_worst_areas_updates",
        ResultKind::StudentClues => "student_clue_updates",
        ResultKind::TeacherClues => "teacher_clue_updates",
    }
}

/// The key naming whose result an item is: `assignment_uuid` (PEs, SPEs),
/// `student_uuid` (worst areas, student CLUEs) or `course_container_uuid`
/// (teacher CLUEs). Exercise answers echo it back.
pub fn owner_key(kind: ResultKind) -> &'static str {
    match Shape::of(kind) {
        Shape::Exercises { owner_key, .. } | Shape::Clues { owner_key, .. } => owner_key,
    }
}

/// What the items of one result kind look like: who owns the result, and
/// how its uuid becomes a storage target. One arm per kind, so a decoder
/// never meets a kind it cannot build.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    /// PEs, SPEs, practice worst areas: one list per owner.
    Exercises {
        owner_key: &'static str,
        target: fn(Uuid) -> ExerciseTarget,
    },
    /// Student and teacher CLUEs: one CLUE per owner and book container.
    Clues {
        owner_key: &'static str,
        target: fn(Uuid, BookContainerId) -> ClueTarget,
    },
}

impl Shape {
    pub(crate) fn of(kind: ResultKind) -> Shape {
        match kind {
            ResultKind::AssignmentPes => Shape::Exercises {
                owner_key: "assignment_uuid",
                target: |id| ExerciseTarget::AssignmentPes(AssignmentId::from_uuid(id)),
            },
            ResultKind::AssignmentSpes => Shape::Exercises {
                owner_key: "assignment_uuid",
                target: |id| ExerciseTarget::AssignmentSpes(AssignmentId::from_uuid(id)),
            },
            ResultKind::PracticeWorstAreas => Shape::Exercises {
                owner_key: "student_uuid",
                target: |id| ExerciseTarget::PracticeWorstAreas(StudentId::from_uuid(id)),
            },
            ResultKind::StudentClues => Shape::Clues {
                owner_key: "student_uuid",
                target: |id, book_container| ClueTarget::Student {
                    student: StudentId::from_uuid(id),
                    book_container,
                },
            },
            ResultKind::TeacherClues => Shape::Clues {
                owner_key: "course_container_uuid",
                target: |id, book_container| ClueTarget::Teacher {
                    course_container: CourseContainerId::from_uuid(id),
                    book_container,
                },
            },
        }
    }
}

/// An algorithm name: 1–255 bytes, matched case-insensitively (decision
/// A6a: results are stored and read under the lower-cased name).
pub(crate) fn algorithm(
    value: &serde_json::Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<AlgorithmName> {
    match value.as_str().map(AlgorithmName::new) {
        Some(Ok(name)) => Some(name),
        _ => {
            expected(
                errs,
                path,
                "an algorithm name (a string of 1 to 255 bytes)",
                value,
            );
            None
        }
    }
}
