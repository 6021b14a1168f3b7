//! The engine's course state stored as parts that match how it changes.
//!
//! A course's state is split into a small head (the last applied sequence
//! number and the clock) and parts ([`PartKey`]):
//!
//! - **course**: dates, ecosystems, preparations and mappings, exclusions,
//!   problems, teacher-CLUE bookkeeping, the matrices used and the
//!   catch-up a new matrix still owes;
//! - **roster**: course containers and students (changes with update_roster);
//! - **one per assignment**: the assignment, the trials it issued and their
//!   latest answers (changes when the assignment is updated or answered);
//! - **one per student**: its CLUE bookkeeping and answers to trials no
//!   assignment has issued yet.
//!
//! A commit writes the head, the assignment and student parts the bundle
//! touched ([`crate::projection::Touched`]) and the course and roster parts
//! when their bytes changed, so the bytes written per response do not grow
//! with the course. Parts are encoded positionally (CBOR arrays, no field
//! names; datetimes as integer microseconds when that loses nothing), each
//! with a format version ([`PARTS_VERSION`]). A course stored by an earlier
//! version as one blob is read whole and split by its next commit.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::catch_up::MatrixCatchUp;
use super::EngineCourseState;
use crate::engine_store::{CourseSnapshot, PartKey, PartWrite, StateBlob, StatePart};
use crate::events::Datetime;
use crate::ids::{
    AssignmentId, BookContainerId, CalculationId, CourseContainerId, CourseId, EcosystemId,
    EcosystemMatrixId, ExerciseId, PreparationId, ResponseId, StudentId, TrialId,
};
use crate::log::SequenceNumber;
use crate::projection::{
    AssignmentState, BlobError, CourseContainerNode, ParkedEcosystemUpdate, Preparation, Problems,
    StudentEntry, TrialResponse, TrialState, STATE_VERSION,
};
use crate::scheduler::{AssignedExercise, BookContainerMapping, CourseExclusions};
use crate::time::Instant;

/// The format version of the head and of every part. Version 1 was the
/// whole state in one blob ([`EngineCourseState::encode`]).
pub const PARTS_VERSION: u32 = 2;

/// A datetime stored as integer microseconds when its text is the canonical
/// form of that instant (what Tutor sends), else as its text.
struct CompactDatetime<'a>(&'a Datetime);

impl Serialize for CompactDatetime<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let micros = self.0.unix_micros();
        match Datetime::from_unix_micros(micros) {
            Some(canonical) if canonical == *self.0 => serializer.serialize_i64(micros),
            _ => serializer.serialize_str(self.0.as_str()),
        }
    }
}

/// The owned counterpart of [`CompactDatetime`].
struct StoredDatetime(Datetime);

impl<'de> Deserialize<'de> for StoredDatetime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Datetime;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("unix microseconds or a datetime text")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Datetime, E> {
                Datetime::from_unix_micros(v)
                    .ok_or_else(|| E::custom(format!("{v} µs is out of the datetime range")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Datetime, E> {
                let v = i64::try_from(v).map_err(E::custom)?;
                self.visit_i64(v)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Datetime, E> {
                Datetime::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visit).map(StoredDatetime)
    }
}

fn dt(value: &Datetime) -> CompactDatetime<'_> {
    CompactDatetime(value)
}

fn opt_dt(value: &Option<Datetime>) -> Option<CompactDatetime<'_>> {
    value.as_ref().map(CompactDatetime)
}

/// Flags packed into one small integer.
fn flags(bits: &[bool]) -> u8 {
    bits.iter()
        .enumerate()
        .fold(0, |acc, (i, b)| acc | (u8::from(*b) << i))
}

fn flag(value: u8, bit: u8) -> bool {
    value & (1 << bit) != 0
}

/// A trial's latest answer: response, student, exercise, ecosystem,
/// flags (correct, real, counted), first and last answer (µs), sequence.
type ResponseRow = (
    ResponseId,
    StudentId,
    ExerciseId,
    EcosystemId,
    u8,
    i64,
    i64,
    u64,
);

