//! The lookups of [`CourseIndex`] on a [`CourseState`]: kept up to date as
//! events apply, rebuilt after a state is read back, and a scan whenever
//! the index does not cover the state.

use std::collections::{BTreeMap, BTreeSet};

use super::assignment::AssignmentState;
use super::course::CourseState;
use super::index::{wakes_of, CourseIndex};
use crate::ids::{AssignmentId, EcosystemId, StudentId, TrialId};
use crate::time::Instant;

impl CourseState {
    pub(crate) fn index_valid(&self) -> bool {
        self.index.trials == self.trials.len()
            && self.index.responses == self.responses.len()
            && self.index.assignments == self.assignments.len()
    }

    /// Rebuilds the derived lookups (after deserializing a state).
    pub fn reindex(&mut self) {
        let mut index = CourseIndex {
            trials: self.trials.len(),
            responses: self.responses.len(),
            assignments: self.assignments.len(),
            ..CourseIndex::default()
        };
        for (id, a) in &self.assignments {
            *index.ecosystem_refs.entry(a.ecosystem).or_insert(0) += 1;
            index.wakes.extend(wakes_of(*id, a));
        }
        for (trial, t) in &self.trials {
            index
                .trials_by_assignment
                .entry(t.assignment)
                .or_default()
                .insert(*trial);
        }
        for (trial, r) in &self.responses {
            index
                .answered_by_student
                .entry(r.student)
                .or_default()
                .insert(*trial);
            *index.ecosystem_refs.entry(r.ecosystem).or_insert(0) += 1;
        }
        self.index = index;
    }

    /// The trials `assignment` issued (its latest update's and any an
    /// earlier update issued), in trial order.
    pub fn issued_trials(&self, assignment: AssignmentId) -> Vec<TrialId> {
        let indexed = self.index.trials_by_assignment.get(&assignment);
        self.trials_where(indexed, &self.trials, |t| t.assignment == assignment)
    }

    /// The trials whose latest answer is `student`'s, in trial order.
    pub fn answered_trials(&self, student: StudentId) -> Vec<TrialId> {
        let indexed = self.index.answered_by_student.get(&student);
        self.trials_where(indexed, &self.responses, |r| r.student == student)
    }

    /// The `indexed` trials while the index is valid, else the trials of
    /// `all` whose value is `wanted`.
    fn trials_where<T>(
        &self,
        indexed: Option<&BTreeSet<TrialId>>,
        all: &BTreeMap<TrialId, T>,
        wanted: impl Fn(&T) -> bool,
    ) -> Vec<TrialId> {
        if self.index_valid() {
            return indexed
                .map(|set| set.iter().copied().collect())
                .unwrap_or_default();
        }
        all.iter()
            .filter(|(_, value)| wanted(value))
            .map(|(trial, _)| *trial)
            .collect()
    }

    /// Records that `trial` was issued by `assignment` (just inserted into
    /// `trials`); `was_valid` is whether the index was valid before.
    pub(crate) fn index_trial(
        &mut self,
        was_valid: bool,
        trial: TrialId,
        assignment: AssignmentId,
    ) {
        if !was_valid {
            return;
        }
        self.index
            .trials_by_assignment
            .entry(assignment)
            .or_default()
            .insert(trial);
        self.index.trials = self.trials.len();
    }

    /// The ecosystems of the course's assignments and latest answers, sorted.
    pub fn referenced_ecosystems(&self) -> Vec<EcosystemId> {
        if self.index_valid() {
            return self.index.ecosystem_refs.keys().copied().collect();
        }
        let mut ids: BTreeSet<EcosystemId> =
            self.assignments.values().map(|a| a.ecosystem).collect();
        ids.extend(self.responses.values().map(|r| r.ecosystem));
        ids.into_iter().collect()
    }

    fn count_ecosystem(&mut self, old: Option<EcosystemId>, new: EcosystemId) {
        if let Some(old) = old {
            if let Some(n) = self.index.ecosystem_refs.get_mut(&old) {
                *n -= 1;
                if *n == 0 {
                    self.index.ecosystem_refs.remove(&old);
                }
            }
        }
        *self.index.ecosystem_refs.entry(new).or_insert(0) += 1;
    }

    /// Records that assignment `id` was stored, replacing `old`;
    /// `was_valid` as for [`CourseState::index_trial`].
    pub(crate) fn index_assignment(
        &mut self,
        was_valid: bool,
        id: AssignmentId,
        old: Option<&AssignmentState>,
    ) {
        if !was_valid {
            return;
        }
        let Some(new) = self.assignments.get(&id) else {
            return;
        };
        let ecosystem = new.ecosystem;
        let added: Vec<_> = wakes_of(id, new).collect();
        if let Some(old) = old {
            for key in wakes_of(id, old) {
                self.index.wakes.remove(&key);
            }
        }
        self.index.wakes.extend(added);
        self.count_ecosystem(old.map(|o| o.ecosystem), ecosystem);
        self.index.assignments = self.assignments.len();
    }

    /// The assignments with a change instant in `(since, until]`, with
    /// repeats, in instant order.
    pub fn assignments_changing(&self, since: Instant, until: Instant) -> Vec<AssignmentId> {
        if since >= until {
            return Vec::new();
        }
        if self.index_valid() {
            return self
                .index
                .wakes
                .range((since, AssignmentId::from_uuid(uuid::Uuid::nil()))..)
                .take_while(|(t, _)| *t <= until)
                .filter(|(t, _)| since < *t)
                .map(|(_, id)| *id)
                .collect();
        }
        self.assignments
            .iter()
            .filter(|(_, a)| !a.is_deleted)
            .filter(|(_, a)| a.change_instants().any(|t| since < t && t <= until))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The earliest change instant after `now` of an assignment `keep`
    /// accepts.
    pub fn next_change_after(
        &self,
        now: Instant,
        keep: impl Fn(&AssignmentState) -> bool,
    ) -> Option<Instant> {
        if self.index_valid() {
            return self
                .index
                .wakes
                .range((now, AssignmentId::from_uuid(uuid::Uuid::max()))..)
                .filter(|(t, _)| *t > now)
                .find(|(_, id)| self.assignments.get(id).is_some_and(&keep))
                .map(|(t, _)| *t);
        }
        self.assignments
            .values()
            .filter(|a| !a.is_deleted && keep(a))
            .flat_map(AssignmentState::change_instants)
            .filter(|t| *t > now)
            .min()
    }

    /// Records that `trial`'s latest answer is now `new` (replacing
    /// `previous`); `was_valid` as for [`CourseState::index_trial`].
    pub(crate) fn index_response(
        &mut self,
        was_valid: bool,
        trial: TrialId,
        previous: Option<(StudentId, EcosystemId)>,
        new: (StudentId, EcosystemId),
    ) {
        if !was_valid {
            return;
        }
        let (student, ecosystem) = new;
        self.count_ecosystem(previous.map(|p| p.1), ecosystem);
        let previous = previous.map(|p| p.0);
        if let Some(old) = previous.filter(|old| *old != student) {
            if let Some(set) = self.index.answered_by_student.get_mut(&old) {
                set.remove(&trial);
                if set.is_empty() {
                    self.index.answered_by_student.remove(&old);
                }
            }
        }
        self.index
            .answered_by_student
            .entry(student)
            .or_default()
            .insert(trial);
        self.index.responses = self.responses.len();
    }
}
