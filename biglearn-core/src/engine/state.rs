//! The per-course state the engine persists: the projected course plus the
//! CLUE rows it has written, so rows that disappear can be retired.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{
    BookContainerId, CourseContainerId, CourseId, EcosystemId, EcosystemMatrixId, StudentId,
};
use crate::projection::{decode_state, encode_state_binary, BlobError, CourseState};
use crate::scheduler::Instant;

/// A course's projection and the engine's bookkeeping of written CLUEs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineCourseState {
    /// The projected course.
    pub course: CourseState,
    /// The book containers each student has CLUE rows for.
    pub student_clues: BTreeMap<StudentId, BTreeSet<BookContainerId>>,
    /// The book containers each course container has teacher CLUE rows for.
    pub teacher_clues: BTreeMap<CourseContainerId, BTreeSet<BookContainerId>>,
    /// The latest `now` the course's results were calculated at: dates
    /// passing after it mark results dirty (feedback, anti-cheating).
    #[serde(default)]
    pub clock: Option<Instant>,
    /// The matrix each of the course's ecosystems had (`None`: not fitted)
    /// when the results were calculated: a different stored matrix
    /// re-triggers the calculations (S1 fix 10).
    #[serde(default)]
    pub matrices: BTreeMap<EcosystemId, Option<EcosystemMatrixId>>,
}

impl EngineCourseState {
    /// A course with no event applied and no CLUE written.
    pub fn new(id: CourseId) -> Self {
        EngineCourseState {
            course: CourseState::new(id),
            student_clues: BTreeMap::new(),
            teacher_clues: BTreeMap::new(),
            clock: None,
            matrices: BTreeMap::new(),
        }
    }

    /// The versioned binary blob bytes
    /// ([`crate::projection::encode_state_binary`]): several times smaller
    /// and faster to write than JSON, which matters for large courses.
    pub fn encode(&self) -> Result<Vec<u8>, BlobError> {
        encode_state_binary(self)
    }

    /// An estimate of the state's heap size in bytes, for the cache budget:
    /// per answer, trial, assignment and student, what their maps hold.
    pub fn approx_bytes(&self) -> usize {
        let c = &self.course;
        4096 + 160 * c.responses.len()
            + 96 * c.trials.len()
            + 640 * c.assignments.len()
            + 256 * c.students.len()
            + 48 * self
                .student_clues
                .values()
                .map(|s| s.len() + 1)
                .sum::<usize>()
    }

    /// Reads bytes written by [`EngineCourseState::encode`], or the JSON
    /// form earlier versions stored.
    pub fn decode(bytes: &[u8]) -> Result<Self, BlobError> {
        decode_state(bytes)
    }
}
