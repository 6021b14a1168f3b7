//! Value types of the engine store: algorithm names, result targets and
//! keys, stored results, result writes, state blobs and the matrix slot.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{
    AssignmentId, BookContainerId, CalculationId, CourseContainerId, CourseId, EcosystemMatrixId,
    ExerciseId, RequestId, StudentId,
};
use crate::log::{ConsumerName, SequenceNumber};
use crate::scheduler::{BuiltinAlgorithm, ClueData, ResolvedAlgorithm};

/// The longest algorithm name accepted, in bytes.
pub const MAX_ALGORITHM_NAME_LEN: usize = 255;

/// An algorithm name, normalised to lower case (README A6a: names match
/// case-insensitively, like the original's `citext` column), so
/// `Biglearn_Sparfa` and `biglearn_sparfa` key the same results.
///
/// ```
/// use biglearn_core::engine_store::AlgorithmName;
/// let name = AlgorithmName::new("Student_Driven_BIGLEARN_SPARFA").unwrap();
/// assert_eq!(name.as_str(), "student_driven_biglearn_sparfa");
/// assert!(AlgorithmName::new("").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AlgorithmName(String);

/// An algorithm name that is empty or longer than [`MAX_ALGORITHM_NAME_LEN`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("algorithm name {0:?} must be 1-{MAX_ALGORITHM_NAME_LEN} bytes long")]
pub struct InvalidAlgorithmName(pub String);

impl AlgorithmName {
    /// Checks the length and lower-cases the name.
    pub fn new(name: &str) -> Result<Self, InvalidAlgorithmName> {
        let lower = name.to_lowercase();
        if lower.is_empty() || lower.len() > MAX_ALGORITHM_NAME_LEN {
            return Err(InvalidAlgorithmName(name.to_owned()));
        }
        Ok(AlgorithmName(lower))
    }

    /// The name of a built-in algorithm (`biglearn_sparfa`, `local_query`).
    pub fn builtin(algorithm: BuiltinAlgorithm) -> Self {
        AlgorithmName(algorithm.name().to_owned())
    }

    /// The name results of a resolved request name are stored under.
    pub fn resolved(resolved: &ResolvedAlgorithm) -> Result<Self, InvalidAlgorithmName> {
        AlgorithmName::new(&resolved.canonical_name())
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AlgorithmName {
    type Error = InvalidAlgorithmName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AlgorithmName::new(&value)
    }
}

impl From<AlgorithmName> for String {
    fn from(value: AlgorithmName) -> Self {
        value.0
    }
}

impl fmt::Display for AlgorithmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The five result tables of api.md §5.7–§5.9. A `request_uuid` is unique
/// within one kind (the original had one unique index per table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// Personalized exercises per (assignment, algorithm).
    AssignmentPes,
    /// Spaced-practice exercises per (assignment, algorithm).
    AssignmentSpes,
    /// Practice-worst-areas exercises per (student, algorithm).
    PracticeWorstAreas,
    /// CLUEs per (student, book container, algorithm).
    StudentClues,
    /// CLUEs per (course container, book container, algorithm).
    TeacherClues,
}

impl ResultKind {
    /// Every kind, in code order.
    pub const ALL: [ResultKind; 5] = [
        ResultKind::AssignmentPes,
        ResultKind::AssignmentSpes,
        ResultKind::PracticeWorstAreas,
        ResultKind::StudentClues,
        ResultKind::TeacherClues,
    ];

    /// Stable storage code (written to disk).
    pub fn code(self) -> i16 {
        match self {
            ResultKind::AssignmentPes => 0,
            ResultKind::AssignmentSpes => 1,
            ResultKind::PracticeWorstAreas => 2,
            ResultKind::StudentClues => 3,
            ResultKind::TeacherClues => 4,
        }
    }

    /// Inverse of [`ResultKind::code`].
    pub fn from_code(code: i16) -> Option<Self> {
        ResultKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether results of this kind are CLUEs (else exercise lists).
    pub fn is_clue(self) -> bool {
        matches!(self, ResultKind::StudentClues | ResultKind::TeacherClues)
    }
}

/// What an exercise-list result is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseTarget {
    /// The PEs of an assignment.
    AssignmentPes(AssignmentId),
    /// The SPEs of an assignment.
    AssignmentSpes(AssignmentId),
    /// A student's practice-worst-areas exercises.
    PracticeWorstAreas(StudentId),
}

