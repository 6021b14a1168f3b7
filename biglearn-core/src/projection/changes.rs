//! Dirty markers: what an applied course event requires to be recalculated
//! (scheduler.md §1.6, §3.3), and the refit trigger counts of §1.6(c).
//!
//! Rules, per event (S1 fixes in brackets):
//!
//! | Event | Marked |
//! |---|---|
//! | create_course | nothing (no students yet) |
//! | prepare_course_ecosystem | the preparation, for its precompute (S1 fix 11); when it resolves a parked switch, also as update_course_ecosystem (fix 13) |
//! | update_course_ecosystem | every student's CLUEs and worst areas, every container's teacher CLUEs (fix 4); `ecosystem_changed` |
//! | update_roster | teacher CLUEs of every container before and after (fix 15); CLUEs and worst areas of students added, moved or removed |
//! | update_course_active_dates | nothing |
//! | exclusions (when the list changed) | every student's CLUEs and worst areas, every container's teacher CLUEs (fix 7), PEs/SPEs of every assignment that needs them |
//! | create_update_assignment | the assignment's PEs/SPEs when it needs them or was just deleted (fix 2: its results are retired); the student's other assignments needing PEs/SPEs and worst areas when its trials or dates changed (anti-cheating, §2.9); CLUEs of the student and its containers when answered trials of it changed dates or joined |
//! | record_response (when the trial's latest or first answer changed) | the student's CLUEs and the teacher CLUEs of its containers on the book containers the answered exercise can count for (§3.1: `student_answers`, `teacher_answers`), its worst areas, PEs/SPEs of every assignment of the student that needs them (§1.6(a)); the group's real-response count on a trial's first real answer (fix 14) |
//!
//! A removed student or container is still listed, so that its rows can be
//! retired.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{
    AssignmentId, CourseContainerId, EcosystemId, ExerciseGroupId, ExerciseId, PreparationId,
    StudentId,
};
use crate::scheduler::constants::next_update_response_count;

/// What one applied course event (or several, merged) requires to be
/// recalculated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseChanges {
    /// Whether the event changed the state at all (false for replays,
    /// skipped and no_op events).
    pub applied: bool,
    /// Students whose CLUEs must all be recalculated.
    pub student_clues: BTreeSet<StudentId>,
    /// Course containers whose teacher CLUEs must all be recalculated.
    pub teacher_clues: BTreeSet<CourseContainerId>,
    /// Students with changed answers: only their CLUEs on the book
    /// containers these answers can count for must be recalculated (§3.1).
    #[serde(default)]
    pub student_answers: BTreeMap<StudentId, BTreeSet<AnsweredExercise>>,
    /// Course containers with changed answers below them: only their
    /// teacher CLUEs on the book containers these can count for.
    #[serde(default)]
    pub teacher_answers: BTreeMap<CourseContainerId, BTreeSet<AnsweredExercise>>,
    /// Assignments whose PEs/SPEs must be recalculated.
    pub assignment_exercises: BTreeSet<AssignmentId>,
    /// Students whose practice worst areas must be recalculated.
    pub worst_areas: BTreeSet<StudentId>,
    /// How many trials newly got a real response, per exercise group (the
    /// increase of the group's real-response count, S1 fix 14).
    pub group_response_counts: BTreeMap<ExerciseGroupId, u64>,
    /// The course's new current ecosystem, when it switched.
    pub ecosystem_changed: Option<EcosystemId>,
    /// Preparations whose precompute (the prepared ecosystem's default
    /// ordering and re-mapped CLUE rows) must run (S1 fix 11).
    pub preparations: BTreeSet<PreparationId>,
    /// First real responses per (ecosystem, student, exercise) that are new
    /// or earlier than the stored ones: the refit's data (F4).
    #[serde(default)]
    pub fit_responses: Vec<crate::gradebook::FitResponse>,
}

impl CourseChanges {
    /// Adds `other`'s markers to these (for a batch of events).
    pub fn merge(&mut self, other: CourseChanges) {
        self.applied |= other.applied;
        self.student_clues.extend(other.student_clues);
        self.teacher_clues.extend(other.teacher_clues);
        for (student, answers) in other.student_answers {
            self.student_answers
                .entry(student)
                .or_default()
                .extend(answers);
        }
        for (container, answers) in other.teacher_answers {
            self.teacher_answers
                .entry(container)
                .or_default()
                .extend(answers);
        }
        self.assignment_exercises.extend(other.assignment_exercises);
        self.worst_areas.extend(other.worst_areas);
        for (group, count) in other.group_response_counts {
            *self.group_response_counts.entry(group).or_insert(0) += count;
        }
        self.preparations.extend(other.preparations);
        self.fit_responses.extend(other.fit_responses);
        if other.ecosystem_changed.is_some() {
            self.ecosystem_changed = other.ecosystem_changed;
        }
    }

