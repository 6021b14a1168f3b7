//! Shared pieces of the read and update body tests (events_result_reads,
//! events_result_updates): uuids, the storage target each result kind
//! decodes to, and the error-message helper.

#![allow(dead_code)]

use biglearn_core::engine_store::{ClueTarget, ExerciseTarget, ResultKind};
use biglearn_core::events::ValidationErrors;
use biglearn_core::ids::{AssignmentId, BookContainerId, CourseContainerId, StudentId};
use uuid::Uuid;

pub const UUID_MSG: &str = "expected a uuid (8-4-4-4-12 hex digits)";
pub const ALGORITHM_MSG: &str = "expected an algorithm name (a string of 1 to 255 bytes)";

/// A version-4-shaped uuid text: `prefix` names the role, `n` the instance.
pub fn id(prefix: u32, n: u64) -> String {
    format!("{prefix:08x}-0000-4000-8000-{n:012}")
}

/// [`id`] parsed.
pub fn uuid(prefix: u32, n: u64) -> Uuid {
    Uuid::parse_str(&id(prefix, n)).expect("uuid")
}

/// The messages of a rejected body.
pub fn messages<T: std::fmt::Debug>(result: Result<T, ValidationErrors>) -> Vec<String> {
    result.expect_err("must be rejected").messages()
}

/// The three exercise-list kinds and the target an owner uuid becomes.
pub fn exercise_targets(owner: Uuid) -> [(ResultKind, ExerciseTarget); 3] {
    [
        (
            ResultKind::AssignmentPes,
            ExerciseTarget::AssignmentPes(AssignmentId::from_uuid(owner)),
        ),
        (
            ResultKind::AssignmentSpes,
            ExerciseTarget::AssignmentSpes(AssignmentId::from_uuid(owner)),
        ),
        (
            ResultKind::PracticeWorstAreas,
            ExerciseTarget::PracticeWorstAreas(StudentId::from_uuid(owner)),
        ),
    ]
}

/// The two CLUE kinds and the target an owner uuid and book container become.
pub fn clue_targets(owner: Uuid, book_container: Uuid) -> [(ResultKind, ClueTarget); 2] {
    let book_container = BookContainerId::from_uuid(book_container);
    [
        (
            ResultKind::StudentClues,
            ClueTarget::Student {
                student: StudentId::from_uuid(owner),
                book_container,
            },
        ),
        (
            ResultKind::TeacherClues,
            ClueTarget::Teacher {
                course_container: CourseContainerId::from_uuid(owner),
                book_container,
            },
        ),
    ]
}
