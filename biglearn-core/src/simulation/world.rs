//! The simulated world: a book (chapters → pages → exercise pools), a
//! hidden SPARFA model (one concept per page, W ≥ 0, intercepts d) with each
//! student's true knowledge, and the wire events Tutor would send.

use crate::events::{
    parse_create_course, parse_create_ecosystem, parse_create_update_assignments,
    parse_record_responses, parse_update_rosters, Datetime, WireEvent,
};
use crate::ids::{
    AssignmentId, BookContainerId, CourseContainerId, CourseId, EcosystemId, ExerciseId, StudentId,
    TrialId,
};
use crate::log::Event;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use uuid::Uuid;

use super::SimulationError;

/// Exercises per pool: reading, homework and practice pools on every page.
pub(crate) const PER_POOL: usize = 4;
/// Pages per chapter; one chapter is taught per week.
pub(crate) const PAGES_PER_CHAPTER: usize = 3;
/// The course starts at this unix time (2017-01-02, a Monday).
const START_SECONDS: i64 = 1_483_315_200;

/// Ids in disjoint numeric ranges, so a printed uuid says what it is.
pub(crate) fn id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128((kind << 96) | n)
}

/// Microseconds of `day` (fractional) after the course start.
pub(crate) fn micros(day: f64) -> i64 {
    (START_SECONDS as f64 * 1e6 + day * 86_400e6) as i64
}

fn date(day: f64) -> Result<String, SimulationError> {
    Datetime::from_unix_micros(micros(day))
        .map(|d| d.as_str().to_owned())
        .ok_or(SimulationError::DayOutOfRange { day })
}

/// One page: its container, the chapter it belongs to, and its exercises
/// by pool (reading, homework, practice).
#[derive(Debug, Clone)]
pub struct Page {
    /// The page's book container (its CLUE target).
    pub container: BookContainerId,
    /// Index of the chapter (= the week it is taught in, modulo chapters).
    pub chapter: usize,
    /// Exercises of the reading pool.
    pub reading: Vec<ExerciseId>,
    /// Exercises of the homework pool.
    pub homework: Vec<ExerciseId>,
    /// Exercises of the practice pool.
    pub practice: Vec<ExerciseId>,
}

impl Page {
    /// Every exercise of the page (its CLUE pool).
    pub fn all(&self) -> impl Iterator<Item = &ExerciseId> {
        self.reading
            .iter()
            .chain(&self.homework)
            .chain(&self.practice)
    }
}

/// The hidden truth: the book and the model answers are drawn from.
pub struct World {
    /// The book's ecosystem.
    pub ecosystem: EcosystemId,
    /// The one simulated course.
    pub course: CourseId,
    /// Chapter containers, in teaching order.
    pub chapters: Vec<BookContainerId>,
    /// Pages, chapter by chapter; page `p` is concept `p` of the hidden model.
    pub pages: Vec<Page>,
    /// Per exercise (by its number): page index, loading and intercept.
    pub exercise_params: Vec<(usize, f64, f64)>,
    /// The course's three periods.
    pub periods: Vec<CourseContainerId>,
    /// The students, dealt round-robin over the periods.
    pub students: Vec<StudentId>,
    /// Each student's true knowledge per page.
    pub knowledge: Vec<Vec<f64>>,
}

