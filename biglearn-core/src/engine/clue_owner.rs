//! Who owns a set of CLUE rows and why they are recalculated (a helper of
//! [`super::recalc`]).

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::engine_store::ClueTarget;
use crate::ids::{BookContainerId, CourseContainerId, StudentId};
use crate::log::SequenceNumber;

/// Why an owner's CLUEs are recalculated: `full` (all rows, at that
/// sequence number) and/or `prepared` (only the prepared ecosystem's rows,
/// S1 fix 11).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Marks {
    /// Every row, dirtied last by the event at this sequence number.
    pub(super) full: Option<SequenceNumber>,
    /// The prepared ecosystem's rows, marked by this preparation.
    pub(super) prepared: Option<SequenceNumber>,
}

/// The owners of `full` and `prepared` in key order, with their marks.
pub(super) fn merged<K: Ord + Copy>(
    full: &BTreeMap<K, SequenceNumber>,
    prepared: &BTreeMap<K, SequenceNumber>,
) -> BTreeMap<K, Marks> {
    let mut all: BTreeMap<K, Marks> = BTreeMap::new();
    for (key, at) in full {
        all.entry(*key).or_default().full = Some(*at);
    }
    for (key, at) in prepared {
        all.entry(*key).or_default().prepared = Some(*at);
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