fn response_row(r: &TrialResponse) -> ResponseRow {
    (
        r.response,
        r.student,
        r.exercise,
        r.ecosystem,
        flags(&[r.is_correct, r.is_real, r.counted_real]),
        r.first_responded_at.as_micros(),
        r.last_responded_at.as_micros(),
        r.sequence_number.get(),
    )
}

fn response_from(row: ResponseRow) -> Result<TrialResponse, BlobError> {
    let (response, student, exercise, ecosystem, bits, first, last, seq) = row;
    Ok(TrialResponse {
        response,
        student,
        exercise,
        ecosystem,
        is_correct: flag(bits, 0),
        is_real: flag(bits, 1),
        counted_real: flag(bits, 2),
        first_responded_at: Instant::from_micros(first),
        last_responded_at: Instant::from_micros(last),
        sequence_number: sequence(seq)?,
    })
}

fn sequence(value: u64) -> Result<SequenceNumber, BlobError> {
    SequenceNumber::new(value).map_err(|e| BlobError::Binary(e.to_string()))
}

/// An assignment's part, written.
#[derive(Serialize)]
struct AssignmentPartOut<'a>(
    StudentId,
    EcosystemId,
    &'a str,
    CompactDatetime<'a>,
    CompactDatetime<'a>,
    [Option<CompactDatetime<'a>>; 4],
    &'a [BookContainerId],
    Vec<(TrialId, ExerciseId, u8)>,
    (Option<u32>, Option<u32>),
    u8,
    (Option<CalculationId>, Option<CalculationId>),
    u64,
    Vec<(TrialId, ExerciseId, u8)>,
    Vec<(TrialId, ResponseRow)>,
);

/// An assignment's part, read: the fields of [`AssignmentPartOut`].
#[derive(Deserialize)]
struct AssignmentPartIn(
    StudentId,
    EcosystemId,
    String,
    StoredDatetime,
    StoredDatetime,
    [Option<StoredDatetime>; 4],
    Vec<BookContainerId>,
    Vec<(TrialId, ExerciseId, u8)>,
    (Option<u32>, Option<u32>),
    u8,
    (Option<CalculationId>, Option<CalculationId>),
    u64,
    Vec<(TrialId, ExerciseId, u8)>,
    Vec<(TrialId, ResponseRow)>,
);

/// A student's part: the book containers it has CLUE rows for, and its
/// answers to trials no assignment issued (yet).
type StudentPart = (BTreeSet<BookContainerId>, Vec<(TrialId, ResponseRow)>);

/// The course part: everything course-wide that changes rarely.
#[derive(Serialize, Deserialize)]
struct CoursePart {
    created: bool,
    initial_ecosystem: Option<EcosystemId>,
    current_ecosystem: Option<EcosystemId>,
    is_real_course: bool,
    created_at: Option<Datetime>,
    starts_at: Option<Datetime>,
    ends_at: Option<Datetime>,
    preparations: BTreeMap<PreparationId, Preparation>,
    mappings: Vec<BookContainerMapping>,
    parked: Option<ParkedEcosystemUpdate>,
    exclusions: CourseExclusions,
    problems: Problems,
    teacher_clues: BTreeMap<CourseContainerId, BTreeSet<BookContainerId>>,
    matrices: BTreeMap<EcosystemId, Option<EcosystemMatrixId>>,
    /// Absent in parts written before catch-ups existed.
    #[serde(default)]
    matrix_catch_up: Option<MatrixCatchUp>,
}

/// The roster part.
#[derive(Serialize, Deserialize)]
struct RosterPart {
    containers: BTreeMap<CourseContainerId, CourseContainerNode>,
    students: BTreeMap<StudentId, StudentEntry>,
}

/// The head: the last applied sequence number and the clock (µs).
type Head = (Option<u64>, Option<i64>);