fn normal(rng: &mut ChaCha20Rng) -> f64 {
    // Box–Muller; the seeded stream makes the world reproducible.
    let u1: f64 = rng.gen_range(1e-12..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The logistic link of the hidden model.
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl World {
    /// A book of `chapters` chapters and a course of `students` students in
    /// three periods, with the hidden model drawn from `rng`.
    pub fn new(
        chapters: usize,
        students: usize,
        [ability_sd, page_sd, intercept_mean, intercept_sd]: [f64; 4],
        rng: &mut ChaCha20Rng,
    ) -> World {
        let mut pages = Vec::new();
        let mut exercise_params = Vec::new();
        let chapter_ids: Vec<_> = (0..chapters)
            .map(|c| BookContainerId::from_uuid(id(2, c as u128 * 100)))
            .collect();
        for chapter in 0..chapters {
            for p in 0..PAGES_PER_CHAPTER {
                let page = pages.len();
                let container = BookContainerId::from_uuid(id(2, (chapter * 100 + p + 1) as u128));
                let mut pools: Vec<Vec<ExerciseId>> = Vec::new();
                for _ in 0..3 {
                    let pool = (0..PER_POOL)
                        .map(|_| {
                            let n = exercise_params.len() as u128;
                            let loading = 0.8 + 0.4 * rng.gen_range(0.0..1.0);
                            let intercept = intercept_mean + intercept_sd * normal(rng);
                            exercise_params.push((page, loading, intercept));
                            ExerciseId::from_uuid(id(3, n))
                        })
                        .collect();
                    pools.push(pool);
                }
                let practice = pools.pop().unwrap_or_default();
                let homework = pools.pop().unwrap_or_default();
                let reading = pools.pop().unwrap_or_default();
                pages.push(Page {
                    container,
                    chapter,
                    reading,
                    homework,
                    practice,
                });
            }
        }
        let periods = (0..3)
            .map(|p| CourseContainerId::from_uuid(id(5, p)))
            .collect();
        let students: Vec<_> = (0..students)
            .map(|s| StudentId::from_uuid(id(6, s as u128)))
            .collect();
        let knowledge = students
            .iter()
            .map(|_| {
                let ability = ability_sd * normal(rng);
                (0..pages.len())
                    .map(|_| ability + page_sd * normal(rng))
                    .collect()
            })
            .collect();
        World {
            ecosystem: EcosystemId::from_uuid(id(1, 1)),
            course: CourseId::from_uuid(id(4, 1)),
            chapters: chapter_ids,
            pages,
            exercise_params,
            periods,
            students,
            knowledge,
        }
    }

    fn exercise_number(exercise: ExerciseId) -> usize {
        (exercise.as_uuid().as_u128() & 0xffff_ffff) as usize
    }

    /// The true probability that `student` answers `exercise` correctly.
    pub fn p_correct(&self, student: usize, exercise: ExerciseId) -> f64 {
        let (page, loading, intercept) = self.exercise_params[Self::exercise_number(exercise)];
        sigmoid(loading * self.knowledge[student][page] + intercept)
    }

    /// The true mastery of `student` on `page`, on the scale of the SPARFA
    /// CLUE (sparfa.md §6.2): the link of the mean logit over the page's
    /// exercises.
    pub fn true_mastery(&self, student: usize, page: usize) -> f64 {
        let exercises: Vec<_> = self.pages[page].all().copied().collect();
        let mean = exercises
            .iter()
            .map(|e| {
                let (_, loading, intercept) = self.exercise_params[Self::exercise_number(*e)];
                loading * self.knowledge[student][page] + intercept
            })
            .sum::<f64>()
            / exercises.len() as f64;
        sigmoid(mean)
    }

    /// create_ecosystem for the book.
    pub fn create_ecosystem(&self) -> Result<Event, SimulationError> {
        let mut contents = Vec::new();
        let root = self.ecosystem.to_string();
        for (c, chapter) in self.chapters.iter().enumerate() {
            let all: Vec<String> = self
                .pages
                .iter()
                .filter(|p| p.chapter == c)
                .flat_map(|p| p.all().map(|e| e.to_string()).collect::<Vec<_>>())
                .collect();
            contents.push(json!({"container_uuid": chapter.to_string(),
                "container_parent_uuid": root, "pools": [pool(true, &[], &all)]}));
        }
        for page in &self.pages {
            let strings = |v: &[ExerciseId]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>();
            let all: Vec<String> = page.all().map(|e| e.to_string()).collect();
            contents.push(json!({"container_uuid": page.container.to_string(),
                "container_parent_uuid": self.chapters[page.chapter].to_string(),
                "pools": [pool(true, &[], &all), pool(false, &["reading"], &strings(&page.reading)),
                          pool(false, &["homework"], &strings(&page.homework)),
                          pool(false, &["practice"], &strings(&page.practice))]}));
        }
        let exercises: Vec<Value> = (0..self.exercise_params.len())
            .map(|n| {
                json!({"exercise_uuid": id(3, n as u128).to_string(),
                "group_uuid": id(7, n as u128).to_string(), "version": 1, "los": ["lo"]})
            })
            .collect();
        let body = json!({"ecosystem_uuid": root,
            "book": {"cnx_identity": format!("{}@1.1", id(12, 1)), "contents": contents},
            "exercises": exercises, "imported_at": date(-30.0)?});
        Ok(parse_create_ecosystem(&body)
            .map_err(|e| SimulationError::event("create_ecosystem", format!("{e:?}")))?
            .event
            .to_event())
    }

    /// create_course (sequence number 0).
    pub fn create_course(&self, weeks: usize) -> Result<Event, SimulationError> {
        let body = json!({"course_uuid": self.course.to_string(),
            "ecosystem_uuid": self.ecosystem.to_string(), "is_real_course": true,
            "starts_at": date(0.0)?, "ends_at": date(7.0 * weeks as f64 + 14.0)?,
            "created_at": date(-7.0)?});
        Ok(parse_create_course(&body)
            .map_err(|e| SimulationError::event("create_course", format!("{e:?}")))?
            .event
            .to_event())
    }

    /// The roster: three periods, students dealt round-robin.
    pub fn roster(&self, seq: u64) -> Result<Event, SimulationError> {
        let course = self.course.to_string();
        let containers: Vec<Value> = self
            .periods
            .iter()
            .map(|p| {
                json!({"container_uuid": p.to_string(), "parent_container_uuid": course,
                           "created_at": date(-7.0).unwrap_or_default()})
            })
            .collect();
        let students: Vec<Value> = self
            .students
            .iter()
            .enumerate()
            .map(|(i, s)| {
                json!({"student_uuid": s.to_string(),
                "container_uuid": self.periods[i % self.periods.len()].to_string(),
                "enrolled_at": date(-7.0).unwrap_or_default(),
                "last_course_container_change_at": date(-7.0).unwrap_or_default()})
            })
            .collect();
        let body = json!({"rosters": [{"request_uuid": id(8, u128::from(seq)).to_string(),
            "course_uuid": course, "sequence_number": seq, "course_containers": containers,
            "students": students}]});
        first(parse_update_rosters(&body), "update_roster")
    }
}

fn pool(clue: bool, types: &[&str], exercises: &[String]) -> Value {
    json!({"use_for_clue": clue, "use_for_personalized_for_assignment_types": types,
           "exercise_uuids": exercises})
}

fn first<T: WireEvent>(
    parsed: Result<Vec<crate::events::Echoed<T>>, crate::events::ValidationErrors>,
    what: &'static str,
) -> Result<Event, SimulationError> {
    parsed
        .map_err(|e| SimulationError::event(what, format!("{e:?}")))?
        .into_iter()
        .next()
        .map(|e| e.event.to_event())
        .ok_or_else(|| SimulationError::event(what, "no item".to_owned()))
}

/// One issued trial: its uuid, exercise and placement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trial {
    pub trial: TrialId,
    pub exercise: ExerciseId,
    pub is_pe: bool,
    pub is_spe: bool,
}

/// One assignment as the simulated Tutor tracks it.
#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    pub id: AssignmentId,
    pub student: usize,
    pub kind: &'static str,
    pub opens: f64,
    pub due: f64,
    pub pages: Vec<usize>,
    pub trials: Vec<Trial>,
    pub pes_assigned: bool,
    pub spes_assigned: bool,
}

