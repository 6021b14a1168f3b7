//! Shared fixtures of the projection tests: wire-format events built from
//! JSON through the real request parsers, and two small ecosystems.
#![allow(dead_code)]

use std::collections::BTreeMap;

use biglearn_core::events::{
    parse_create_course, parse_create_ecosystem, parse_create_update_assignments,
    parse_prepare_course_ecosystem, parse_record_responses, parse_update_course_active_dates,
    parse_update_course_ecosystems, parse_update_course_excluded_exercises,
    parse_update_globally_excluded_exercises, parse_update_rosters, Datetime, WireEvent,
};
use biglearn_core::ids::{
    AssignmentId, BookContainerId, CourseContainerId, CourseId, EcosystemId, ExerciseGroupId,
    ExerciseId, PreparationId, ResponseId, StudentId, TrialId,
};
use biglearn_core::log::Event;
use biglearn_core::projection::{CourseState, EcosystemState};
use biglearn_core::time::Instant;
use serde_json::{json, Value};
use uuid::Uuid;

/// Each kind of id lives in its own numeric range.
fn id(base: u128, n: u128) -> Uuid {
    Uuid::from_u128(base + n)
}
pub fn ex(n: u128) -> ExerciseId {
    ExerciseId::from_uuid(id(0x1000_0000, n))
}
pub fn grp(n: u128) -> ExerciseGroupId {
    ExerciseGroupId::from_uuid(id(0x2000_0000, n))
}
pub fn bc(n: u128) -> BookContainerId {
    BookContainerId::from_uuid(id(0x3000_0000, n))
}
pub fn eco(n: u128) -> EcosystemId {
    EcosystemId::from_uuid(id(0x4000_0000, n))
}
pub fn asg(n: u128) -> AssignmentId {
    AssignmentId::from_uuid(id(0x5000_0000, n))
}
pub fn trial(n: u128) -> TrialId {
    TrialId::from_uuid(id(0x6000_0000, n))
}
pub fn student(n: u128) -> StudentId {
    StudentId::from_uuid(id(0x7000_0000, n))
}
pub fn cc(n: u128) -> CourseContainerId {
    CourseContainerId::from_uuid(id(0x8000_0000, n))
}
pub fn course_id() -> CourseId {
    CourseId::from_uuid(id(0xa000_0000, 1))
}
pub fn prep(n: u128) -> PreparationId {
    PreparationId::from_uuid(id(0xb000_0000, n))
}
pub fn resp(n: u128) -> ResponseId {
    ResponseId::from_uuid(id(0xc000_0000, n))
}
fn request(seq: u64) -> String {
    id(0xd000_0000, u128::from(seq)).to_string()
}

/// Day `d` after 2017-01-01 as a wire datetime string.
pub fn date(d: i64) -> String {
    let micros = (1_483_228_800 + d * 86_400) * 1_000_000;
    Datetime::from_unix_micros(micros)
        .expect("in range")
        .as_str()
        .to_owned()
}
/// Day `d` after 2017-01-01 as an instant.
pub fn day(d: i64) -> Instant {
    Instant::from_micros((1_483_228_800 + d * 86_400) * 1_000_000)
}

fn pool(clue: bool, types: &[&str], exercises: &[u128]) -> Value {
    json!({
        "use_for_clue": clue,
        "use_for_personalized_for_assignment_types": types,
        "exercise_uuids": exercises.iter().map(|n| ex(*n).to_string()).collect::<Vec<_>>(),
    })
}

fn container(n: u128, parent: Uuid, pools: Vec<Value>) -> Value {
    json!({"container_uuid": bc(n).to_string(), "container_parent_uuid": parent.to_string(), "pools": pools})
}

fn exercise(n: u128, group: u128, version: u64) -> Value {
    json!({"exercise_uuid": ex(n).to_string(), "group_uuid": grp(group).to_string(),
           "version": version, "los": ["lo"]})
}

/// create_ecosystem from explicit contents and exercises.
pub fn create_ecosystem_json(e: u128, contents: Vec<Value>, exercises: Vec<Value>) -> Event {
    let body = json!({
        "ecosystem_uuid": eco(e).to_string(),
        "book": {"cnx_identity": format!("{}@1.1", id(0xe000_0000, e)), "contents": contents},
        "exercises": exercises,
        "imported_at": date(0),
    });
    parse_create_ecosystem(&body)
        .expect("valid ecosystem")
        .event
        .to_event()
}

