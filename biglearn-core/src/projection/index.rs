//! [`CourseIndex`]: lookups derived from a course's state (trials by
//! assignment, answered trials by student), kept up to date as events apply
//! so per-student and per-assignment work does not scan the whole course.

use std::collections::{BTreeMap, BTreeSet};

use super::assignment::AssignmentState;
use crate::ids::{AssignmentId, EcosystemId, StudentId, TrialId};
use crate::time::Instant;

/// Derived lookups of a [`super::CourseState`]. Not part of the state's value (two
/// states holding the same course are equal whatever their index holds) and
/// never serialized: a deserialized state has an empty index, which
/// [`super::CourseState::reindex`] rebuilds. Until then every lookup falls back to
/// a scan, so results never depend on it.
#[derive(Debug, Clone, Default)]
pub struct CourseIndex {
    pub(super) trials_by_assignment: BTreeMap<AssignmentId, BTreeSet<TrialId>>,
    pub(super) answered_by_student: BTreeMap<StudentId, BTreeSet<TrialId>>,
    /// The instants at which a (not deleted) assignment changes what is
    /// visible or allowed ([`AssignmentState::change_instants`]).
    pub(super) wakes: BTreeSet<(Instant, AssignmentId)>,
    /// How many assignments and latest answers are in each ecosystem.
    pub(super) ecosystem_refs: BTreeMap<EcosystemId, usize>,
    /// The numbers of trials and responses the index covers: it is valid
    /// while they equal the state's (both maps only grow).
    pub(super) trials: usize,
    pub(super) responses: usize,
    pub(super) assignments: usize,
}

impl PartialEq for CourseIndex {
    /// Always equal: see the type's docs.
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

/// The index keys of an assignment's change instants (none once deleted).
pub(super) fn wakes_of(
    id: AssignmentId,
    a: &AssignmentState,
) -> impl Iterator<Item = (Instant, AssignmentId)> + '_ {
    a.change_instants()
        .filter(move |_| !a.is_deleted)
        .map(move |t| (t, id))
}
