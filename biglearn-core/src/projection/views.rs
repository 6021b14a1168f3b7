//! Conversions from projected state to the input types of
//! [`crate::scheduler`] (scheduler.md §2.1, §2.5, §3.1, §3.2).

use crate::fast_hash::{FastHashMap, FastHashSet};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::assignment::{AssignmentState, TrialResponse};
use super::changes::AnsweredExercise;
use super::course::CourseState;
use super::ecosystem::EcosystemCatalog;
use crate::ids::{
    AssignmentId, BookContainerId, CourseContainerId, EcosystemId, ExerciseId, StudentId, TrialId,
};
use crate::scheduler::{
    clue_exercises, clue_target, select_clue_responses, student_history_at, Assignment,
    AssignmentType, BookContainerMappings, ClueAudience, ClueCandidate, ClueResponses,
    CourseExclusions, EcosystemView, ExerciseCatalog, Response,
};
use crate::time::Instant;

/// The inputs of one CLUE row: the target container of the course's current
/// ecosystem, its exercises and the responses that count (§3.1, §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClueInput {
    /// The target book container, in `ecosystem`.
    pub book_container: BookContainerId,
    /// The course's current ecosystem (or a prepared one, S1 fix 11).
    pub ecosystem: EcosystemId,
    /// The CLUE's exercises (CLUE pools of the target and every container
    /// mapping to it, minus exclusions — S1 fix 7).
    pub exercises: Vec<ExerciseId>,
    /// The counted responses and, for a student, when hidden answers become
    /// visible.
    pub responses: ClueResponses,
}

/// A course's state together with the indexed ecosystems it refers to: the
/// one place that builds scheduler inputs. Build it once per batch of
/// calculations; it borrows the course.
#[derive(Debug)]
pub struct CourseViews<'a> {
    course: &'a CourseState,
    views: BTreeMap<EcosystemId, Arc<EcosystemView>>,
    catalog: Arc<ExerciseCatalog>,
    mappings: BookContainerMappings,
    /// The exercises of each CLUE target (container, ecosystem) met so far:
    /// the same for every student of a pass, so computed once.
    clue_pools: RefCell<CluePools>,
    /// Each student's CLUE candidates met so far: a student's own CLUEs and
    /// the teacher CLUEs of its containers read the same list.
    student_candidates: RefCell<CandidateCache>,
}

/// One student's answers that may count towards a CLUE, with the
/// ecosystem of each response.
pub type StudentCandidates = Vec<(EcosystemId, ClueCandidate)>;

/// Students' CLUE candidates by student. An engine keeps them with a
/// cached course from one bundle to the next ([`CourseViews::with_candidates`]):
/// a teacher CLUE reads the candidates of every student of its container,
/// and when one student answers the others' are what they were.
pub type CandidateCache = FastHashMap<StudentId, Arc<StudentCandidates>>;

/// Forgets the cached candidates of every student whose candidates may
/// have changed since `course.touched` was last cleared: the student of
/// each touched assignment and everyone who answered one of its trials (a
/// touched assignment is one that changed or had a trial answered; a
/// trial it issued may have moved to it from another assignment), and each
/// touched student (an answer to a trial no assignment issued). Every
/// input of a student's candidates (its answers, the trials they answer,
/// the assignments that issued them) lives in those parts.
fn forget_changed_candidates(cache: &mut CandidateCache, course: &CourseState) {
    if cache.is_empty() {
        return;
    }
    for id in &course.touched.assignments {
        let Some(assignment) = course.assignments.get(id) else {
            continue;
        };
        cache.remove(&assignment.student);
        for exercise in &assignment.exercises {
            if let Some(answer) = course.responses.get(&exercise.trial) {
                cache.remove(&answer.student);
            }
        }
    }
    for student in &course.touched.students {
        cache.remove(student);
    }
}

/// The CLUE pools met so far, by (target container, ecosystem); `None` for
/// a target with no known exercise (no CLUE is made).
type CluePools = FastHashMap<(BookContainerId, EcosystemId), Option<Rc<CluePool>>>;

