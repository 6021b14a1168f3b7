//! The per-course state the engine persists: the projected course plus the
//! CLUE rows it has written, so rows that disappear can be retired.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::catch_up::MatrixCatchUp;
use crate::fast_hash::FastHashMap;
use crate::ids::{
    BookContainerId, CourseContainerId, CourseId, EcosystemId, EcosystemMatrixId, StudentId,
};
use crate::projection::{
    decode_state, encode_state_binary, BlobError, CandidateCache, CourseState,
};
use crate::scheduler::{BuiltinAlgorithm, ClueData};
use crate::time::Instant;

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
    /// The recalculation a new matrix still owes this course, done in
    /// bounded slices by the wake-ups ([`super::catch_up`]).
    #[serde(default)]
    pub matrix_catch_up: Option<MatrixCatchUp>,
    /// The student CLUE values this engine wrote last (not stored).
    #[serde(skip)]
    pub clue_values: StudentClueValues,
    /// The students' CLUE candidates built so far (not stored).
    #[serde(skip)]
    pub candidates: CandidateMemo,
}

/// Each student's CLUE candidates (answers joined to the trials and
/// assignments they answer), kept from one bundle to the next so that a
/// teacher CLUE does not rebuild every student's list when one student
/// answers; [`crate::projection::CourseViews::with_candidates`] forgets
/// those of students whose parts changed.
///
/// A memo, not part of the state's value: states holding the same course
/// are equal whatever it holds, and it is never serialized.
#[derive(Debug, Clone, Default)]
pub struct CandidateMemo(pub(super) CandidateCache);

impl CandidateMemo {
    /// How many candidates it holds, over all students.
    fn len(&self) -> usize {
        self.0.values().map(|c| c.len()).sum()
    }
}

impl PartialEq for CandidateMemo {
    /// Always equal: see the type's docs.
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

/// The data of every student CLUE row an engine computed while it held the
/// course, by (student, book container, algorithm): practice worst areas
/// read a student's CLUEs on every container, while an answer recalculates
/// only the CLUEs it counts for. A row that is not recalculated kept its
/// inputs, so its value here is what a fresh calculation would give; rows
/// missing here (a state just read from the store) are calculated again.
///
/// A memo, not part of the state's value: states holding the same course
/// are equal whatever it holds, and it is never serialized.
#[derive(Debug, Clone, Default)]
pub struct StudentClueValues(
    pub(super) FastHashMap<(StudentId, BookContainerId, BuiltinAlgorithm), ClueData>,
);

impl PartialEq for StudentClueValues {
    /// Always equal: see the type's docs.
    fn eq(&self, _other: &Self) -> bool {
        true
    }
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
            matrix_catch_up: None,
            clue_values: StudentClueValues::default(),
            candidates: CandidateMemo::default(),
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
            + 96 * self.clue_values.0.len()
            + 128 * self.candidates.len()
    }

    /// Reads bytes written by [`EngineCourseState::encode`], or the JSON
    /// form earlier versions stored.
    pub fn decode(bytes: &[u8]) -> Result<Self, BlobError> {
        decode_state(bytes)
    }
}
