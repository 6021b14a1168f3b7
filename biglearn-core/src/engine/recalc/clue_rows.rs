//! The CLUE rows of one recalculation: which targets an owner's marks
//! recalculate ([`Plan`]), the targets changed answers count for
//! (scheduler.md §3.1), and the rows written, kept and retired.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::super::clue_owner::{ClueOwner, Marks};
use super::{clue_responses, pe_names, Context, Outcome};
use crate::engine::algs::Builtin;
use crate::engine_store::{ClueKey, ClueResult, ClueTarget, ResultWrite, SpyInfo};
use crate::fast_hash::FastHashMap;
use crate::ids::{BookContainerId, ExerciseId, StudentId};
use crate::log::SequenceNumber;
use crate::projection::{AnsweredExercise, ClueInput};
use crate::scheduler::{BuiltinAlgorithm, ClueData, ClueRequest};

/// How an owner's CLUEs are recalculated in one pass.
pub(super) enum Plan<'d> {
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

impl Context<'_, '_, '_, '_> {
    /// Forgets the values of a student's retired CLUE rows.
    pub(super) fn forget_clues<'b>(
        &self,
        student: StudentId,
        retired: impl Iterator<Item = &'b BookContainerId>,
    ) {
        let mut values = self.clue_values.borrow_mut();
        for book_container in retired {
            for alg in BuiltinAlgorithm::ALL {
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
    pub(super) fn plan<'d>(&self, marks: Marks<'d>, exists: bool) -> Plan<'d> {
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

    /// Recalculates an owner's CLUE rows per `plan`, with its inputs: on
    /// some targets, every current one, and the prepared ecosystem's.
    /// Returns the containers kept.
    pub(super) fn owner_rows(
        &self,
        owner: &ClueOwner,
        old: &BTreeSet<BookContainerId>,
        plan: Plan<'_>,
        (on, all, next): (
            impl FnOnce(&BTreeSet<BookContainerId>) -> Vec<ClueInput>,
            impl FnOnce() -> Rc<Vec<ClueInput>>,
            impl FnOnce() -> Vec<ClueInput>,
        ),
        out: &mut Outcome,
    ) -> BTreeSet<BookContainerId> {
        match plan {
            Plan::Answers(targets) => {
                let current = on(&targets.keys().copied().collect());
                self.answer_clues(owner, &current, old, &targets, out)
            }
            Plan::All(marks, answered, only) => {
                let current = all();
                self.owner_clues(owner, &current, next(), old, (marks, &answered, only), out)
            }
        }
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

    pub(super) fn clue(
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
        alg.clue(&request)
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