const MAGIC: &[u8; 4] = b"\xB1BLP";

fn encode<T: Serialize>(value: &T) -> Result<StateBlob, BlobError> {
    let mut bytes = Vec::with_capacity(256);
    bytes.extend_from_slice(MAGIC);
    ciborium::ser::into_writer(value, &mut bytes).map_err(|e| BlobError::Binary(e.to_string()))?;
    Ok(StateBlob {
        format_version: PARTS_VERSION,
        bytes,
    })
}

fn decode<T: serde::de::DeserializeOwned>(blob: &StateBlob) -> Result<T, BlobError> {
    if blob.format_version != PARTS_VERSION {
        return Err(BlobError::UnsupportedVersion {
            found: blob.format_version,
            supported: PARTS_VERSION,
        });
    }
    let body = blob
        .bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| BlobError::Binary("a state part without its magic bytes".into()))?;
    ciborium::de::from_reader(body).map_err(|e| BlobError::Binary(e.to_string()))
}

fn exercise_rows(exercises: &[AssignedExercise]) -> Vec<(TrialId, ExerciseId, u8)> {
    exercises
        .iter()
        .map(|e| (e.trial, e.exercise, flags(&[e.is_pe, e.is_spe])))
        .collect()
}

impl EngineCourseState {
    /// The head blob: last applied sequence number and clock.
    pub fn encode_head(&self) -> Result<StateBlob, BlobError> {
        let head: Head = (
            self.course.last_sequence_number.map(|s| s.get()),
            self.clock.map(|c| c.as_micros()),
        );
        encode(&head)
    }

    /// The encoded part `key` of this state; `None` when the part is empty
    /// (a student with no CLUE rows and no unissued answers; an unknown
    /// assignment), so the stored part is deleted.
    pub fn encode_part(&self, key: PartKey) -> Result<Option<StateBlob>, BlobError> {
        let course = &self.course;
        match key {
            PartKey::Course => encode(&CoursePart {
                created: course.created,
                initial_ecosystem: course.initial_ecosystem,
                current_ecosystem: course.current_ecosystem,
                is_real_course: course.is_real_course,
                created_at: course.created_at.clone(),
                starts_at: course.starts_at.clone(),
                ends_at: course.ends_at.clone(),
                preparations: course.preparations.clone(),
                mappings: course.mappings.clone(),
                parked: course.parked.clone(),
                exclusions: course.exclusions.clone(),
                problems: course.problems.clone(),
                teacher_clues: self.teacher_clues.clone(),
                matrices: self.matrices.clone(),
                matrix_catch_up: self.matrix_catch_up,
            })
            .map(Some),
            PartKey::Roster => encode(&RosterPart {
                containers: course.containers.clone(),
                students: course.students.clone(),
            })
            .map(Some),
            PartKey::Student(student) => {
                let clues = self
                    .student_clues
                    .get(&student)
                    .cloned()
                    .unwrap_or_default();
                let loose: Vec<(TrialId, ResponseRow)> = course
                    .answered_trials(student)
                    .into_iter()
                    .filter(|trial| !course.trials.contains_key(trial))
                    .filter_map(|trial| {
                        course
                            .responses
                            .get(&trial)
                            .map(|r| (trial, response_row(r)))
                    })
                    .collect();
                if clues.is_empty() && loose.is_empty() {
                    return Ok(None);
                }
                let part: StudentPart = (clues, loose);
                encode(&part).map(Some)
            }
            PartKey::Assignment(id) => {
                let Some(a) = course.assignments.get(&id) else {
                    return Ok(None);
                };
                let trials: Vec<(TrialId, ExerciseId, u8)> = self
                    .trials_of(id)
                    .map(|(trial, t)| (trial, t.exercise, flags(&[t.is_pe, t.is_spe])))
                    .collect();
                let responses = trials
                    .iter()
                    .filter_map(|(trial, _, _)| {
                        course
                            .responses
                            .get(trial)
                            .map(|r| (*trial, response_row(r)))
                    })
                    .collect();
                encode(&AssignmentPartOut(
                    a.student,
                    a.ecosystem,
                    &a.assignment_type,
                    dt(&a.created_at),
                    dt(&a.updated_at),
                    [
                        opt_dt(&a.opens_at),
                        opt_dt(&a.due_at),
                        opt_dt(&a.feedback_at),
                        opt_dt(&a.closes_at),
                    ],
                    &a.book_containers,
                    exercise_rows(&a.exercises),
                    (a.goal_num_pes, a.goal_num_spes),
                    flags(&[a.pes_are_assigned, a.spes_are_assigned, a.is_deleted]),
                    (a.pes_calculation, a.spes_calculation),
                    a.sequence_number.get(),
                    trials,
                    responses,
                ))
                .map(Some)
            }
        }
    }

