//! Practice worst areas (scheduler.md §2.7) of one recalculation, from the
//! CLUE values the engine wrote last when it has them.

use std::collections::BTreeSet;

use super::{delete_exercises, pe_names, put_exercises, spy, Context, Outcome, StudentInputs};
use crate::engine::algs::Builtin;
use crate::engine_store::{ExerciseResult, ExerciseTarget};
use crate::ids::{BookContainerId, EcosystemId, StudentId};
use crate::log::SequenceNumber;
use crate::scheduler::{
    practice_worst_areas, BuiltinAlgorithm, ExerciseOrderRequest, PriorityOrder, StudentClue,
};

impl Context<'_, '_, '_, '_> {
    /// Practice worst areas of one student (§2.7) from each algorithm's own
    /// CLUEs in the course's current ecosystem, for both algorithms or
    /// `only` one; a student no longer on the roster has its rows retired.
    pub(super) fn worst_areas(
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

    /// The student's CLUEs calculated from its inputs (known values are
    /// reused, and the ones calculated here are remembered).
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
}