/// A CLUE target's exercises, as a list (for the CLUE input) and a set.
#[derive(Debug)]
struct CluePool {
    list: Vec<ExerciseId>,
    set: FastHashSet<ExerciseId>,
}

impl<'a> CourseViews<'a> {
    /// Indexes every imported ecosystem the course refers to (current,
    /// initial, preparations, mappings, assignments, responses); the current
    /// ecosystem's exercise groups take precedence in the catalog.
    pub fn new(course: &'a CourseState, ecosystems: &impl EcosystemCatalog) -> Self {
        let mut ids: Vec<EcosystemId> = Vec::new();
        let mut push = |id: EcosystemId| {
            if !ids.contains(&id) {
                ids.push(id);
            }
        };
        course.current_ecosystem.into_iter().for_each(&mut push);
        course.initial_ecosystem.into_iter().for_each(&mut push);
        for p in course.preparations.values() {
            push(p.ecosystem);
            push(p.from_ecosystem);
        }
        for m in &course.mappings {
            push(m.from_ecosystem);
            push(m.to_ecosystem);
        }
        course
            .referenced_ecosystems()
            .into_iter()
            .for_each(&mut push);
        let states: Vec<_> = ids
            .iter()
            .filter_map(|id| ecosystems.ecosystem(*id))
            .filter(|e| e.imported)
            .collect();
        let catalog = match states.as_slice() {
            [only] => only.shared_catalog(),
            _ => Arc::new(ExerciseCatalog::new(
                states.iter().flat_map(|e| e.exercise_groups()),
            )),
        };
        let views = states.iter().map(|e| (e.id, e.shared_view())).collect();
        CourseViews {
            course,
            views,
            catalog,
            mappings: course.book_container_mappings(),
            clue_pools: RefCell::new(FastHashMap::default()),
            student_candidates: RefCell::new(FastHashMap::default()),
        }
    }

    /// [`CourseViews::new`] starting from candidates built earlier for this
    /// course, minus those of students whose parts changed since
    /// (`course.touched`). Take them back with
    /// [`CourseViews::into_candidates`].
    pub fn with_candidates(
        course: &'a CourseState,
        ecosystems: &impl EcosystemCatalog,
        mut candidates: CandidateCache,
    ) -> Self {
        forget_changed_candidates(&mut candidates, course);
        let views = CourseViews::new(course, ecosystems);
        *views.student_candidates.borrow_mut() = candidates;
        views
    }

    /// The candidates these views built or were given.
    pub fn into_candidates(self) -> CandidateCache {
        self.student_candidates.into_inner()
    }

    /// The course.
    pub fn course(&self) -> &CourseState {
        self.course
    }

    /// The view of `ecosystem`, when it is imported and referred to.
    pub fn view(&self, ecosystem: EcosystemId) -> Option<&EcosystemView> {
        self.views.get(&ecosystem).map(|v| &**v)
    }

    /// The view of the course's current ecosystem.
    pub fn current_view(&self) -> Option<&EcosystemView> {
        self.course.current_ecosystem.and_then(|e| self.view(e))
    }

    /// Every exercise version of the indexed ecosystems with its group.
    pub fn catalog(&self) -> &ExerciseCatalog {
        &self.catalog
    }

    /// The course's book-container mappings.
    pub fn mappings(&self) -> &BookContainerMappings {
        &self.mappings
    }

    /// The course's exclusion lists.
    pub fn exclusions(&self) -> &CourseExclusions {
        &self.course.exclusions
    }

    /// The student's answered trials as the scheduler's [`Response`]s.
    pub fn student_responses(&self, student: StudentId) -> Vec<Response> {
        self.answered(student)
            .map(|(trial, r)| response(trial, r))
            .collect()
    }

    /// The student's answered trials with their latest answers, in trial order.
    fn answered(&self, student: StudentId) -> impl Iterator<Item = (TrialId, &TrialResponse)> {
        self.course
            .answered_trials(student)
            .into_iter()
            .filter_map(|trial| self.course.responses.get(&trial).map(|r| (trial, r)))
    }