impl ExerciseTarget {
    /// The result table.
    pub fn kind(&self) -> ResultKind {
        match self {
            ExerciseTarget::AssignmentPes(_) => ResultKind::AssignmentPes,
            ExerciseTarget::AssignmentSpes(_) => ResultKind::AssignmentSpes,
            ExerciseTarget::PracticeWorstAreas(_) => ResultKind::PracticeWorstAreas,
        }
    }

    /// The assignment or student uuid.
    pub fn uuid(&self) -> Uuid {
        match self {
            ExerciseTarget::AssignmentPes(id) | ExerciseTarget::AssignmentSpes(id) => *id.as_uuid(),
            ExerciseTarget::PracticeWorstAreas(id) => *id.as_uuid(),
        }
    }

    /// Rebuilds a target from its storage parts; `None` for a CLUE kind.
    pub fn from_parts(kind: ResultKind, uuid: Uuid) -> Option<Self> {
        match kind {
            ResultKind::AssignmentPes => Some(Self::AssignmentPes(AssignmentId::from_uuid(uuid))),
            ResultKind::AssignmentSpes => Some(Self::AssignmentSpes(AssignmentId::from_uuid(uuid))),
            ResultKind::PracticeWorstAreas => {
                Some(Self::PracticeWorstAreas(StudentId::from_uuid(uuid)))
            }
            ResultKind::StudentClues | ResultKind::TeacherClues => None,
        }
    }
}

impl fmt::Display for ExerciseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExerciseTarget::AssignmentPes(id) => write!(f, "the PEs of assignment {id}"),
            ExerciseTarget::AssignmentSpes(id) => write!(f, "the SPEs of assignment {id}"),
            ExerciseTarget::PracticeWorstAreas(id) => write!(f, "the worst areas of student {id}"),
        }
    }
}

/// What a CLUE is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClueTarget {
    /// A student's CLUE on a book container.
    Student {
        /// The student.
        student: StudentId,
        /// The ecosystem-specific page or chapter.
        book_container: BookContainerId,
    },
    /// A course container's (period's) CLUE on a book container.
    Teacher {
        /// The course container.
        course_container: CourseContainerId,
        /// The ecosystem-specific page or chapter.
        book_container: BookContainerId,
    },
}

impl ClueTarget {
    /// The result table.
    pub fn kind(&self) -> ResultKind {
        match self {
            ClueTarget::Student { .. } => ResultKind::StudentClues,
            ClueTarget::Teacher { .. } => ResultKind::TeacherClues,
        }
    }

    /// The student or course-container uuid.
    pub fn owner_uuid(&self) -> Uuid {
        match self {
            ClueTarget::Student { student, .. } => *student.as_uuid(),
            ClueTarget::Teacher {
                course_container, ..
            } => *course_container.as_uuid(),
        }
    }

    /// The book container.
    pub fn book_container(&self) -> BookContainerId {
        match self {
            ClueTarget::Student { book_container, .. }
            | ClueTarget::Teacher { book_container, .. } => *book_container,
        }
    }

    /// Rebuilds a target from its storage parts; `None` for an exercise kind.
    pub fn from_parts(kind: ResultKind, owner: Uuid, book_container: Uuid) -> Option<Self> {
        let book_container = BookContainerId::from_uuid(book_container);
        match kind {
            ResultKind::StudentClues => Some(ClueTarget::Student {
                student: StudentId::from_uuid(owner),
                book_container,
            }),
            ResultKind::TeacherClues => Some(ClueTarget::Teacher {
                course_container: CourseContainerId::from_uuid(owner),
                book_container,
            }),
            _ => None,
        }
    }
}

impl fmt::Display for ClueTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClueTarget::Student {
                student,
                book_container,
            } => write!(
                f,
                "the CLUE of student {student} on book container {book_container}"
            ),
            ClueTarget::Teacher {
                course_container,
                book_container,
            } => write!(
                f,
                "the CLUE of course container {course_container} on book container {book_container}"
            ),
        }
    }
}

/// The key of one stored exercise-list result.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExerciseKey {
    /// What the result is for.
    pub target: ExerciseTarget,
    /// Which algorithm computed it.
    pub algorithm: AlgorithmName,
}

/// The key of one stored CLUE.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClueKey {
    /// What the CLUE is for.
    pub target: ClueTarget,
    /// Which algorithm computed it.
    pub algorithm: AlgorithmName,
}