    /// Whether nothing must be recalculated.
    pub fn is_empty(&self) -> bool {
        self.student_clues.is_empty()
            && self.teacher_clues.is_empty()
            && self.student_answers.is_empty()
            && self.teacher_answers.is_empty()
            && self.assignment_exercises.is_empty()
            && self.worst_areas.is_empty()
            && self.group_response_counts.is_empty()
            && self.ecosystem_changed.is_none()
            && self.preparations.is_empty()
            && self.fit_responses.is_empty()
    }
}

/// An answered exercise with the ecosystem of the answer: a response on it
/// can count for the CLUEs of the book containers holding it in that
/// ecosystem (mapped into the course's current one) and of every container
/// whose CLUE pool holds it (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AnsweredExercise {
    /// The ecosystem the response was given in.
    pub ecosystem: EcosystemId,
    /// The exercise answered.
    pub exercise: ExerciseId,
}

/// One exercise group's refit counter (the ExerciseGroup row of §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCount {
    /// Distinct trials with a real response, across courses and versions.
    pub response_count: u64,
    /// The count at which the group next triggers a refit.
    pub next_update_response_count: u64,
    /// Whether a refit is due (`response_count >= next_update_response_count`,
    /// or the group was newly imported).
    pub trigger: bool,
}

impl Default for GroupCount {
    /// A newly imported group: count 0, threshold 1, triggered (§1.3).
    fn default() -> Self {
        GroupCount {
            response_count: 0,
            next_update_response_count: next_update_response_count(0),
            trigger: true,
        }
    }
}

/// The refit counters of every exercise group (scheduler.md §1.6(c), F4):
/// fed by [`CourseChanges::group_response_counts`] of every course.
///
/// ```
/// use biglearn_core::ids::ExerciseGroupId;
/// use biglearn_core::projection::ExerciseGroupCounts;
/// let group = ExerciseGroupId::from_uuid(uuid::Uuid::from_u128(1));
/// let mut counts = ExerciseGroupCounts::default();
/// counts.import([group]);
/// assert_eq!(counts.triggered(), vec![group]); // new groups start triggered
/// counts.refitted([group]);
/// assert!(counts.triggered().is_empty());
/// counts.add([(group, 1)]);
/// assert_eq!(counts.triggered(), vec![group]); // 1 >= floor(1.1·0)+1
/// counts.refitted([group]);
/// assert_eq!(counts.get(group).unwrap().next_update_response_count, 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseGroupCounts {
    /// The counter of every known group.
    pub groups: BTreeMap<ExerciseGroupId, GroupCount>,
}

impl ExerciseGroupCounts {
    /// Registers the groups of an imported ecosystem; known groups are set
    /// triggered again (§1.3: a new ecosystem refits every sharing ecosystem).
    pub fn import(&mut self, groups: impl IntoIterator<Item = ExerciseGroupId>) {
        for group in groups {
            self.groups.entry(group).or_default().trigger = true;
        }
    }

    /// Adds response-count increases; a group reaching its threshold is
    /// triggered. Unknown groups are registered first.
    pub fn add(&mut self, increases: impl IntoIterator<Item = (ExerciseGroupId, u64)>) {
        for (group, increase) in increases {
            let count = self.groups.entry(group).or_default();
            count.response_count = count.response_count.saturating_add(increase);
            if count.response_count >= count.next_update_response_count {
                count.trigger = true;
            }
        }
    }

    /// The triggered groups, in id order.
    pub fn triggered(&self) -> Vec<ExerciseGroupId> {
        self.groups
            .iter()
            .filter(|(_, c)| c.trigger)
            .map(|(g, _)| *g)
            .collect()
    }

    /// Resets the counters of every group of the refitted ecosystems (the
    /// per-ecosystem reset of S1 fix 14): trigger off, threshold
    /// floor(1.1·count)+1.
    pub fn refitted(&mut self, groups: impl IntoIterator<Item = ExerciseGroupId>) {
        for group in groups {
            let count = self.groups.entry(group).or_default();
            count.trigger = false;
            count.next_update_response_count = next_update_response_count(count.response_count);
        }
    }

    /// The counter of `group`.
    pub fn get(&self, group: ExerciseGroupId) -> Option<&GroupCount> {
        self.groups.get(&group)
    }
}