    /// One assignment as the scheduler's [`Assignment`], with its
    /// `student_history_at` at `now` (§1.6(a), S1 fix 6).
    pub fn assignment(&self, id: AssignmentId, now: Instant) -> Option<Assignment> {
        let state = self.course.assignments.get(&id)?;
        let responses: Vec<Response> = state
            .exercises
            .iter()
            .filter_map(|e| {
                self.course
                    .responses
                    .get(&e.trial)
                    .filter(|r| r.student == state.student)
                    .map(|r| response(e.trial, r))
            })
            .collect();
        let mut assignment = scheduler_assignment(id, state);
        assignment.student_history_at = student_history_at(&assignment, &responses, now);
        Some(assignment)
    }

    /// Every assignment of `student` (deleted ones included; the scheduler
    /// skips them), in uuid order.
    pub fn student_assignments(&self, student: StudentId, now: Instant) -> Vec<Assignment> {
        self.course
            .assignments_by_student
            .get(&student)
            .into_iter()
            .flatten()
            .filter_map(|id| self.assignment(*id, now))
            .collect()
    }

    /// The CLUE inputs of `student` at `now` (§3.1, §3.2): one per target
    /// container of its answered, assigned exercises, mapped into the
    /// course's current ecosystem; answers whose feedback is pending are
    /// hidden and set `recalculate_at`. Only rows that are written.
    pub fn student_clues(&self, student: StudentId, now: Instant) -> Vec<ClueInput> {
        self.clue_inputs(&BTreeSet::from([student]), ClueAudience::Student, now)
    }

    /// The teacher CLUE inputs of course container `container` (§3.1, §3.2):
    /// every answer of every student below it, whatever the feedback date.
    pub fn teacher_clues(&self, container: CourseContainerId, now: Instant) -> Vec<ClueInput> {
        match self.course.containers.get(&container) {
            Some(node) if !node.students.is_empty() => {
                self.clue_inputs(&node.students, ClueAudience::Teacher, now)
            }
            _ => Vec::new(),
        }
    }

    /// The responses of `students` that join an issued trial of a known
    /// assignment, as CLUE candidates with their response ecosystems.
    fn candidates(&self, students: &BTreeSet<StudentId>) -> Vec<(EcosystemId, ClueCandidate)> {
        let mut all = Vec::new();
        for student in students {
            all.extend_from_slice(&self.student_candidates(*student));
        }
        all
    }

    /// [`CourseViews::candidates`] of one student, built once for the life
    /// of these views.
    fn student_candidates(&self, student: StudentId) -> Arc<StudentCandidates> {
        if let Some(found) = self.student_candidates.borrow().get(&student) {
            return Arc::clone(found);
        }
        let built: StudentCandidates = self
            .answered(student)
            .filter_map(|(trial, r)| {
                let issued = self.course.trials.get(&trial)?;
                let assignment = self.course.assignments.get(&issued.assignment)?;
                Some((
                    r.ecosystem,
                    ClueCandidate {
                        response: r.response,
                        trial,
                        student: r.student,
                        exercise: r.exercise,
                        is_correct: r.is_correct,
                        last_responded_at: r.last_responded_at,
                        feedback_visible_at: assignment.feedback_visible_at(),
                    },
                ))
            })
            .collect();
        let built = Arc::new(built);
        self.student_candidates
            .borrow_mut()
            .insert(student, Arc::clone(&built));
        built
    }

    /// The ecosystem of the latest preparation from the current ecosystem
    /// that the course has not switched to yet, when it is imported: its
    /// re-mapped CLUE rows are kept ready before the switch (S1 fix 11).
    pub fn pending_ecosystem(&self) -> Option<EcosystemId> {
        self.course
            .pending_preparation()
            .map(|(_, p)| p.ecosystem)
            .filter(|e| self.views.contains_key(e))
    }

    /// [`CourseViews::student_clues`] re-mapped into `ecosystem` instead of
    /// the current one (the prepared ecosystem's rows, S1 fix 11).
    pub fn student_clues_in(
        &self,
        student: StudentId,
        ecosystem: EcosystemId,
        now: Instant,
    ) -> Vec<ClueInput> {
        let students = BTreeSet::from([student]);
        self.clue_inputs_in(&students, ClueAudience::Student, ecosystem, now, None)
    }

