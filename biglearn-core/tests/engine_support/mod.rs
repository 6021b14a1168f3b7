//! Shared fixtures of the engine scenario tests (scheduler.md §5 and the S1
//! fixes, run through [`Engine`] on the in-memory store): appending events,
//! running the engine, and reading back states, results and problems.
//!
//! Events come from `projection_support` (wire bodies through the real
//! parsers); each test file declares both modules.
#![allow(dead_code)]

use biglearn_core::engine::{Engine, EngineCourseState, StepReport};
use biglearn_core::engine_store::{
    AlgorithmName, ClueKey, ClueResult, ClueTarget, EngineStore, ExerciseKey, ExerciseResult,
    ExerciseTarget, RecordedProblem,
};
use biglearn_core::events::{parse_create_update_assignments, WireEvent};
use biglearn_core::ids::{CalculationId, CourseId};
use biglearn_core::log::{AppendRequest, BundleLimits, ConsumerName, Event, EventLog};
use biglearn_core::memory::MemoryStore;
use biglearn_core::projection::{decode_state, EcosystemState};
use biglearn_core::time::Instant;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::projection_support::*;

/// The built-in names PEs, worst areas and CLUEs are stored under.
pub const ALGORITHMS: [&str; 2] = ["local_query", "biglearn_sparfa"];
/// The built-in names SPEs are stored under.
pub const SPE_ALGORITHMS: [&str; 4] = [
    "instructor_driven_local_query",
    "student_driven_local_query",
    "instructor_driven_biglearn_sparfa",
    "student_driven_biglearn_sparfa",
];

/// The consumer every scenario runs as.
pub fn consumer() -> ConsumerName {
    ConsumerName::new("scheduler").expect("valid consumer name")
}

/// An algorithm name.
pub fn name(n: &str) -> AlgorithmName {
    AlgorithmName::new(n).expect("valid algorithm name")
}

/// Appends each event in its own call, as Tutor's clients do.
pub fn append_all(store: &impl EventLog, events: &[Event]) {
    for event in events {
        store
            .append(&AppendRequest {
                events: vec![event.clone()],
            })
            .expect("append accepted");
    }
}

/// A store holding eco(1) (and eco(2) when `both`) and `events`.
pub fn store_with(both: bool, events: &[Event]) -> MemoryStore {
    let store = MemoryStore::new();
    append_all(&store, &[standard_ecosystem(0)]);
    if both {
        append_all(&store, &[standard_ecosystem(10)]);
    }
    append_all(&store, events);
    store
}

/// A fresh engine (a restart) run until idle at `now`.
pub fn run_at(store: &impl EngineStore, now: Instant) -> StepReport {
    engine()
        .run_until_idle(store, now, 100)
        .expect("engine step succeeds")
}

/// [`run_at`] at day 30 (after every fixture due date).
pub fn run(store: &impl EngineStore) -> StepReport {
    run_at(store, day(30))
}

/// A new engine with default bundle limits.
pub fn engine() -> Engine {
    Engine::new(consumer(), BundleLimits::default())
}

/// The course state the engine committed for `course`.
pub fn state_of(store: &impl EngineStore, course: CourseId) -> Option<EngineCourseState> {
    store
        .course_state(&consumer(), course)
        .expect("course state readable")
        .map(|s| EngineCourseState::from_snapshot(course, &s).expect("course state decodes"))
}

/// The committed state of the fixture course (it must exist).
pub fn course_state(store: &impl EngineStore) -> EngineCourseState {
    state_of(store, course_id()).expect("the course was committed")
}

/// The stored state of ecosystem `e` (it must exist).
pub fn ecosystem_state(store: &impl EngineStore, e: u128) -> EcosystemState {
    let snapshot = store
        .ecosystem_state(eco(e))
        .expect("ecosystem state readable")
        .expect("ecosystem saved");
    decode_state(&snapshot.blob.bytes).expect("ecosystem state decodes")
}

/// Every recorded problem of the fixture course.
pub fn problems(store: &impl EngineStore) -> Vec<RecordedProblem> {
    store
        .course_problems(course_id(), 1000)
        .expect("problems readable")
        .latest
}

