//! The per-course state the engine persists: the projected course plus the
//! CLUE rows it has written, so rows that disappear can be retired.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{BookContainerId, CourseContainerId, CourseId, StudentId};
use crate::projection::{decode_state, encode_state, BlobError, CourseState};

/// A course's projection and the engine's bookkeeping of written CLUEs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineCourseState {
    /// The projected course.
    pub course: CourseState,
    /// The book containers each student has CLUE rows for.
    pub student_clues: BTreeMap<StudentId, BTreeSet<BookContainerId>>,
    /// The book containers each course container has teacher CLUE rows for.
    pub teacher_clues: BTreeMap<CourseContainerId, BTreeSet<BookContainerId>>,
}

impl EngineCourseState {
    /// A course with no event applied and no CLUE written.
    pub fn new(id: CourseId) -> Self {
        EngineCourseState {
            course: CourseState::new(id),
            student_clues: BTreeMap::new(),
            teacher_clues: BTreeMap::new(),
        }
    }

    /// The versioned blob bytes ([`encode_state`]).
    pub fn encode(&self) -> Result<Vec<u8>, BlobError> {
        encode_state(self)
    }

    /// Reads bytes written by [`EngineCourseState::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, BlobError> {
        decode_state(bytes)
    }
}
