//! Recalculation of the dirty results of one course bundle with both
//! built-in algorithms (scheduler.md §1.6, §2, §3): PEs and SPEs per
//! assignment, practice worst areas per student, student and teacher CLUEs.
//!
//! Every result carries a calculation uuid derived from stable ids (S2):
//! the kind, the course, the target's ids and the sequence number of the
//! event that last dirtied it. The same uuid seeds the selection shuffles,
//! so recalculating from the same events gives the same rows.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::rc::Rc;

use uuid::Uuid;

use super::algs::{pe_names, spe_names, Algorithms, Builtin, Matrices};
use super::clue_owner::{merged, ClueOwner, Marks};
use super::{Dirty, EngineCourseState};
use crate::engine_store::{
    AlgorithmName, ClueData, ClueKey, ClueResult, ClueTarget, ExerciseKey, ExerciseResult,
    ExerciseTarget, ResultWrite, SpyInfo,
};
use crate::fast_hash::FastHashMap;
use crate::ids::{
    AssignmentId, BookContainerId, CalculationId, CourseId, EcosystemId, ExerciseId, StudentId,
};
use crate::log::SequenceNumber;
use crate::projection::{AnsweredExercise, ClueInput, CourseViews, EcosystemCatalog};
use crate::scheduler::{
    build_pe, build_spe, instructor_driven_history, pe_seed, practice_worst_areas, seed_from_ids,
    spe_seed, student_driven_history, student_exclusions, AlgorithmResponse, Assignment,
    BuiltinAlgorithm, ClueCandidate, ClueRequest, ExerciseOrder, ExerciseOrderRequest, HistoryType,
    Instant, PeInput, PriorityOrder, Response, SelectionConfig, SpeInput, StudentClue,
};

/// The result changes of one bundle, and the calculations that failed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Puts and deletes, each key at most once, in a deterministic order.
    pub writes: Vec<ResultWrite>,
    /// One message per failed calculation (its rows are left as they were).
    pub failures: Vec<String>,
}

/// The calculation uuid of a result (S2): `kind`, the course, `ids` and the
/// sequence number of the event that last changed its inputs.
pub fn calculation_id(
    kind: &str,
    course: CourseId,
    ids: &[Uuid],
    at: SequenceNumber,
) -> CalculationId {
    let mut all = Vec::with_capacity(ids.len() + 2);
    all.push(Uuid::from(course));
    all.extend_from_slice(ids);
    all.push(Uuid::from_u128(u128::from(at.get())));
    CalculationId::from_uuid(seed_from_ids(&format!("biglearn.engine.{kind}"), &all).uuid())
}

/// Recalculates what `dirty` names, at `now`, updating the CLUE bookkeeping
/// of `state`.
pub fn recalculate(
    state: &mut EngineCourseState,
    catalog: &impl EcosystemCatalog,
    matrices: &Matrices,
    dirty: &Dirty,
    now: Instant,
) -> Outcome {
    recalculate_salted(state, catalog, matrices, dirty, now, None)
}