/// Ecosystem `base`: chapter bc(base) with pages bc(base+1) (exercises
/// base+1..=base+3) and bc(base+2) (exercises base+4..=base+6); groups 1..=6
/// shared by both fixture ecosystems (versions 1 and 2).
pub fn standard_ecosystem(base: u128) -> Event {
    let e = base / 10 + 1;
    let root = *eco(e).as_uuid();
    let chapter = *bc(base).as_uuid();
    let ids = |from: u128| [base + from, base + from + 1, base + from + 2];
    let contents = vec![
        container(
            base,
            root,
            vec![pool(
                true,
                &[],
                &[base + 1, base + 2, base + 3, base + 4, base + 5, base + 6],
            )],
        ),
        container(
            base + 1,
            chapter,
            vec![pool(true, &[], &ids(1)), pool(false, &["reading"], &ids(1))],
        ),
        container(
            base + 2,
            chapter,
            vec![
                pool(true, &[], &ids(4)),
                pool(false, &["homework"], &ids(4)),
            ],
        ),
    ];
    let exercises = (1..=6)
        .map(|k| exercise(base + k, k, (base / 10 + 1) as u64))
        .collect();
    create_ecosystem_json(e, contents, exercises)
}

/// eco(1) (containers bc(0..=2), exercises ex(1..=6)) and eco(2)
/// (containers bc(10..=12), exercises ex(11..=16)).
pub fn catalog() -> BTreeMap<EcosystemId, EcosystemState> {
    let mut catalog = BTreeMap::new();
    for base in [0, 10] {
        let event = standard_ecosystem(base);
        let e = eco(base / 10 + 1);
        let mut state = EcosystemState::new(e);
        state.apply(&event);
        catalog.insert(e, state);
    }
    catalog
}

pub fn create_course(e: u128) -> Event {
    let body = json!({"course_uuid": course_id().to_string(), "ecosystem_uuid": eco(e).to_string(),
        "is_real_course": true, "starts_at": date(0), "ends_at": date(120), "created_at": date(0)});
    parse_create_course(&body).expect("valid").event.to_event()
}

/// A roster: containers (id, parent container or the course) and students (id, container).
pub fn roster(seq: u64, containers: &[(u128, Option<u128>)], students: &[(u128, u128)]) -> Event {
    let course = course_id().to_string();
    let containers: Vec<Value> = containers
        .iter()
        .map(|(c, parent)| {
            json!({"container_uuid": cc(*c).to_string(),
            "parent_container_uuid": parent.map_or(course.clone(), |p| cc(p).to_string()),
            "created_at": date(0)})
        })
        .collect();
    let students: Vec<Value> = students
        .iter()
        .map(|(s, c)| {
            json!({"student_uuid": student(*s).to_string(), "container_uuid": cc(*c).to_string(),
            "enrolled_at": date(0), "last_course_container_change_at": date(0)})
        })
        .collect();
    let body = json!({"rosters": [{"request_uuid": request(seq), "course_uuid": course,
        "sequence_number": seq, "course_containers": containers, "students": students}]});
    parse_update_rosters(&body).expect("valid")[0]
        .event
        .to_event()
}

pub fn prepare(seq: u64, p: u128, from: u128, to: u128, mappings: &[(u128, u128)]) -> Event {
    let maps: Vec<Value> = mappings
        .iter()
        .map(|(f, t)| json!({"from_book_container_uuid": bc(*f).to_string(), "to_book_container_uuid": bc(*t).to_string()}))
        .collect();
    let body = json!({"preparation_uuid": prep(p).to_string(), "course_uuid": course_id().to_string(),
        "sequence_number": seq, "next_ecosystem_uuid": eco(to).to_string(),
        "ecosystem_map": {"from_ecosystem_uuid": eco(from).to_string(), "to_ecosystem_uuid": eco(to).to_string(),
            "book_container_mappings": maps, "exercise_mappings": []},
        "prepared_at": date(1)});
    parse_prepare_course_ecosystem(&body)
        .expect("valid")
        .event
        .to_event()
}

pub fn update_ecosystem(seq: u64, p: u128) -> Event {
    let body = json!({"update_requests": [{"request_uuid": request(seq), "course_uuid": course_id().to_string(),
        "sequence_number": seq, "preparation_uuid": prep(p).to_string(), "updated_at": date(2)}]});
    parse_update_course_ecosystems(&body).expect("valid")[0]
        .event
        .to_event()
}

pub fn active_dates(seq: u64, starts: i64, ends: i64) -> Event {
    let body = json!({"request_uuid": request(seq), "course_uuid": course_id().to_string(),
        "sequence_number": seq, "starts_at": date(starts), "ends_at": date(ends), "updated_at": date(3)});
    parse_update_course_active_dates(&body)
        .expect("valid")
        .event
        .to_event()
}

/// Exclusions: exercise ids and group ids; `global` picks the scope.
pub fn exclusions(seq: u64, global: bool, exercises: &[u128], groups: &[u128]) -> Event {
    let mut items: Vec<Value> = exercises
        .iter()
        .map(|e| json!({"exercise_uuid": ex(*e).to_string()}))
        .collect();
    items.extend(
        groups
            .iter()
            .map(|g| json!({"exercise_group_uuid": grp(*g).to_string()})),
    );
    let body = json!({"request_uuid": request(seq), "course_uuid": course_id().to_string(),
        "sequence_number": seq, "exclusions": items, "updated_at": date(3)});
    let parsed = if global {
        parse_update_globally_excluded_exercises(&body)
    } else {
        parse_update_course_excluded_exercises(&body)
    };
    parsed.expect("valid").event.to_event()
}