/// The problem kinds recorded for the fixture course, in order.
pub fn problem_kinds(store: &impl EngineStore) -> Vec<String> {
    problems(store).into_iter().map(|p| p.kind).collect()
}

pub fn pes_key(a: u128, alg: &str) -> ExerciseKey {
    ExerciseKey {
        target: ExerciseTarget::AssignmentPes(asg(a)),
        algorithm: name(alg),
    }
}

pub fn spes_key(a: u128, alg: &str) -> ExerciseKey {
    ExerciseKey {
        target: ExerciseTarget::AssignmentSpes(asg(a)),
        algorithm: name(alg),
    }
}

pub fn worst_key(s: u128, alg: &str) -> ExerciseKey {
    ExerciseKey {
        target: ExerciseTarget::PracticeWorstAreas(student(s)),
        algorithm: name(alg),
    }
}

pub fn student_clue_key(s: u128, b: u128, alg: &str) -> ClueKey {
    ClueKey {
        target: ClueTarget::Student {
            student: student(s),
            book_container: bc(b),
        },
        algorithm: name(alg),
    }
}

pub fn teacher_clue_key(c: u128, b: u128, alg: &str) -> ClueKey {
    ClueKey {
        target: ClueTarget::Teacher {
            course_container: cc(c),
            book_container: bc(b),
        },
        algorithm: name(alg),
    }
}

pub fn exercises(store: &impl EngineStore, key: &ExerciseKey) -> Option<ExerciseResult> {
    store.exercise_result(key).expect("results readable")
}

pub fn clue(store: &impl EngineStore, key: &ClueKey) -> Option<ClueResult> {
    store.clue_result(key).expect("CLUEs readable")
}

/// The stored PEs of assignment `a` under `alg`.
pub fn pes(store: &impl EngineStore, a: u128, alg: &str) -> Option<ExerciseResult> {
    exercises(store, &pes_key(a, alg))
}

/// The stored SPEs of assignment `a` under `alg` (an SPE name).
pub fn spes(store: &impl EngineStore, a: u128, alg: &str) -> Option<ExerciseResult> {
    exercises(store, &spes_key(a, alg))
}

/// The stored worst-area exercises of student `s` under `alg`.
pub fn worst(store: &impl EngineStore, s: u128, alg: &str) -> Option<ExerciseResult> {
    exercises(store, &worst_key(s, alg))
}

/// The stored CLUE of student `s` on bc(`b`) under `alg`.
pub fn student_clue(store: &impl EngineStore, s: u128, b: u128, alg: &str) -> Option<ClueResult> {
    clue(store, &student_clue_key(s, b, alg))
}

/// The stored CLUE of course container `c` on bc(`b`) under `alg`.
pub fn teacher_clue(store: &impl EngineStore, c: u128, b: u128, alg: &str) -> Option<ClueResult> {
    clue(store, &teacher_clue_key(c, b, alg))
}

/// Every result the fixture ids can have (assignments, students, course
/// containers, book containers), read back in a fixed key order.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub exercises: Vec<(ExerciseKey, Option<ExerciseResult>)>,
    pub clues: Vec<(ClueKey, Option<ClueResult>)>,
}

impl Results {
    /// How many rows exist.
    pub fn count(&self) -> usize {
        self.exercises.iter().filter(|(_, r)| r.is_some()).count()
            + self.clues.iter().filter(|(_, r)| r.is_some()).count()
    }

    /// The calculation uuids of every existing row, in key order.
    pub fn calculations(&self) -> Vec<Option<CalculationId>> {
        self.exercises
            .iter()
            .map(|(_, r)| r.as_ref().map(|r| r.calculation_uuid))
            .chain(
                self.clues
                    .iter()
                    .map(|(_, r)| r.as_ref().map(|r| r.calculation_uuid)),
            )
            .collect()
    }
}