    /// [`CourseViews::teacher_clues`] re-mapped into `ecosystem` instead of
    /// the current one (the prepared ecosystem's rows, S1 fix 11).
    pub fn teacher_clues_in(
        &self,
        container: CourseContainerId,
        ecosystem: EcosystemId,
        now: Instant,
    ) -> Vec<ClueInput> {
        match self.course.containers.get(&container) {
            Some(node) if !node.students.is_empty() => {
                self.clue_inputs_in(&node.students, ClueAudience::Teacher, ecosystem, now, None)
            }
            _ => Vec::new(),
        }
    }

    /// [`CourseViews::student_clues`] on the targets in `only`.
    pub fn student_clues_on(
        &self,
        student: StudentId,
        now: Instant,
        only: &BTreeSet<BookContainerId>,
    ) -> Vec<ClueInput> {
        let students = BTreeSet::from([student]);
        match self.course.current_ecosystem {
            Some(current) => {
                self.clue_inputs_in(&students, ClueAudience::Student, current, now, Some(only))
            }
            None => Vec::new(),
        }
    }

    /// [`CourseViews::teacher_clues`] on the targets in `only`.
    pub fn teacher_clues_on(
        &self,
        container: CourseContainerId,
        now: Instant,
        only: &BTreeSet<BookContainerId>,
    ) -> Vec<ClueInput> {
        match (
            self.course.containers.get(&container),
            self.course.current_ecosystem,
        ) {
            (Some(node), Some(current)) if !node.students.is_empty() => self.clue_inputs_in(
                &node.students,
                ClueAudience::Teacher,
                current,
                now,
                Some(only),
            ),
            _ => Vec::new(),
        }
    }

    /// The targets in the current ecosystem whose CLUE pool holds
    /// `exercise`: a container of any ecosystem holding it, or one such a
    /// container maps to, whose pool (§3.1: its own and its sources',
    /// minus exclusions) holds it.
    pub fn pool_targets(&self, exercise: ExerciseId) -> Vec<BookContainerId> {
        let Some(current) = self.course.current_ecosystem else {
            return Vec::new();
        };
        let mut targets = Vec::new();
        for view in self.views.values() {
            for bc in view.book_containers_of(exercise) {
                targets.push(*bc);
                targets.extend(
                    self.mappings
                        .iter()
                        .filter(|m| m.to_ecosystem == current && m.from_book_container == *bc)
                        .map(|m| m.to_book_container),
                );
            }
        }
        targets.sort_unstable();
        targets.dedup();
        targets.retain(|t| self.clue_pool_holds(*t, exercise));
        targets
    }

    /// The CLUE targets in the current ecosystem of an answer to
    /// `answered` (§3.1): the containers holding the exercise in the
    /// answer's ecosystem, mapped forward.
    pub fn answer_targets(&self, answered: AnsweredExercise) -> Vec<BookContainerId> {
        let (Some(current), Some(view)) =
            (self.course.current_ecosystem, self.view(answered.ecosystem))
        else {
            return Vec::new();
        };
        view.book_containers_of(answered.exercise)
            .iter()
            .map(|bc| clue_target(&self.mappings, answered.ecosystem, *bc, current))
            .collect()
    }

    /// Whether the CLUE of `target` (in the current ecosystem) counts
    /// answers to `exercise`.
    pub fn clue_pool_holds(&self, target: BookContainerId, exercise: ExerciseId) -> bool {
        self.course
            .current_ecosystem
            .and_then(|current| self.clue_pool(target, current))
            .is_some_and(|pool| pool.set.contains(&exercise))
    }

    fn clue_inputs(
        &self,
        students: &BTreeSet<StudentId>,
        audience: ClueAudience,
        now: Instant,
    ) -> Vec<ClueInput> {
        match self.course.current_ecosystem {
            Some(current) => self.clue_inputs_in(students, audience, current, now, None),
            None => Vec::new(),
        }
    }

    fn targets_of(
        &self,
        candidates: &[(EcosystemId, ClueCandidate)],
        current: EcosystemId,
    ) -> BTreeSet<BookContainerId> {
        let mut targets = BTreeSet::new();
        for (ecosystem, candidate) in candidates {
            if let Some(view) = self.view(*ecosystem) {
                for bc in view.book_containers_of(candidate.exercise) {
                    targets.insert(clue_target(&self.mappings, *ecosystem, *bc, current));
                }
            }
        }
        targets
    }