/// Either key: names a stored row in errors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultKey {
    /// An exercise-list result.
    Exercise(ExerciseKey),
    /// A CLUE.
    Clue(ClueKey),
}

impl ResultKey {
    /// The result table.
    pub fn kind(&self) -> ResultKind {
        match self {
            ResultKey::Exercise(key) => key.target.kind(),
            ResultKey::Clue(key) => key.target.kind(),
        }
    }
}

impl fmt::Display for ResultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultKey::Exercise(key) => {
                write!(f, "{} under algorithm {}", key.target, key.algorithm)
            }
            ResultKey::Clue(key) => write!(f, "{} under algorithm {}", key.target, key.algorithm),
        }
    }
}

/// Free-form debugging information stored with a result (a JSON object,
/// `{}` by default), returned verbatim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SpyInfo(pub serde_json::Map<String, serde_json::Value>);

impl SpyInfo {
    /// The compact JSON text.
    pub fn to_json_text(&self) -> String {
        serde_json::Value::Object(self.0.clone()).to_string()
    }

    /// Parses JSON text that must be an object.
    pub fn from_json_text(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text).map(SpyInfo)
    }
}

/// A stored PE, SPE or practice-worst-areas result (api.md §5.7, §5.8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseResult {
    /// The calculation that produced it.
    pub calculation_uuid: CalculationId,
    /// The ecosystem matrix it was computed with.
    pub ecosystem_matrix_uuid: EcosystemMatrixId,
    /// Most to least recommended, as computed (duplicates are removed when
    /// served, not when stored).
    pub exercise_uuids: Vec<ExerciseId>,
    /// Debugging information.
    pub spy_info: SpyInfo,
}

/// A stored student or teacher CLUE (api.md §5.9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClueResult {
    /// The calculation that produced it.
    pub calculation_uuid: CalculationId,
    /// The matrix used, if any (`local_query` and external CLUEs have none).
    pub ecosystem_matrix_uuid: Option<EcosystemMatrixId>,
    /// The CLUE.
    pub clue_data: ClueData,
    /// Debugging information.
    pub spy_info: SpyInfo,
}

/// One change to the engine's own results: a put, or a delete (`None`,
/// e.g. a CLUE retired after an ecosystem change, S1 fix 4).
#[derive(Debug, Clone, PartialEq)]
pub enum ResultWrite {
    /// Stores or removes an exercise-list result.
    Exercise {
        /// Which result.
        key: ExerciseKey,
        /// The new result; `None` deletes it.
        result: Option<ExerciseResult>,
    },
    /// Stores or removes a CLUE.
    Clue {
        /// Which CLUE.
        key: ClueKey,
        /// The new CLUE; `None` deletes it.
        result: Option<ClueResult>,
    },
}

impl ResultWrite {
    /// The key written.
    pub fn key(&self) -> ResultKey {
        match self {
            ResultWrite::Exercise { key, .. } => ResultKey::Exercise(key.clone()),
            ResultWrite::Clue { key, .. } => ResultKey::Clue(key.clone()),
        }
    }
}

/// One item of an external algorithm's update_* call (api.md §5.8, §5.9):
/// upserted on its key, last write wins; `request_uuid` becomes the row's
/// uuid and must not be held by another row of the same [`ResultKind`].
#[derive(Debug, Clone, PartialEq)]
pub enum ExternalUpdate {
    /// update_assignment_pes / _spes / update_practice_worst_areas_exercises.
    Exercise {
        /// The item's request uuid.
        request_uuid: RequestId,
        /// Which result.
        key: ExerciseKey,
        /// The pushed result.
        result: ExerciseResult,
    },
    /// update_student_clues / update_teacher_clues.
    Clue {
        /// The item's request uuid.
        request_uuid: RequestId,
        /// Which CLUE.
        key: ClueKey,
        /// The pushed CLUE.
        result: ClueResult,
    },
}

impl ExternalUpdate {
    /// The key written.
    pub fn key(&self) -> ResultKey {
        match self {
            ExternalUpdate::Exercise { key, .. } => ResultKey::Exercise(key.clone()),
            ExternalUpdate::Clue { key, .. } => ResultKey::Clue(key.clone()),
        }
    }

    /// The item's request uuid.
    pub fn request_uuid(&self) -> RequestId {
        match self {
            ExternalUpdate::Exercise { request_uuid, .. }
            | ExternalUpdate::Clue { request_uuid, .. } => *request_uuid,
        }
    }