/// Reads every result of the fixture ids: assignments 1..=6, students
/// 1..=5, containers 1..=3 and book containers bc(0..=2), bc(10..=12).
pub fn results(store: &impl EngineStore) -> Results {
    let mut keys = Vec::new();
    for a in 1..=6 {
        for n in ALGORITHMS {
            keys.push(pes_key(a, n));
        }
        for n in SPE_ALGORITHMS {
            keys.push(spes_key(a, n));
        }
    }
    for s in 1..=5 {
        for n in ALGORITHMS {
            keys.push(worst_key(s, n));
        }
    }
    let mut clue_keys = Vec::new();
    for b in [0, 1, 2, 10, 11, 12] {
        for n in ALGORITHMS {
            for s in 1..=5 {
                clue_keys.push(student_clue_key(s, b, n));
            }
            for c in 1..=3 {
                clue_keys.push(teacher_clue_key(c, b, n));
            }
        }
    }
    let exercises = store.exercise_results(&keys).expect("results readable");
    let clues = store.clue_results(&clue_keys).expect("CLUEs readable");
    Results {
        exercises: keys.into_iter().zip(exercises).collect(),
        clues: clue_keys.into_iter().zip(clues).collect(),
    }
}

/// A second course, `CourseId` n, on eco(`e`) (the fixture builders are
/// bound to `course_id()`).
pub fn other_course(n: u128) -> CourseId {
    CourseId::from_uuid(Uuid::from_u128(0xa100_0000 + n))
}

/// create_course of [`other_course`] `n` on eco(`e`).
pub fn create_other_course(n: u128, e: u128) -> Event {
    let body = json!({"course_uuid": other_course(n).to_string(),
        "ecosystem_uuid": eco(e).to_string(), "is_real_course": true,
        "starts_at": date(0), "ends_at": date(120), "created_at": date(0)});
    biglearn_core::events::parse_create_course(&body)
        .expect("valid create_course")
        .event
        .to_event()
}

/// `a` as a create_update_assignment carrying `pes` / `spes` calculation
/// references (which precomputed calculation Tutor used), which the `Asg`
/// builder does not send. Request uuids live in their own range.
pub fn assignment_with_calculations(
    a: &Asg,
    seq: u64,
    pes_calculation: Option<Uuid>,
    spes_calculation: Option<Uuid>,
) -> Event {
    let mut info = serde_json::Map::new();
    for (key, value) in [
        ("opens_at", a.opens),
        ("due_at", a.due),
        ("feedback_at", a.feedback),
    ] {
        if let Some(d) = value {
            info.insert(key.into(), json!(date(d)));
        }
    }
    let trials: Vec<Value> = a
        .trials
        .iter()
        .map(|(t, e, pe, spe)| {
            json!({"trial_uuid": trial(*t).to_string(), "exercise_uuid": ex(*e).to_string(),
                "is_pe": pe, "is_spe": spe})
        })
        .collect();
    let mut item = json!({
        "request_uuid": Uuid::from_u128(0xd200_0000 + u128::from(seq)).to_string(),
        "course_uuid": course_id().to_string(), "sequence_number": seq,
        "assignment_uuid": asg(a.id).to_string(), "is_deleted": a.deleted,
        "ecosystem_uuid": eco(a.eco).to_string(), "student_uuid": student(a.student).to_string(),
        "assignment_type": a.kind, "exclusion_info": info,
        "assigned_book_container_uuids":
            a.bcs.iter().map(|b| bc(*b).to_string()).collect::<Vec<_>>(),
        "goal_num_tutor_assigned_spes": a.goal_spes, "spes_are_assigned": a.spes_assigned,
        "goal_num_tutor_assigned_pes": a.goal_pes, "pes_are_assigned": a.pes_assigned,
        "assigned_exercises": trials, "created_at": date(0), "updated_at": date(0)});
    if let Some(c) = pes_calculation {
        item["pes"] = json!({"calculation_uuid": c.to_string()});
    }
    if let Some(c) = spes_calculation {
        item["spes"] = json!({"calculation_uuid": c.to_string()});
    }
    parse_create_update_assignments(&json!({ "assignments": [item] })).expect("valid assignment")[0]
        .event
        .to_event()
}