/// An assignment description; `Asg::new` gives a reading on eco(1), page bc(1).
#[derive(Clone)]
pub struct Asg {
    pub id: u128,
    pub student: u128,
    pub eco: u128,
    pub kind: &'static str,
    pub opens: Option<i64>,
    pub due: Option<i64>,
    pub feedback: Option<i64>,
    pub closes: Option<i64>,
    pub bcs: Vec<u128>,
    /// (trial, exercise, is_pe, is_spe)
    pub trials: Vec<(u128, u128, bool, bool)>,
    pub goal_pes: Option<u32>,
    pub goal_spes: Option<u32>,
    pub pes_assigned: bool,
    pub spes_assigned: bool,
    pub deleted: bool,
}

impl Asg {
    pub fn new(id: u128, student: u128) -> Self {
        Asg {
            id,
            student,
            eco: 1,
            kind: "reading",
            opens: Some(1),
            due: Some(10),
            feedback: None,
            closes: None,
            bcs: vec![1],
            trials: vec![
                (id * 100 + 1, 1, false, false),
                (id * 100 + 2, 2, false, false),
            ],
            goal_pes: Some(3),
            goal_spes: Some(3),
            pes_assigned: false,
            spes_assigned: false,
            deleted: false,
        }
    }

    pub fn event(&self, seq: u64) -> Event {
        let mut info = serde_json::Map::new();
        for (key, value) in [
            ("opens_at", self.opens),
            ("due_at", self.due),
            ("feedback_at", self.feedback),
            ("closes_at", self.closes),
        ] {
            if let Some(d) = value {
                info.insert(key.into(), json!(date(d)));
            }
        }
        let trials: Vec<Value> = self
            .trials
            .iter()
            .map(|(t, e, pe, spe)| {
                json!({"trial_uuid": trial(*t).to_string(),
            "exercise_uuid": ex(*e).to_string(), "is_pe": pe, "is_spe": spe})
            })
            .collect();
        let body = json!({"assignments": [{"request_uuid": request(seq), "course_uuid": course_id().to_string(),
            "sequence_number": seq, "assignment_uuid": asg(self.id).to_string(), "is_deleted": self.deleted,
            "ecosystem_uuid": eco(self.eco).to_string(), "student_uuid": student(self.student).to_string(),
            "assignment_type": self.kind, "exclusion_info": info,
            "assigned_book_container_uuids": self.bcs.iter().map(|b| bc(*b).to_string()).collect::<Vec<_>>(),
            "goal_num_tutor_assigned_spes": self.goal_spes, "spes_are_assigned": self.spes_assigned,
            "goal_num_tutor_assigned_pes": self.goal_pes, "pes_are_assigned": self.pes_assigned,
            "assigned_exercises": trials, "created_at": date(0), "updated_at": date(0)}]});
        parse_create_update_assignments(&body).expect("valid")[0]
            .event
            .to_event()
    }
}

/// A response description; `Resp::new` is a real, correct answer on day 2 in eco(1).
#[derive(Clone)]
pub struct Resp {
    pub id: u128,
    pub trial: u128,
    pub student: u128,
    pub exercise: u128,
    pub eco: u128,
    pub correct: bool,
    pub real: bool,
    pub day: i64,
}

impl Resp {
    pub fn new(id: u128, trial: u128, student: u128, exercise: u128) -> Self {
        Resp {
            id,
            trial,
            student,
            exercise,
            eco: 1,
            correct: true,
            real: true,
            day: 2,
        }
    }

    pub fn event(&self, seq: u64) -> Event {
        let body = json!({"responses": [{"response_uuid": resp(self.id).to_string(),
            "course_uuid": course_id().to_string(), "sequence_number": seq,
            "ecosystem_uuid": eco(self.eco).to_string(), "trial_uuid": trial(self.trial).to_string(),
            "student_uuid": student(self.student).to_string(), "exercise_uuid": ex(self.exercise).to_string(),
            "is_correct": self.correct, "is_real_response": self.real, "responded_at": date(self.day)}]});
        parse_record_responses(&body).expect("valid")[0]
            .event
            .to_event()
    }
}

/// A course on eco(1) with one period cc(1) holding students 1 and 2
/// (sequence numbers 0 and 1).
pub fn base_events() -> Vec<Event> {
    vec![create_course(1), roster(1, &[(1, None)], &[(1, 1), (2, 1)])]
}

/// Applies `events` to a new course state and returns it.
pub fn course_with(events: &[Event]) -> CourseState {
    let mut state = CourseState::new(course_id());
    state.apply_all(events, &catalog());
    state
}