/// [`recalculate`] with `salt` added to every calculation uuid: a
/// recalculation without a new event (a wake-up, a new matrix) reuses the
/// last sequence number, so the salt keeps its uuids distinct from the
/// previous calculation's.
pub fn recalculate_salted(
    state: &mut EngineCourseState,
    catalog: &impl EcosystemCatalog,
    matrices: &Matrices,
    dirty: &Dirty,
    now: Instant,
    salt: Option<Uuid>,
) -> Outcome {
    let EngineCourseState {
        course,
        student_clues,
        teacher_clues,
        clue_values,
        ..
    } = state;
    let views = CourseViews::new(course, catalog);
    let mut out = Outcome {
        failures: matrices.failures.clone(),
        ..Outcome::default()
    };
    let algorithms = matrices.algorithms();
    let ctx = Context {
        views: &views,
        algorithms: &algorithms,
        now,
        salt,
        clue_values: RefCell::new(&mut clue_values.0),
        student_inputs: RefCell::new(FastHashMap::default()),
        sparfa_orders: RefCell::new(FastHashMap::default()),
        students: RefCell::new(FastHashMap::default()),
    };
    for (assignment, at) in &dirty.assignments {
        ctx.assignment(*assignment, *at, &mut out);
    }
    let pending = views.pending_ecosystem();
    let mut students_changed = Vec::new();
    // Student CLUEs first: worst areas reuse them instead of recomputing.
    let student_marks = merged(
        &dirty.student_clues,
        &dirty.prepared_student_clues,
        &dirty.student_answers,
        &dirty.matrix.student_clues,
    );
    for (student, marks) in student_marks {
        let enrolled = views.course().students.contains_key(&student);
        let old = student_clues.remove(&student).unwrap_or_default();
        let owner = ClueOwner::Student(student, vec![student]);
        let new = match ctx.plan(marks, enrolled) {
            Plan::Answers(targets) => {
                let only = targets.keys().copied().collect();
                let current = views.student_clues_on(student, now, &only);
                ctx.answer_clues(&owner, &current, &old, &targets, &mut out)
            }
            Plan::All(marks, answered, only) => {
                // Without a full mark these only tell which current rows stay.
                let current = if enrolled {
                    ctx.student_inputs(student)
                } else {
                    Rc::new(Vec::new())
                };
                let next = match pending {
                    Some(ecosystem) if enrolled => views.student_clues_in(student, ecosystem, now),
                    _ => Vec::new(),
                };
                ctx.owner_clues(
                    &owner,
                    &current,
                    next,
                    &old,
                    (marks, &answered, only),
                    &mut out,
                )
            }
        };
        ctx.forget_clues(student, old.difference(&new));
        if new != old {
            // The student's stored part holds this bookkeeping.
            students_changed.push(student);
        }
        if !new.is_empty() {
            student_clues.insert(student, new);
        }
    }
    let mut worst: BTreeMap<StudentId, (SequenceNumber, Option<BuiltinAlgorithm>)> = dirty
        .matrix
        .worst_areas
        .iter()
        .map(|(student, at)| (*student, (*at, Some(BuiltinAlgorithm::BiglearnSparfa))))
        .collect();
    for (student, at) in &dirty.worst_areas {
        let entry = worst.entry(*student).or_insert((*at, None));
        *entry = (entry.0.max(*at), None);
    }
    for (student, (at, only)) in worst {
        ctx.worst_areas(student, at, only, student_clues.get(&student), &mut out);
    }
    let teacher_marks = merged(
        &dirty.teacher_clues,
        &dirty.prepared_teacher_clues,
        &dirty.teacher_answers,
        &dirty.matrix.teacher_clues,
    );
    for (container, marks) in teacher_marks {
        let node = views.course().containers.get(&container);
        let students: BTreeSet<StudentId> = node.map(|n| n.students.clone()).unwrap_or_default();
        let old = teacher_clues.remove(&container).unwrap_or_default();
        let owner = ClueOwner::Teacher(container, students.iter().copied().collect());
        let new = match ctx.plan(marks, node.is_some()) {
            Plan::Answers(targets) => {
                let only = targets.keys().copied().collect();
                let current = views.teacher_clues_on(container, now, &only);
                ctx.answer_clues(&owner, &current, &old, &targets, &mut out)
            }
            Plan::All(marks, answered, only) => {
                let current = views.teacher_clues(container, now);
                let next = match pending {
                    Some(ecosystem) => views.teacher_clues_in(container, ecosystem, now),
                    None => Vec::new(),
                };
                ctx.owner_clues(
                    &owner,
                    &current,
                    next,
                    &old,
                    (marks, &answered, only),
                    &mut out,
                )
            }
        };
        if !new.is_empty() {
            teacher_clues.insert(container, new);
        }
    }
    drop(ctx);
    drop(views);
    course.touched.students.extend(students_changed);
    out
}

type ClueValueMap = FastHashMap<(StudentId, BookContainerId, BuiltinAlgorithm), ClueData>;

