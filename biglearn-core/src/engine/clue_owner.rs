//! Who owns a set of CLUE rows and why they are recalculated (a helper of
//! [`super::recalc`]).

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::engine_store::ClueTarget;
use crate::ids::{BookContainerId, CourseContainerId, StudentId};
use crate::log::SequenceNumber;
use crate::projection::AnsweredExercise;

/// Why an owner's CLUEs are recalculated: `full` (all rows, at that
/// sequence number), `prepared` (only the prepared ecosystem's rows, S1
/// fix 11), `answers` (only the rows these changed answers count for, each
/// at the sequence number of the last event that changed it) and/or
/// `matrix` (the rows of the algorithm that reads the matrix).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Marks<'d> {
    /// Every row, dirtied last by the event at this sequence number.
    pub(super) full: Option<SequenceNumber>,
    /// The prepared ecosystem's rows, marked by this preparation.
    pub(super) prepared: Option<SequenceNumber>,
    /// Changed answers of the owner's students.
    pub(super) answers: Option<&'d BTreeMap<AnsweredExercise, SequenceNumber>>,
    /// A new matrix: every `biglearn_sparfa` row.
    pub(super) matrix: Option<SequenceNumber>,
}

impl Marks<'_> {
    /// The latest sequence number of the changed answers, if any.
    pub(super) fn last_answer(&self) -> Option<SequenceNumber> {
        self.answers.and_then(|a| a.values().max().copied())
    }
}

/// The owners of `full`, `prepared`, `answers` and `matrix` in key order,
/// with their marks.
pub(super) fn merged<'d, K: Ord + Copy>(
    full: &BTreeMap<K, SequenceNumber>,
    prepared: &BTreeMap<K, SequenceNumber>,
    answers: &'d BTreeMap<K, BTreeMap<AnsweredExercise, SequenceNumber>>,
    matrix: &BTreeMap<K, SequenceNumber>,
) -> BTreeMap<K, Marks<'d>> {
    let mut all: BTreeMap<K, Marks<'d>> = BTreeMap::new();
    for (key, at) in full {
        all.entry(*key).or_default().full = Some(*at);
    }
    for (key, at) in prepared {
        all.entry(*key).or_default().prepared = Some(*at);
    }
    for (key, changed) in answers {
        all.entry(*key).or_default().answers = Some(changed);
    }
    for (key, at) in matrix {
        all.entry(*key).or_default().matrix = Some(*at);
    }
    all
}

/// Whose CLUEs: the target owner and the students they cover.
pub(super) enum ClueOwner {
    Student(StudentId, Vec<StudentId>),
    Teacher(CourseContainerId, Vec<StudentId>),
}

impl ClueOwner {
    pub(super) fn target(&self, book_container: BookContainerId) -> ClueTarget {
        match self {
            ClueOwner::Student(student, _) => ClueTarget::Student {
                student: *student,
                book_container,
            },
            ClueOwner::Teacher(course_container, _) => ClueTarget::Teacher {
                course_container: *course_container,
                book_container,
            },
        }
    }

    pub(super) fn students(&self) -> &[StudentId] {
        match self {
            ClueOwner::Student(_, students) | ClueOwner::Teacher(_, students) => students,
        }
    }

    pub(super) fn kind(&self) -> &'static str {
        match self {
            ClueOwner::Student(..) => "student_clue",
            ClueOwner::Teacher(..) => "teacher_clue",
        }
    }

    pub(super) fn uuid(&self) -> Uuid {
        match self {
            ClueOwner::Student(student, _) => (*student).into(),
            ClueOwner::Teacher(container, _) => (*container).into(),
        }
    }
}
