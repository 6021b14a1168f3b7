//! The algorithm's priority order and the `choose` primitive (scheduler.md §2.3),
//! with the full shortfall redistribution of S1 fix 8.

use std::collections::HashSet;

use crate::fast_hash::FastHashMap;

use super::ecosystem::{AssignmentType, EcosystemView};
use crate::ids::{BookContainerId, ExerciseId};

/// An algorithm's priority order over an ecosystem's exercises (the AEC
/// `exercise_uuids`), best first. Repeats keep their first position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriorityOrder {
    order: Vec<ExerciseId>,
    rank: FastHashMap<ExerciseId, usize>,
}

impl PriorityOrder {
    /// Wraps an order, dropping later repeats.
    pub fn new(order: impl IntoIterator<Item = ExerciseId>) -> Self {
        let mut priority = PriorityOrder::default();
        for exercise in order {
            if let std::collections::hash_map::Entry::Vacant(entry) = priority.rank.entry(exercise)
            {
                entry.insert(priority.order.len());
                priority.order.push(exercise);
            }
        }
        priority
    }

    /// The position of `exercise`, or `None` when the order lacks it.
    pub fn rank(&self, exercise: ExerciseId) -> Option<usize> {
        self.rank.get(&exercise).copied()
    }

    /// The order, best first.
    pub fn as_slice(&self) -> &[ExerciseId] {
        &self.order
    }
}

/// `choose` of §2.3: the first `count` exercises of `priority ∩ allowed`, in
/// priority order, where `allowed` = the `assignment_type` pools of `bcs`
/// concatenated, minus the assignment's own exercises (`own`) and `excluded`.
pub fn choose(
    ecosystem: &EcosystemView,
    assignment_type: &AssignmentType,
    bcs: &[BookContainerId],
    priority: &PriorityOrder,
    own: &HashSet<ExerciseId>,
    excluded: &HashSet<ExerciseId>,
    count: usize,
) -> Vec<ExerciseId> {
    choose_tagged(
        ecosystem,
        assignment_type,
        bcs,
        priority,
        own,
        excluded,
        count,
    )
    .into_iter()
    .map(|(_, e)| e)
    .collect()
}

/// [`choose`], each pick tagged with the first of `bcs` whose pool holds it.
fn choose_tagged(
    ecosystem: &EcosystemView,
    assignment_type: &AssignmentType,
    bcs: &[BookContainerId],
    priority: &PriorityOrder,
    own: &HashSet<ExerciseId>,
    excluded: &HashSet<ExerciseId>,
    count: usize,
) -> Vec<(BookContainerId, ExerciseId)> {
    let mut ranked: Vec<(usize, usize, ExerciseId)> = bcs
        .iter()
        .enumerate()
        .flat_map(|(i, bc)| {
            ecosystem
                .pool(assignment_type, *bc)
                .iter()
                .map(move |e| (i, *e))
        })
        .filter(|(_, e)| !own.contains(e) && !excluded.contains(e))
        .filter_map(|(i, e)| priority.rank(e).map(|r| (r, i, e)))
        .collect();
    ranked.sort_unstable();
    ranked.dedup_by_key(|(_, _, e)| *e);
    ranked
        .into_iter()
        .take(count)
        .map(|(_, i, e)| (bcs[i], e))
        .collect()
}

/// Stateful selection for one request: every chosen exercise joins `excluded`,
/// so later picks never repeat it.
pub(crate) struct Selector<'a> {
    pub ecosystem: &'a EcosystemView,
    pub assignment_type: &'a AssignmentType,
    pub priority: &'a PriorityOrder,
    pub own: HashSet<ExerciseId>,
    pub excluded: HashSet<ExerciseId>,
}

impl Selector<'_> {
    /// `choose` over `bcs` together, each pick tagged with its container; the
    /// result is excluded afterwards.
    pub fn choose(
        &mut self,
        bcs: &[BookContainerId],
        count: usize,
    ) -> Vec<(BookContainerId, ExerciseId)> {
        if count == 0 {
            return Vec::new();
        }
        let got = choose_tagged(
            self.ecosystem,
            self.assignment_type,
            bcs,
            self.priority,
            &self.own,
            &self.excluded,
            count,
        );
        self.excluded.extend(got.iter().map(|(_, e)| *e));
        got
    }

    /// Whether `bc` still has an allowed exercise in the priority order.
    pub fn has_candidates(&self, bc: BookContainerId) -> bool {
        self.ecosystem
            .pool(self.assignment_type, bc)
            .iter()
            .any(|e| {
                !self.own.contains(e)
                    && !self.excluded.contains(e)
                    && self.priority.rank(*e).is_some()
            })
    }

    /// Spreads `count` picks over `bcs` (in the given, already shuffled order):
    /// `(per, rem) = divmod(count, |bcs|)`, the first `rem` containers get one
    /// more. Any shortfall is redistributed the same way over the containers
    /// that still have candidates until it is filled or none is left
    /// (S1 fix 8). With no shortfall this is exactly the original first pass.
    pub fn distribute(
        &mut self,
        bcs: &[BookContainerId],
        count: usize,
    ) -> Vec<(BookContainerId, ExerciseId)> {
        let mut chosen = Vec::new();
        let mut active: Vec<BookContainerId> = Vec::new();
        for bc in bcs {
            if !active.contains(bc) {
                active.push(*bc);
            }
        }
        let mut remaining = count;
        loop {
            active.retain(|bc| self.has_candidates(*bc));
            if remaining == 0 || active.is_empty() {
                return chosen;
            }
            let (per, rem) = (remaining / active.len(), remaining % active.len());
            for (i, bc) in active.iter().enumerate() {
                let n = per + usize::from(i < rem);
                let got = self.choose(std::slice::from_ref(bc), n);
                remaining -= got.len();
                chosen.extend(got);
            }
        }
    }
}
