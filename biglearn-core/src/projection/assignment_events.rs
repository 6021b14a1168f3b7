//! create_update_assignment and record_response on a [`CourseState`]
//! (scheduler.md §1.4, §1.6, README S3, sparfa.md §3.3, S1 fix 14).

use std::collections::BTreeSet;

use super::assignment::{AssignmentState, TrialResponse, TrialState};
use super::changes::{AnsweredExercise, CourseChanges};
use super::course::CourseState;
use super::ecosystem::{check_ecosystem, EcosystemCatalog};
use super::problems::{Issues, ProblemKind};
use crate::events::{CreateUpdateAssignment, Datetime, RecordResponse};
use crate::ids::{AssignmentId, StudentId};
use crate::log::SequenceNumber;
use crate::scheduler::AssignedExercise;
use crate::time::Instant;

impl CourseState {
    pub(crate) fn create_update_assignment(
        &mut self,
        body: &CreateUpdateAssignment,
        seq: SequenceNumber,
        catalog: &impl EcosystemCatalog,
        changes: &mut CourseChanges,
        issues: &mut Issues,
    ) {
        let id = body.assignment_uuid;
        let ecosystem = catalog
            .ecosystem(body.ecosystem_uuid)
            .filter(|e| e.imported);
        if check_ecosystem(catalog, body.ecosystem_uuid, "the assignment's", issues) {
            if let Some(eco) = ecosystem {
                for e in &body.assigned_exercises {
                    if !eco.contains_exercise(e.exercise_uuid) {
                        issues.push((
                            ProblemKind::ExerciseNotInEcosystem,
                            format!(
                                "assignment {id}: exercise {} of trial {} is not in ecosystem {}",
                                e.exercise_uuid, e.trial_uuid, body.ecosystem_uuid
                            ),
                        ));
                    }
                }
                for bc in &body.assigned_book_container_uuids {
                    if !eco.contains_book_container(*bc) {
                        issues.push((
                            ProblemKind::BookContainerNotInEcosystem,
                            format!(
                                "assignment {id}: book container {bc} is not in ecosystem {}",
                                body.ecosystem_uuid
                            ),
                        ));
                    }
                }
            }
        }
        let info = body.exclusion_info.as_option();
        let date = |pick: fn(&crate::events::ExclusionInfo) -> Option<&Datetime>| {
            info.and_then(pick).cloned()
        };
        let mut book_containers = Vec::new();
        for bc in &body.assigned_book_container_uuids {
            if !book_containers.contains(bc) {
                book_containers.push(*bc);
            }
        }
        let new = AssignmentState {
            student: body.student_uuid,
            ecosystem: body.ecosystem_uuid,
            assignment_type: body.assignment_type.clone(),
            created_at: body.created_at.clone(),
            updated_at: body.updated_at.clone(),
            opens_at: date(|i| i.opens_at.as_option()),
            due_at: date(|i| i.due_at.as_option()),
            feedback_at: date(|i| i.feedback_at.as_option()),
            closes_at: date(|i| i.closes_at.as_option()),
            book_containers,
            exercises: body
                .assigned_exercises
                .iter()
                .map(|e| AssignedExercise {
                    trial: e.trial_uuid,
                    exercise: e.exercise_uuid,
                    is_pe: e.is_pe,
                    is_spe: e.is_spe,
                })
                .collect(),
            goal_num_pes: body.goal_num_tutor_assigned_pes.as_option().copied(),
            goal_num_spes: body.goal_num_tutor_assigned_spes.as_option().copied(),
            pes_are_assigned: body.pes_are_assigned,
            spes_are_assigned: body.spes_are_assigned,
            is_deleted: body.is_deleted,
            pes_calculation: body
                .pes
                .as_option()
                .and_then(|p| p.calculation_uuid.as_option().copied()),
            spes_calculation: body
                .spes
                .as_option()
                .and_then(|p| p.calculation_uuid.as_option().copied()),
            sequence_number: seq,
        };
        let old = self.assignments.get(&id).cloned();
        if let Some(old) = &old {
            if old.student != new.student {
                issues.push((
                    ProblemKind::AssignmentStudentChanged,
                    format!(
                        "assignment {id} moved from student {} to student {}",
                        old.student, new.student
                    ),
                ));
                if let Some(set) = self.assignments_by_student.get_mut(&old.student) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.assignments_by_student.remove(&old.student);
                    }
                }
            }
        }
        let mut joined_answered = false;
        for e in &new.exercises {
            match self.trials.get(&e.trial) {
                Some(trial) if trial.assignment != id => issues.push((
                    ProblemKind::TrialReused,
                    format!(
                        "assignment {id}: trial {} was issued by assignment {} already",
                        e.trial, trial.assignment
                    ),
                )),
                existing => {
                    // A trial of this assignment follows its latest update;
                    // trials dropped from a later update stay issued (their
                    // answers keep counting), as the original never deletes them.
                    if existing.is_none() {
                        if let Some(r) = self.responses.get(&e.trial) {
                            // The answer moves from its student's part to
                            // this assignment's.
                            joined_answered = true;
                            self.touched.students.insert(r.student);
                        }
                    }
                    let was_valid = self.index_valid();
                    self.trials.insert(
                        e.trial,
                        TrialState {
                            assignment: id,
                            exercise: e.exercise,
                            is_pe: e.is_pe,
                            is_spe: e.is_spe,
                        },
                    );
                    self.index_trial(was_valid, e.trial, id);
                }
            }
        }
        let dates_changed = old.as_ref().map_or(true, |o| {
            (&o.opens_at, &o.due_at, &o.feedback_at, o.is_deleted)
                != (&new.opens_at, &new.due_at, &new.feedback_at, new.is_deleted)
        });
        let trials_changed = old.as_ref().map_or(true, |o| o.exercises != new.exercises);
        let answered = new
            .exercises
            .iter()
            .any(|e| self.responses.contains_key(&e.trial));
        if new.needs_pes_or_spes() || (new.is_deleted && old.is_some()) {
            changes.assignment_exercises.insert(id);
        }
        let student = new.student;
        self.assignments_by_student
            .entry(student)
            .or_default()
            .insert(id);
        let was_valid = self.index_valid();
        self.assignments.insert(id, new);
        self.index_assignment(was_valid, id, old.as_ref());
        self.touched.assignments.insert(id);
        if dates_changed || trials_changed {
            // Anti-cheating and de-duplication (§2.2, §2.9) and the SPE
            // history read this assignment's trials and dates.
            changes.worst_areas.insert(student);
            changes
                .assignment_exercises
                .extend(self.needing_assignments(student));
        }
        if joined_answered || (dates_changed && answered) {
            self.mark_clues_of(student, changes);
        }
    }

    pub(crate) fn record_response(
        &mut self,
        body: &RecordResponse,
        seq: SequenceNumber,
        catalog: &impl EcosystemCatalog,
        changes: &mut CourseChanges,
        issues: &mut Issues,
    ) {
        let trial = self.trials.get(&body.trial_uuid).copied();
        let mut group = None;
        if check_ecosystem(catalog, body.ecosystem_uuid, "the response's", issues) {
            group = catalog
                .ecosystem(body.ecosystem_uuid)
                .and_then(|e| e.group_of(body.exercise_uuid));
            if group.is_none() {
                issues.push((
                    ProblemKind::ExerciseNotInEcosystem,
                    format!(
                        "response {}: exercise {} is not in ecosystem {}",
                        body.response_uuid, body.exercise_uuid, body.ecosystem_uuid
                    ),
                ));
            }
        }
        match trial {
            None => issues.push((
                ProblemKind::UnknownTrial,
                format!(
                    "response {}: trial {} was not issued by any assignment; stored, but \
                     unused until an assignment issues it",
                    body.response_uuid, body.trial_uuid
                ),
            )),
            Some(t) => {
                let student = self.assignments.get(&t.assignment).map(|a| a.student);
                if t.exercise != body.exercise_uuid || student != Some(body.student_uuid) {
                    issues.push((
                        ProblemKind::TrialMismatch,
                        format!(
                            "response {}: trial {} issued exercise {} to {:?}, answered as \
                             exercise {} by student {}",
                            body.response_uuid,
                            body.trial_uuid,
                            t.exercise,
                            student,
                            body.exercise_uuid,
                            body.student_uuid
                        ),
                    ));
                }
                if group.is_none() {
                    group = self
                        .assignments
                        .get(&t.assignment)
                        .and_then(|a| catalog.ecosystem(a.ecosystem))
                        .and_then(|e| e.group_of(body.exercise_uuid));
                }
            }
        }
        let at = Instant::from(&body.responded_at);
        let previous = self.responses.get(&body.trial_uuid).copied();
        let latest = previous.map_or(true, |p| {
            (at, seq) >= (p.last_responded_at, p.sequence_number)
        });
        let mut stored = match previous {
            Some(p) if !latest => p,
            _ => TrialResponse {
                response: body.response_uuid,
                student: body.student_uuid,
                exercise: body.exercise_uuid,
                ecosystem: body.ecosystem_uuid,
                is_correct: body.is_correct,
                is_real: body.is_real_response,
                first_responded_at: at,
                last_responded_at: at,
                sequence_number: seq,
                counted_real: false,
            },
        };
        if let Some(p) = previous {
            stored.first_responded_at = p.first_responded_at.min(at);
            stored.counted_real = p.counted_real;
        }
        if body.is_real_response && !stored.counted_real {
            stored.counted_real = true;
            if let Some(group) = group {
                *changes.group_response_counts.entry(group).or_insert(0) += 1;
            }
        }
        if body.is_real_response {
            self.record_first_real(body, at, changes);
        }
        let changed = previous != Some(stored);
        if changed {
            match trial {
                Some(t) => self.touched.assignments.insert(t.assignment),
                None => self.touched.students.insert(stored.student),
            };
        }
        let was_valid = self.index_valid();
        self.responses.insert(body.trial_uuid, stored);
        self.index_response(
            was_valid,
            body.trial_uuid,
            previous.map(|p| (p.student, p.ecosystem)),
            (stored.student, stored.ecosystem),
        );
        if changed && trial.is_some() {
            let student = body.student_uuid;
            // The CLUEs this answer (and the one it replaced) can count for.
            let answered = previous
                .into_iter()
                .chain([stored])
                .map(|r| AnsweredExercise {
                    ecosystem: r.ecosystem,
                    exercise: r.exercise,
                });
            if self.preparation_pending() {
                // The prepared ecosystem's rows are re-mapped from every
                // answer (S1 fix 11): all of them are recalculated.
                self.mark_clues_of(student, changes);
            } else {
                self.mark_answers_of(student, answered, changes);
            }
            changes.worst_areas.insert(student);
            changes
                .assignment_exercises
                .extend(self.needing_assignments(student));
        }
    }

    /// Reports a real answer as fitting data (sparfa.md §3.3): the store
    /// keeps the earliest per (ecosystem, student, exercise) across courses
    /// (`responded_at`, then response uuid), so the course keeps no copy.
    fn record_first_real(
        &mut self,
        body: &RecordResponse,
        at: Instant,
        changes: &mut CourseChanges,
    ) {
        changes.fit_responses.push(crate::gradebook::FitResponse {
            ecosystem: body.ecosystem_uuid,
            student: body.student_uuid,
            exercise: body.exercise_uuid,
            responded_at: at,
            response: body.response_uuid,
            is_correct: body.is_correct,
        });
    }

    /// Marks the student's CLUEs and the teacher CLUEs of its containers.
    fn mark_clues_of(&self, student: StudentId, changes: &mut CourseChanges) {
        changes.student_clues.insert(student);
        changes
            .teacher_clues
            .extend(self.student_containers(student).iter().copied());
    }

    /// Marks the student's CLUEs and the teacher CLUEs of its containers
    /// on the book containers `answered` can count for (§3.1).
    fn mark_answers_of(
        &self,
        student: StudentId,
        answered: impl Iterator<Item = AnsweredExercise>,
        changes: &mut CourseChanges,
    ) {
        let answered: BTreeSet<AnsweredExercise> = answered.collect();
        for container in self.student_containers(student) {
            changes
                .teacher_answers
                .entry(*container)
                .or_default()
                .extend(answered.iter().copied());
        }
        changes
            .student_answers
            .entry(student)
            .or_default()
            .extend(answered);
    }

    /// The student's assignments that need PEs or SPEs.
    fn needing_assignments(&self, student: StudentId) -> BTreeSet<AssignmentId> {
        self.assignments_by_student
            .get(&student)
            .into_iter()
            .flatten()
            .filter(|id| {
                self.assignments
                    .get(id)
                    .is_some_and(|a| a.needs_pes_or_spes())
            })
            .copied()
            .collect()
    }
}