/// How an owner's CLUEs are recalculated in one pass.
enum Plan<'d> {
    /// Only the rows on these targets (changed answers count for them),
    /// each at the latest sequence number of those answers.
    Answers(BTreeMap<BookContainerId, SequenceNumber>),
    /// Every row per the marks; a target that changed answers count for
    /// takes the later of the full mark and those answers; only the rows
    /// of one algorithm when it is named.
    All(
        Marks<'d>,
        BTreeMap<BookContainerId, SequenceNumber>,
        Option<BuiltinAlgorithm>,
    ),
}

struct Context<'v, 'c, 'm, 's> {
    views: &'v CourseViews<'c>,
    algorithms: &'v Algorithms<'m>,
    now: Instant,
    salt: Option<Uuid>,
    /// The student CLUE values written so far, by (student, container,
    /// algorithm), for worst areas ([`super::StudentClueValues`]).
    clue_values: RefCell<&'s mut ClueValueMap>,
    /// Student CLUE inputs built in this pass, for the worst areas.
    student_inputs: RefCell<FastHashMap<StudentId, Rc<Vec<ClueInput>>>>,
    /// `biglearn_sparfa` orders of this pass by (student, ecosystem): they
    /// depend only on the ecosystem's exercises, the student's answers and
    /// the matrix, not on the calculation, so every assignment of the
    /// student and its worst areas share one ranking.
    sparfa_orders: RefCell<FastHashMap<(StudentId, EcosystemId), ExerciseOrder>>,
    /// What every calculation of one student reads, built once per pass.
    students: RefCell<FastHashMap<StudentId, Rc<StudentInputs>>>,
}

/// A student's assignments (with their history dates at `now`), excluded
/// exercises and answers: the same for each of its assignments' PEs and
/// SPEs and for its worst areas within one pass.
struct StudentInputs {
    assignments: Vec<Assignment>,
    excluded: HashSet<ExerciseId>,
    responses: Vec<AlgorithmResponse>,
}

fn algorithm_responses(student: StudentId, responses: &[Response]) -> Vec<AlgorithmResponse> {
    responses
        .iter()
        .map(|r| AlgorithmResponse {
            student,
            trial: r.trial,
            exercise: r.exercise,
            is_correct: r.is_correct,
            responded_at: r.last_responded_at,
        })
        .collect()
}

fn clue_responses(candidates: &[ClueCandidate]) -> Vec<AlgorithmResponse> {
    candidates
        .iter()
        .map(|c| AlgorithmResponse {
            student: c.student,
            trial: c.trial,
            exercise: c.exercise,
            is_correct: c.is_correct,
            responded_at: c.last_responded_at,
        })
        .collect()
}

fn spy(pairs: &[(&str, &str)]) -> SpyInfo {
    SpyInfo(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect(),
    )
}

fn put_exercises(
    out: &mut Outcome,
    target: ExerciseTarget,
    algorithm: AlgorithmName,
    result: ExerciseResult,
) {
    out.writes.push(ResultWrite::Exercise {
        key: ExerciseKey { target, algorithm },
        result: Some(result),
    });
}

fn delete_exercises(out: &mut Outcome, target: ExerciseTarget, names: &[AlgorithmName]) {
    for algorithm in names {
        out.writes.push(ResultWrite::Exercise {
            key: ExerciseKey {
                target,
                algorithm: algorithm.clone(),
            },
            result: None,
        });
    }
}

impl Context<'_, '_, '_, '_> {
    fn course_id(&self) -> CourseId {
        self.views.course().id
    }

    /// `alg`'s priority order for `request`; a `biglearn_sparfa` order is
    /// computed once per (student, ecosystem) in a pass (see
    /// [`Context::sparfa_orders`]); `local_query` shuffles with the
    /// calculation's seed, so its orders are not shared.
    fn order(
        &self,
        alg: &Builtin<'_>,
        request: &ExerciseOrderRequest<'_>,
    ) -> Result<ExerciseOrder, String> {
        let key = match (alg.algorithm(), request.student) {
            (BuiltinAlgorithm::BiglearnSparfa, Some(student)) => (student, request.ecosystem),
            _ => return alg.order(request),
        };
        if let Some(order) = self.sparfa_orders.borrow().get(&key) {
            return Ok(order.clone());
        }
        let order = alg.order(request)?;
        self.sparfa_orders.borrow_mut().insert(key, order.clone());
        Ok(order)
    }

