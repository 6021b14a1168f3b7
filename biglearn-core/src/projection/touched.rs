//! [`Touched`]: which parts of a course state changed since the engine last
//! stored it, so a commit writes those parts and nothing else.

use std::collections::BTreeSet;

use crate::ids::{AssignmentId, StudentId};

/// The assignments and students whose stored parts are out of date.
///
/// Bookkeeping of the storage layer, not part of the state's value: two
/// states that hold the same course are equal whatever they have touched,
/// and it is never serialized.
#[derive(Debug, Clone, Default)]
pub struct Touched {
    /// Assignments whose part (the assignment, its trials and their latest
    /// answers) changed.
    pub assignments: BTreeSet<AssignmentId>,
    /// Students whose part (CLUE bookkeeping, answers to trials no
    /// assignment has issued yet) changed.
    pub students: BTreeSet<StudentId>,
}

impl Touched {
    /// Whether nothing was touched.
    pub fn is_empty(&self) -> bool {
        self.assignments.is_empty() && self.students.is_empty()
    }

    /// Forgets every mark (after a commit stored them).
    pub fn clear(&mut self) {
        self.assignments.clear();
        self.students.clear();
    }
}

impl PartialEq for Touched {
    /// Always equal: see the type's docs.
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}