    /// The same change as a [`ResultWrite`] put.
    pub fn as_write(&self) -> ResultWrite {
        match self {
            ExternalUpdate::Exercise { key, result, .. } => ResultWrite::Exercise {
                key: key.clone(),
                result: Some(result.clone()),
            },
            ExternalUpdate::Clue { key, result, .. } => ResultWrite::Clue {
                key: key.clone(),
                result: Some(result.clone()),
            },
        }
    }
}

/// An opaque, versioned blob (a serialized projection state or a fitted
/// model): stored and returned bit for bit; the format version tells the
/// reader which shape the bytes have.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateBlob {
    /// The version of the serialized shape.
    pub format_version: u32,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A stored state and how far into its stream it reflects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The last sequence number applied to the state.
    pub through: SequenceNumber,
    /// The serialized state.
    pub blob: StateBlob,
}

/// The per-ecosystem fitted SPARFA matrix (F4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixSlot {
    /// The uuid results computed with this matrix carry.
    pub matrix_uuid: EcosystemMatrixId,
    /// Refit when the ecosystem's real-response count reaches this
    /// (floor(1.1·count)+1 at fit time, scheduler.md §1.6(c)).
    pub response_count_threshold: u64,
    /// The serialized model.
    pub model: StateBlob,
}

/// A problem found while applying a course event (kept visible, issue 4).
/// Plain strings, so the storage rows stay independent of the projection
/// types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedProblem {
    /// The event's sequence number.
    pub sequence_number: SequenceNumber,
    /// The event's type (wire name).
    pub event_type: String,
    /// The problem kind (snake_case name).
    pub kind: String,
    /// A message naming the offending ids.
    pub message: String,
}

/// The latest recorded problems of a course.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemLog {
    /// How many problems were ever recorded for the course.
    pub total: u64,
    /// The latest ones asked for, oldest first.
    pub latest: Vec<RecordedProblem>,
}

/// One processed course bundle, committed atomically by
/// [`super::EngineStore::commit_course_progress`].
#[derive(Debug, Clone, PartialEq)]
pub struct CourseCommit {
    /// The consumer whose watermark moves.
    pub consumer: ConsumerName,
    /// The course.
    pub course: CourseId,
    /// The last sequence number processed: the new watermark.
    pub through: SequenceNumber,
    /// The course state's head after the bundle.
    pub state: StateBlob,
    /// The parts of the state the bundle changed (stored or deleted).
    pub parts: Vec<crate::engine_store::PartWrite>,
    /// Result changes, applied in order; each key at most once.
    pub writes: Vec<ResultWrite>,
    /// Problems found while applying the bundle, appended to the log.
    pub problems: Vec<RecordedProblem>,
}

/// How a course commit is checked against the consumer's watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitKind {
    /// A bundle's progress: the watermark moves forward to the commit's
    /// `through` ([`crate::engine_store::EngineStore::commit_course_with`]).
    Progress,
    /// A recalculation without new events (a wake-up, a new matrix): the
    /// watermark must equal `through` and does not move
    /// ([`crate::engine_store::EngineStore::commit_course_recalc`]).
    Recalc,
}

/// One course commit of a group stored by
/// [`crate::engine_store::EngineStore::commit_courses`].
#[derive(Debug, Clone, Copy)]
pub struct GroupedCommit<'a> {
    /// How the commit is checked.
    pub kind: CommitKind,
    /// The course's state, results and problems.
    pub commit: &'a CourseCommit,
    /// What it stores besides them.
    pub extras: &'a crate::engine_store::CourseExtras,
}

impl GroupedCommit<'_> {
    /// Stores this commit alone, with the [`crate::engine_store::EngineStore`]
    /// method its kind calls for.
    pub fn store_alone<S: crate::engine_store::EngineStore + ?Sized>(
        &self,
        store: &S,
    ) -> Result<CommitOutcome, crate::engine_store::EngineStoreError> {
        match self.kind {
            CommitKind::Progress => store.commit_course_with(self.commit, self.extras),
            CommitKind::Recalc => store.commit_course_recalc(self.commit, self.extras),
        }
    }
}

/// What a monotonic save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Everything was stored.
    Committed,
    /// Nothing was stored: the store is already at `current`, at or past
    /// the commit (a redelivered bundle).
    Stale {
        /// The stored watermark (or snapshot position).
        current: SequenceNumber,
    },
}
