//! Recalculation of the dirty results of one course bundle with both
//! built-in algorithms (scheduler.md §1.6, §2, §3): PEs and SPEs per
//! assignment, practice worst areas per student, student and teacher CLUEs.
//!
//! Every result carries a calculation uuid derived from stable ids (S2):
//! the kind, the course, the target's ids and the sequence number of the
//! event that last dirtied it. The same uuid seeds the selection shuffles,
//! so recalculating from the same events gives the same rows.

mod clue_rows;
mod worst;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::rc::Rc;

use uuid::Uuid;

use super::algs::{pe_names, spe_names, Algorithms, Builtin, Matrices};
use super::clue_owner::{merged, ClueOwner};
use super::{Dirty, EngineCourseState};
use crate::engine_store::{
    AlgorithmName, ExerciseKey, ExerciseResult, ExerciseTarget, ResultWrite, SpyInfo,
};
use crate::fast_hash::FastHashMap;
use crate::ids::{
    AssignmentId, BookContainerId, CalculationId, CourseId, EcosystemId, ExerciseId, StudentId,
};
use crate::log::SequenceNumber;
use crate::projection::{ClueInput, CourseViews, EcosystemCatalog};
use crate::scheduler::{
    build_pe, build_spe, instructor_driven_history, pe_seed, seed_from_ids, spe_seed,
    student_driven_history, student_exclusions, AlgorithmResponse, Assignment, BuiltinAlgorithm,
    ClueCandidate, ClueData, ExerciseOrder, ExerciseOrderRequest, HistoryType, PeInput,
    PriorityOrder, Response, SelectionConfig, SpeInput,
};
use crate::time::Instant;

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
        candidates,
        ..
    } = state;
    let views = CourseViews::with_candidates(course, catalog, std::mem::take(&mut candidates.0));
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
        let new = ctx.owner_rows(
            &owner,
            &old,
            ctx.plan(marks, enrolled),
            (
                |only: &BTreeSet<BookContainerId>| views.student_clues_on(student, now, only),
                // Without a full mark these only tell which current rows stay.
                || {
                    if enrolled {
                        ctx.student_inputs(student)
                    } else {
                        Rc::new(Vec::new())
                    }
                },
                || match pending {
                    Some(ecosystem) if enrolled => views.student_clues_in(student, ecosystem, now),
                    _ => Vec::new(),
                },
            ),
            &mut out,
        );
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
        let students: Vec<StudentId> = node
            .map(|n| n.students.iter().copied().collect())
            .unwrap_or_default();
        let old = teacher_clues.remove(&container).unwrap_or_default();
        let owner = ClueOwner::Teacher(container, students);
        let new = ctx.owner_rows(
            &owner,
            &old,
            ctx.plan(marks, node.is_some()),
            (
                |only: &BTreeSet<BookContainerId>| views.teacher_clues_on(container, now, only),
                || Rc::new(views.teacher_clues(container, now)),
                || match pending {
                    Some(ecosystem) => views.teacher_clues_in(container, ecosystem, now),
                    None => Vec::new(),
                },
            ),
            &mut out,
        );
        if !new.is_empty() {
            teacher_clues.insert(container, new);
        }
    }
    drop(ctx);
    candidates.0 = views.into_candidates();
    course.touched.students.extend(students_changed);
    out
}

type ClueValueMap = FastHashMap<(StudentId, BookContainerId, BuiltinAlgorithm), ClueData>;

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
}