    /// The written CLUE inputs of `students` in `current`, on every target
    /// or on those in `only`.
    fn clue_inputs_in(
        &self,
        students: &BTreeSet<StudentId>,
        audience: ClueAudience,
        current: EcosystemId,
        now: Instant,
        only: Option<&BTreeSet<BookContainerId>>,
    ) -> Vec<ClueInput> {
        let candidates = self.candidates(students);
        let mut targets = self.targets_of(&candidates, current);
        if let Some(only) = only {
            targets.retain(|t| only.contains(t));
        }
        let candidates: Vec<ClueCandidate> = candidates.into_iter().map(|(_, c)| c).collect();
        // Each target reads only the candidates on its pool's exercises, in
        // their original order (the selection's sort is stable), instead of
        // scanning every candidate of every student once per target.
        let mut by_exercise: FastHashMap<ExerciseId, Vec<usize>> = FastHashMap::default();
        for (i, candidate) in candidates.iter().enumerate() {
            by_exercise.entry(candidate.exercise).or_default().push(i);
        }
        let mut inputs = Vec::new();
        let mut positions: Vec<usize> = Vec::new();
        for target in targets {
            let Some(pool) = self.clue_pool(target, current) else {
                continue;
            };
            positions.clear();
            for exercise in &pool.list {
                if let Some(found) = by_exercise.get(exercise) {
                    positions.extend_from_slice(found);
                }
            }
            positions.sort_unstable();
            let on_pool: Vec<ClueCandidate> = positions.iter().map(|&i| candidates[i]).collect();
            let responses =
                select_clue_responses(&on_pool, &pool.set, &self.catalog, audience, now);
            if responses.is_written(audience) {
                inputs.push(ClueInput {
                    book_container: target,
                    ecosystem: current,
                    exercises: pool.list.clone(),
                    responses,
                });
            }
        }
        inputs
    }

    /// [`clue_exercises`] of `target` in `current`, computed once per
    /// target for the life of these views.
    fn clue_pool(&self, target: BookContainerId, current: EcosystemId) -> Option<Rc<CluePool>> {
        if let Some(pool) = self.clue_pools.borrow().get(&(target, current)) {
            return pool.clone();
        }
        let views: Vec<&EcosystemView> = self.views.values().map(|v| &**v).collect();
        let pool = clue_exercises(
            target,
            current,
            &views,
            &self.mappings,
            &self.course.exclusions,
            &self.catalog,
        )
        .map(|list| {
            let set = list.iter().copied().collect();
            Rc::new(CluePool { list, set })
        });
        self.clue_pools
            .borrow_mut()
            .insert((target, current), pool.clone());
        pool
    }
}

fn response(trial: crate::ids::TrialId, r: &TrialResponse) -> Response {
    Response {
        trial,
        exercise: r.exercise,
        is_correct: r.is_correct,
        first_responded_at: r.first_responded_at,
        last_responded_at: r.last_responded_at,
    }
}

/// The scheduler's [`Assignment`] of a projected one (without its history
/// date, which needs responses and `now`).
fn scheduler_assignment(id: AssignmentId, a: &AssignmentState) -> Assignment {
    Assignment {
        id,
        ecosystem: a.ecosystem,
        assignment_type: AssignmentType::new(a.assignment_type.as_str()),
        created_at: Instant::from(&a.created_at),
        opens_at: a.opens_at.as_ref().map(Instant::from),
        due_at: a.due_at.as_ref().map(Instant::from),
        feedback_at: a.feedback_at.as_ref().map(Instant::from),
        book_containers: a.book_containers.clone(),
        exercises: a.exercises.clone(),
        goal_num_pes: a.goal_num_pes,
        goal_num_spes: a.goal_num_spes,
        pes_are_assigned: a.pes_are_assigned,
        spes_are_assigned: a.spes_are_assigned,
        is_deleted: a.is_deleted,
        student_history_at: None,
    }
}