    /// The trials `assignment` issued, in trial order.
    fn trials_of(&self, assignment: AssignmentId) -> impl Iterator<Item = (TrialId, &TrialState)> {
        let course = &self.course;
        course
            .issued_trials(assignment)
            .into_iter()
            .filter_map(move |trial| course.trials.get(&trial).map(|t| (trial, t)))
    }

    /// The writes that store this state's touched parts, plus the course
    /// and roster parts whose bytes differ from `stored` (the bytes last
    /// written of each); updates `stored`.
    pub fn part_writes(&self, stored: &mut StoredParts) -> Result<Vec<PartWrite>, BlobError> {
        let touched = &self.course.touched;
        let mut writes = Vec::new();
        for (key, last) in [
            (PartKey::Course, &mut stored.course),
            (PartKey::Roster, &mut stored.roster),
        ] {
            if let Some(blob) = self.encode_part(key)? {
                if last.as_deref() != Some(blob.bytes.as_slice()) {
                    *last = Some(blob.bytes.clone());
                    writes.push(PartWrite {
                        key,
                        blob: Some(blob),
                    });
                }
            }
        }
        for id in &touched.assignments {
            let key = PartKey::Assignment(*id);
            writes.push(PartWrite {
                key,
                blob: self.encode_part(key)?,
            });
        }
        for id in &touched.students {
            let key = PartKey::Student(*id);
            writes.push(PartWrite {
                key,
                blob: self.encode_part(key)?,
            });
        }
        Ok(writes)
    }

    /// Every part of this state (a full write, e.g. when an earlier
    /// version's single blob is split).
    pub fn all_part_keys(&self) -> Vec<PartKey> {
        let course = &self.course;
        let mut students: BTreeSet<StudentId> = self.student_clues.keys().copied().collect();
        students.extend(
            course
                .responses
                .iter()
                .filter(|(trial, _)| !course.trials.contains_key(trial))
                .map(|(_, r)| r.student),
        );
        let mut keys = vec![PartKey::Course, PartKey::Roster];
        keys.extend(course.assignments.keys().map(|a| PartKey::Assignment(*a)));
        keys.extend(students.into_iter().map(PartKey::Student));
        keys
    }

    /// Reads a stored course: a head and parts in this version's format, or
    /// a single blob of an earlier version (then every part is marked
    /// touched, so the next commit splits it). Derived indexes are rebuilt.
    pub fn from_snapshot(course: CourseId, snapshot: &CourseSnapshot) -> Result<Self, BlobError> {
        if snapshot.head.format_version == STATE_VERSION {
            let mut state = EngineCourseState::decode(&snapshot.head.bytes)?;
            state.course.reindex();
            for key in state.all_part_keys() {
                match key {
                    PartKey::Assignment(a) => state.course.touched.assignments.insert(a),
                    PartKey::Student(s) => state.course.touched.students.insert(s),
                    PartKey::Course | PartKey::Roster => false,
                };
            }
            return Ok(state);
        }
        let (last, clock): Head = decode(&snapshot.head)?;
        let mut state = EngineCourseState::new(course);
        state.course.last_sequence_number = last.map(sequence).transpose()?;
        state.clock = clock.map(Instant::from_micros);
        for part in &snapshot.parts {
            state.read_part(part)?;
        }
        state.course.reindex();
        Ok(state)
    }