    /// [`StudentInputs`] of `student`, built once per pass.
    fn student(&self, student: StudentId) -> Rc<StudentInputs> {
        if let Some(found) = self.students.borrow().get(&student) {
            return Rc::clone(found);
        }
        let assignments = self.views.student_assignments(student, self.now);
        let excluded = student_exclusions(
            self.views.exclusions(),
            &assignments,
            self.views.catalog(),
            self.now,
        );
        let responses = algorithm_responses(student, &self.views.student_responses(student));
        let built = Rc::new(StudentInputs {
            assignments,
            excluded,
            responses,
        });
        self.students
            .borrow_mut()
            .insert(student, Rc::clone(&built));
        built
    }

    /// The student's CLUE inputs at `now`, built once per pass.
    fn student_inputs(&self, student: StudentId) -> Rc<Vec<ClueInput>> {
        if let Some(inputs) = self.student_inputs.borrow().get(&student) {
            return inputs.clone();
        }
        let inputs = Rc::new(self.views.student_clues(student, self.now));
        self.student_inputs
            .borrow_mut()
            .insert(student, inputs.clone());
        inputs
    }

    /// [`calculation_id`] of this course, with the salt (if any) appended.
    fn calculation(&self, kind: &str, ids: &[Uuid], at: SequenceNumber) -> CalculationId {
        match self.salt {
            None => calculation_id(kind, self.course_id(), ids, at),
            Some(salt) => {
                let mut salted = ids.to_vec();
                salted.push(salt);
                calculation_id(kind, self.course_id(), &salted, at)
            }
        }
    }