impl Assignment {
    /// create_update_assignment with the current trials.
    pub fn event(&self, world: &World, seq: u64) -> Result<Event, SimulationError> {
        let trials: Vec<Value> = self
            .trials
            .iter()
            .map(|t| {
                json!({"trial_uuid": t.trial.to_string(), "exercise_uuid": t.exercise.to_string(),
                           "is_pe": t.is_pe, "is_spe": t.is_spe})
            })
            .collect();
        let bcs: Vec<String> = self
            .pages
            .iter()
            .map(|p| world.pages[*p].container.to_string())
            .collect();
        let body = json!({"assignments": [{"request_uuid": id(8, u128::from(seq)).to_string(),
            "course_uuid": world.course.to_string(), "sequence_number": seq,
            "assignment_uuid": self.id.to_string(), "is_deleted": false,
            "ecosystem_uuid": world.ecosystem.to_string(),
            "student_uuid": world.students[self.student].to_string(),
            "assignment_type": self.kind,
            "exclusion_info": {"opens_at": date(self.opens)?, "due_at": date(self.due)?},
            "goal_num_tutor_assigned_pes": (if self.kind == "practice" { 0 } else { 3 }),
            "assigned_book_container_uuids": bcs,
            "pes_are_assigned": self.pes_assigned,
            "goal_num_tutor_assigned_spes": (if self.kind == "practice" { 0 } else { 3 }),
            "spes_are_assigned": self.spes_assigned,
            "assigned_exercises": trials, "created_at": date(self.opens - 1.0)?,
            "updated_at": date(self.opens)?}]});
        first(
            parse_create_update_assignments(&body),
            "create_update_assignment",
        )
    }
}

/// record_response for one answer.
pub(crate) fn response(
    world: &World,
    seq: u64,
    response: Uuid,
    student: usize,
    trial: &Trial,
    correct: bool,
    day: f64,
) -> Result<Event, SimulationError> {
    let body = json!({"responses": [{"response_uuid": response.to_string(),
        "course_uuid": world.course.to_string(), "sequence_number": seq,
        "ecosystem_uuid": world.ecosystem.to_string(), "trial_uuid": trial.trial.to_string(),
        "student_uuid": world.students[student].to_string(),
        "exercise_uuid": trial.exercise.to_string(), "is_correct": correct,
        "is_real_response": true, "responded_at": date(day)?}]});
    first(parse_record_responses(&body), "record_response")
}