    fn read_part(&mut self, part: &StatePart) -> Result<(), BlobError> {
        let course = &mut self.course;
        match part.key {
            PartKey::Course => {
                let p: CoursePart = decode(&part.blob)?;
                course.created = p.created;
                course.initial_ecosystem = p.initial_ecosystem;
                course.current_ecosystem = p.current_ecosystem;
                course.is_real_course = p.is_real_course;
                course.created_at = p.created_at;
                course.starts_at = p.starts_at;
                course.ends_at = p.ends_at;
                course.preparations = p.preparations;
                course.mappings = p.mappings;
                course.parked = p.parked;
                course.exclusions = p.exclusions;
                course.problems = p.problems;
                self.teacher_clues = p.teacher_clues;
                self.matrices = p.matrices;
                self.matrix_catch_up = p.matrix_catch_up;
            }
            PartKey::Roster => {
                let p: RosterPart = decode(&part.blob)?;
                course.containers = p.containers;
                course.students = p.students;
            }
            PartKey::Student(student) => {
                let (clues, loose): StudentPart = decode(&part.blob)?;
                if !clues.is_empty() {
                    self.student_clues.insert(student, clues);
                }
                for (trial, row) in loose {
                    course.responses.insert(trial, response_from(row)?);
                }
            }
            PartKey::Assignment(id) => {
                let p: AssignmentPartIn = decode(&part.blob)?;
                let [opens_at, due_at, feedback_at, closes_at] = p.5;
                let exercises =
                    p.7.into_iter()
                        .map(|(trial, exercise, bits)| AssignedExercise {
                            trial,
                            exercise,
                            is_pe: flag(bits, 0),
                            is_spe: flag(bits, 1),
                        })
                        .collect();
                let state = AssignmentState {
                    student: p.0,
                    ecosystem: p.1,
                    assignment_type: p.2,
                    created_at: p.3 .0,
                    updated_at: p.4 .0,
                    opens_at: opens_at.map(|d| d.0),
                    due_at: due_at.map(|d| d.0),
                    feedback_at: feedback_at.map(|d| d.0),
                    closes_at: closes_at.map(|d| d.0),
                    book_containers: p.6,
                    exercises,
                    goal_num_pes: p.8 .0,
                    goal_num_spes: p.8 .1,
                    pes_are_assigned: flag(p.9, 0),
                    spes_are_assigned: flag(p.9, 1),
                    is_deleted: flag(p.9, 2),
                    pes_calculation: p.10 .0,
                    spes_calculation: p.10 .1,
                    sequence_number: sequence(p.11)?,
                };
                course
                    .assignments_by_student
                    .entry(state.student)
                    .or_default()
                    .insert(id);
                course.assignments.insert(id, state);
                for (trial, exercise, bits) in p.12 {
                    course.trials.insert(
                        trial,
                        TrialState {
                            assignment: id,
                            exercise,
                            is_pe: flag(bits, 0),
                            is_spe: flag(bits, 1),
                        },
                    );
                }
                for (trial, row) in p.13 {
                    course.responses.insert(trial, response_from(row)?);
                }
            }
        }
        Ok(())
    }
}

/// The bytes of the course and roster parts as last stored, so a commit
/// rewrites them only when they changed (most bundles change neither).
#[derive(Debug, Clone, Default)]
pub struct StoredParts {
    course: Option<Vec<u8>>,
    roster: Option<Vec<u8>>,
}

impl StoredParts {
    /// Their size in bytes (for the cache's budget).
    pub fn bytes(&self) -> usize {
        self.course.as_ref().map_or(0, Vec::len) + self.roster.as_ref().map_or(0, Vec::len)
    }
}