    /// The PEs and SPEs of one assignment (scheduler.md §2.4, §2.5); a
    /// deleted assignment's rows are retired (S1 fix 2).
    fn assignment(&self, id: AssignmentId, at: SequenceNumber, out: &mut Outcome) {
        let course = self.views.course();
        let Some(state) = course.assignments.get(&id) else {
            return;
        };
        if state.is_deleted {
            delete_exercises(out, ExerciseTarget::AssignmentPes(id), &pe_names());
            delete_exercises(out, ExerciseTarget::AssignmentSpes(id), &spe_names());
            return;
        }
        let student = state.student;
        let Some(view) = self.views.view(state.ecosystem) else {
            out.failures.push(format!(
                "assignment {id}: ecosystem {} is not imported; PEs and SPEs not calculated",
                state.ecosystem
            ));
            return;
        };
        let inputs = self.student(student);
        let StudentInputs {
            assignments,
            excluded,
            responses,
        } = &*inputs;
        let Some(current) = assignments.iter().find(|a| a.id == id) else {
            return;
        };
        let calculation = self.calculation("assignment_exercises", &[id.into()], at);
        let config = SelectionConfig::default();
        let mut planned = Vec::new();
        for alg in self.algorithms.for_ecosystem(state.ecosystem) {
            let request = ExerciseOrderRequest {
                calculation,
                ecosystem: state.ecosystem,
                student: Some(student),
                exercises: view.exercises(),
                responses,
            };
            let order = match self.order(&alg, &request) {
                Ok(order) => order,
                Err(error) => {
                    out.failures.push(format!("assignment {id}: {error}"));
                    continue;
                }
            };
            let priority = PriorityOrder::new(order.exercises.iter().copied());
            let pe_input = PeInput {
                ecosystem: view,
                priority: &priority,
                assignment: current,
                excluded,
                config: &config,
            };
            let pes: Vec<ExerciseId> = build_pe(&pe_input, &mut pe_seed(id, calculation).rng())
                .iter()
                .map(|c| c.exercise)
                .collect();
            planned.push((alg, priority, order.ecosystem_matrix, pes));
        }
        // SPEs avoid the assignment's PEs of every algorithm (§2.5).
        let all_pes: Vec<ExerciseId> = planned
            .iter()
            .flat_map(|(_, _, _, pes)| pes.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for (alg, priority, matrix, pes) in planned {
            let name = alg.name();
            put_exercises(
                out,
                ExerciseTarget::AssignmentPes(id),
                name.clone(),
                ExerciseResult {
                    calculation_uuid: calculation,
                    ecosystem_matrix_uuid: matrix,
                    exercise_uuids: pes,
                    spy_info: spy(&[("exercise_algorithm_name", name.as_str())]),
                },
            );
            for history_type in [HistoryType::InstructorDriven, HistoryType::StudentDriven] {
                let spe_name = match alg.spe_name(history_type) {
                    Ok(n) => n,
                    Err(error) => {
                        out.failures.push(format!("assignment {id}: {error}"));
                        continue;
                    }
                };
                let history = match history_type {
                    HistoryType::InstructorDriven => {
                        instructor_driven_history(current, assignments)
                    }
                    HistoryType::StudentDriven => student_driven_history(current, assignments),
                };
                let input = SpeInput {
                    ecosystem: view,
                    priority: &priority,
                    assignment: current,
                    history: &history,
                    mappings: self.views.mappings(),
                    excluded,
                    assignment_pes: &all_pes,
                };
                let seed = spe_seed(id, calculation, history_type);
                let spes = build_spe(&input, &mut seed.rng());
                put_exercises(
                    out,
                    ExerciseTarget::AssignmentSpes(id),
                    spe_name,
                    ExerciseResult {
                        calculation_uuid: calculation,
                        ecosystem_matrix_uuid: matrix,
                        exercise_uuids: spes.exercises.iter().map(|c| c.exercise).collect(),
                        spy_info: spy(&[
                            ("exercise_algorithm_name", name.as_str()),
                            ("history_type", history_type.prefix()),
                        ]),
                    },
                );
            }
        }
    }

    /// Practice worst areas of one student (§2.7) from each algorithm's own
    /// CLUEs in the course's current ecosystem; a student no longer on the
    /// roster has its rows retired.
    /// The practice worst areas of `student` (scheduler.md §2.7) for both
    /// algorithms, or `only` one.
    fn worst_areas(
        &self,
        student: StudentId,
        at: SequenceNumber,
        only: Option<BuiltinAlgorithm>,
        written: Option<&BTreeSet<BookContainerId>>,
        out: &mut Outcome,
    ) {
        let course = self.views.course();
        let target = ExerciseTarget::PracticeWorstAreas(student);
        if !course.students.contains_key(&student) {
            delete_exercises(out, target, &pe_names());
            return;
        }
        let (Some(ecosystem), Some(view)) = (course.current_ecosystem, self.views.current_view())
        else {
            return;
        };
        let student_inputs = self.student(student);
        let StudentInputs {
            excluded,
            responses,
            ..
        } = &*student_inputs;
        let calculation = self.calculation("worst_areas", &[student.into()], at);
        for alg in self.algorithms.for_ecosystem(ecosystem) {
            if only.is_some_and(|only| alg.algorithm() != only) {
                continue;
            }
            let request = ExerciseOrderRequest {
                calculation,
                ecosystem,
                student: Some(student),
                exercises: view.exercises(),
                responses,
            };
            let order = match self.order(&alg, &request) {
                Ok(order) => order,
                Err(error) => {
                    out.failures
                        .push(format!("worst areas of student {student}: {error}"));
                    continue;
                }
            };
            let clues = match self.written_clues(student, ecosystem, alg.algorithm(), written) {
                Some(clues) => clues,
                None => self.calculated_clues(student, &alg, out),
            };
            let priority = PriorityOrder::new(order.exercises.iter().copied());
            let chosen = practice_worst_areas(view, &priority, &clues, excluded);
            let name = alg.name();
            put_exercises(
                out,
                target,
                name.clone(),
                ExerciseResult {
                    calculation_uuid: calculation,
                    ecosystem_matrix_uuid: order.ecosystem_matrix,
                    exercise_uuids: chosen.iter().map(|c| c.exercise).collect(),
                    spy_info: spy(&[
                        ("clue_algorithm_name", name.as_str()),
                        ("exercise_algorithm_name", name.as_str()),
                    ]),
                },
            );
        }
    }

    /// The student's CLUEs in `ecosystem` from the values of its `written`
    /// rows, in container order; `None` when a value is not known.
    fn written_clues(
        &self,
        student: StudentId,
        ecosystem: EcosystemId,
        algorithm: BuiltinAlgorithm,
        written: Option<&BTreeSet<BookContainerId>>,
    ) -> Option<Vec<StudentClue>> {
        let values = self.clue_values.borrow();
        let mut clues = Vec::new();
        for book_container in written.into_iter().flatten() {
            let data = values.get(&(student, *book_container, algorithm))?;
            if data.ecosystem_uuid != Some(ecosystem) {
                continue; // a prepared ecosystem's row
            }
            clues.push(StudentClue {
                book_container: *book_container,
                ecosystem,
                value: data.most_likely,
                created_at: self.now,
            });
        }
        Some(clues)
    }

    /// The student's CLUEs calculated from its inputs (values written in
    /// this pass are reused).
    fn calculated_clues(
        &self,
        student: StudentId,
        alg: &Builtin<'_>,
        out: &mut Outcome,
    ) -> Vec<StudentClue> {
        let inputs = self.student_inputs(student);
        let mut clues = Vec::with_capacity(inputs.len());
        for input in inputs.iter() {
            let key = (student, input.book_container, alg.algorithm());
            let cached = self
                .clue_values
                .borrow()
                .get(&key)
                .filter(|d| d.ecosystem_uuid == Some(input.ecosystem))
                .copied();
            let computed = match cached {
                Some(data) => Ok(data),
                None => self.clue(alg, &[student], input),
            };
            match computed {
                Ok(data) => {
                    self.clue_values.borrow_mut().insert(key, data);
                    clues.push(StudentClue {
                        book_container: input.book_container,
                        ecosystem: input.ecosystem,
                        value: data.most_likely,
                        created_at: self.now,
                    });
                }
                Err(error) => out
                    .failures
                    .push(format!("worst areas of student {student}: {error}")),
            }
        }
        clues
    }

    /// Forgets the values of a student's retired CLUE rows.
    fn forget_clues<'b>(
        &self,
        student: StudentId,
        retired: impl Iterator<Item = &'b BookContainerId>,
    ) {
        let mut values = self.clue_values.borrow_mut();
        for book_container in retired {
            for alg in [
                BuiltinAlgorithm::BiglearnSparfa,
                BuiltinAlgorithm::LocalQuery,
            ] {
                values.remove(&(student, *book_container, alg));
            }
        }
    }

    /// How the owner's CLUEs are recalculated: only on the targets the
    /// changed answers count for when nothing else marked the owner;
    /// otherwise per the marks, a target those answers count for taking
    /// the later of its mark and theirs. (An answer given while a prepared
    /// ecosystem is pending marks all of the owner's CLUEs: the projection
    /// does that, so the rule does not depend on how bundles are cut.)
    fn plan<'d>(&self, marks: Marks<'d>, exists: bool) -> Plan<'d> {
        let mut marks = marks;
        if let Some(at) = marks.matrix {
            if marks.full.is_none() && marks.prepared.is_none() && marks.answers.is_none() {
                // Only the rows the matrix is read for.
                let full = Some(at);
                let only = Some(BuiltinAlgorithm::BiglearnSparfa);
                return Plan::All(Marks { full, ..marks }, BTreeMap::new(), only);
            }
            marks.full = marks.full.max(Some(at));
        }
        let Some(answers) = marks.answers else {
            return Plan::All(marks, BTreeMap::new(), None);
        };
        if !exists {
            // Every row of a removed owner is retired.
            let full = marks.full.max(marks.last_answer());
            return Plan::All(Marks { full, ..marks }, BTreeMap::new(), None);
        }
        let targets = self.answered_targets(answers);
        if marks.full.is_none() && marks.prepared.is_none() {
            Plan::Answers(targets)
        } else {
            Plan::All(marks, targets, None)
        }
    }

    /// The targets that `answers` count for (§3.1: the containers holding
    /// an answered exercise in the answer's ecosystem, mapped forward, and
    /// every target whose CLUE pool holds it), each with the latest
    /// sequence number of those answers.
    fn answered_targets(
        &self,
        answers: &BTreeMap<AnsweredExercise, SequenceNumber>,
    ) -> BTreeMap<BookContainerId, SequenceNumber> {
        let mut targets: BTreeMap<BookContainerId, SequenceNumber> = BTreeMap::new();
        let mut pools: FastHashMap<ExerciseId, Vec<BookContainerId>> = FastHashMap::default();
        for (answer, at) in answers {
            let pool_targets = pools
                .entry(answer.exercise)
                .or_insert_with(|| self.views.pool_targets(answer.exercise));
            for target in self
                .views
                .answer_targets(*answer)
                .into_iter()
                .chain(pool_targets.iter().copied())
            {
                let entry = targets.entry(target).or_insert(*at);
                *entry = (*entry).max(*at);
            }
        }
        targets
    }

    /// Writes the owner's CLUEs on the targets changed answers count for
    /// (`current` holds the written ones among them); the other `old`
    /// rows stay. Returns the containers kept.
    fn answer_clues(
        &self,
        owner: &ClueOwner,
        current: &[ClueInput],
        old: &BTreeSet<BookContainerId>,
        targets: &BTreeMap<BookContainerId, SequenceNumber>,
        out: &mut Outcome,
    ) -> BTreeSet<BookContainerId> {
        let mut written: BTreeSet<BookContainerId> = old
            .iter()
            .filter(|t| !targets.contains_key(t))
            .copied()
            .collect();
        let latest = targets
            .values()
            .max()
            .copied()
            .unwrap_or(SequenceNumber::ZERO);
        let at = |target: BookContainerId| targets.get(&target).copied().unwrap_or(latest);
        written.extend(self.clues(owner, current, at, None, out));
        retire(owner, old.difference(&written), out);
        written
    }

    fn clue(
        &self,
        alg: &Builtin<'_>,
        students: &[StudentId],
        input: &ClueInput,
    ) -> Result<ClueData, String> {
        let responses = clue_responses(&input.responses.responses);
        let request = ClueRequest {
            ecosystem: input.ecosystem,
            students,
            exercises: &input.exercises,
            responses: &responses,
        };
        let data = alg.clue(&request)?;
        Ok(ClueData {
            minimum: data.minimum,
            most_likely: data.most_likely,
            maximum: data.maximum,
            is_real: data.is_real,
            ecosystem_uuid: Some(data.ecosystem),
        })
    }

    /// Writes an owner's CLUEs per `marks`: the `current` ecosystem's rows
    /// on a full recalculation (otherwise they stay as they are) and the
    /// prepared ecosystem's rows `next` (S1 fix 11; a container the current
    /// ecosystem also has keeps its current row), at the later of both
    /// marks so the uuids do not depend on bundle cuts; a target in
    /// `answered` takes the later of that and its answers'. Retires the
    /// rows of `old` containers that are gone; returns the containers kept.
    fn owner_clues(
        &self,
        owner: &ClueOwner,
        current: &[ClueInput],
        next: Vec<ClueInput>,
        old: &BTreeSet<BookContainerId>,
        (marks, answered, only): (
            Marks<'_>,
            &BTreeMap<BookContainerId, SequenceNumber>,
            Option<BuiltinAlgorithm>,
        ),
        out: &mut Outcome,
    ) -> BTreeSet<BookContainerId> {
        let current_bcs: BTreeSet<BookContainerId> =
            current.iter().map(|i| i.book_container).collect();
        let later = |at: SequenceNumber| {
            move |target: BookContainerId| answered.get(&target).map_or(at, |a| at.max(*a))
        };
        let mut written = match marks.full {
            Some(at) => self.clues(owner, current, later(at), only, out),
            None => {
                // Rows that changed answers count for are recalculated,
                // the others stay.
                let (redo, stay): (Vec<ClueInput>, Vec<ClueInput>) = current
                    .iter()
                    .cloned()
                    .partition(|i| answered.contains_key(&i.book_container));
                let mut kept: BTreeSet<BookContainerId> = stay
                    .iter()
                    .map(|i| i.book_container)
                    .filter(|bc| old.contains(bc))
                    .collect();
                let at = |target| {
                    answered
                        .get(&target)
                        .copied()
                        .unwrap_or(SequenceNumber::ZERO)
                };
                kept.extend(self.clues(owner, &redo, at, only, out));
                kept
            }
        };
        if let Some(at) = marks.full.max(marks.prepared) {
            let next: Vec<ClueInput> = next
                .into_iter()
                .filter(|i| !current_bcs.contains(&i.book_container))
                .collect();
            written.extend(self.clues(owner, &next, later(at), only, out));
        }
        retire(owner, old.difference(&written), out);
        written
    }

    /// Writes the CLUEs of `inputs` for both algorithms (or `only` one),
    /// each target at the sequence number `at` gives, and returns the
    /// containers written.
    fn clues(
        &self,
        owner: &ClueOwner,
        inputs: &[ClueInput],
        at: impl Fn(BookContainerId) -> SequenceNumber,
        only: Option<BuiltinAlgorithm>,
        out: &mut Outcome,
    ) -> BTreeSet<BookContainerId> {
        let mut written = BTreeSet::new();
        for input in inputs {
            let target = owner.target(input.book_container);
            let calculation = self.calculation(
                owner.kind(),
                &[owner.uuid(), input.book_container.into()],
                at(input.book_container),
            );
            for alg in self.algorithms.for_ecosystem(input.ecosystem) {
                if only.is_some_and(|only| alg.algorithm() != only) {
                    continue;
                }
                let computed = self.clue(&alg, owner.students(), input);
                if let ClueOwner::Student(student, _) = owner {
                    let key = (*student, input.book_container, alg.algorithm());
                    let mut values = self.clue_values.borrow_mut();
                    match &computed {
                        Ok(data) => values.insert(key, *data),
                        // The row stays as it was; worst areas recalculate.
                        Err(_) => values.remove(&key),
                    };
                }
                match computed {
                    Ok(clue_data) => out.writes.push(ResultWrite::Clue {
                        key: ClueKey {
                            target,
                            algorithm: alg.name(),
                        },
                        result: Some(ClueResult {
                            calculation_uuid: calculation,
                            ecosystem_matrix_uuid: alg.clue_matrix(),
                            clue_data,
                            spy_info: SpyInfo::default(),
                        }),
                    }),
                    Err(error) => out
                        .failures
                        .push(format!("{}: {error}", ResultTarget(target))),
                }
            }
            written.insert(input.book_container);
        }
        written
    }
}

/// Deletes the rows of the owner's `retired` containers.
fn retire<'b>(
    owner: &ClueOwner,
    retired: impl Iterator<Item = &'b BookContainerId>,
    out: &mut Outcome,
) {
    for book_container in retired {
        for algorithm in pe_names() {
            out.writes.push(ResultWrite::Clue {
                key: ClueKey {
                    target: owner.target(*book_container),
                    algorithm,
                },
                result: None,
            });
        }
    }
}

/// Names a CLUE target in failure messages.
struct ResultTarget(ClueTarget);

impl std::fmt::Display for ResultTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            ClueTarget::Student {
                student,
                book_container,
            } => write!(
                f,
                "CLUE of student {student} on book container {book_container}"
            ),
            ClueTarget::Teacher {
                course_container,
                book_container,
            } => write!(
                f,
                "CLUE of course container {course_container} on book container {book_container}"
            ),
        }
    }
}
