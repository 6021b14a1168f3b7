//! Personalized exercises for an assignment: `build_pe` (scheduler.md §2.4,
//! S1 fixes 2, 8 and 9).

use std::collections::HashSet;

use rand_chacha::rand_core::RngCore;
use serde::{Deserialize, Serialize};

use super::assignment::Assignment;
use super::choose::{PriorityOrder, Selector};
use super::constants::{DEFAULT_MAX_NUM_PES, DEFAULT_NUM_PES_PER_BOOK_CONTAINER};
use super::ecosystem::EcosystemView;
use super::seed::shuffle;
use crate::ids::{BookContainerId, ExerciseId};

/// Tunables of selection; the defaults are scheduler.md §4's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionConfig {
    /// PEs per eligible book container for a missing goal (§2.4).
    pub default_pes_per_book_container: u32,
    /// Cap on the PEs for a missing goal (S1 fix 9).
    pub default_max_pes: u32,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig {
            default_pes_per_book_container: DEFAULT_NUM_PES_PER_BOOK_CONTAINER,
            default_max_pes: DEFAULT_MAX_NUM_PES,
        }
    }
}

/// One chosen exercise and the book container it was drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chosen {
    /// The exercise.
    pub exercise: ExerciseId,
    /// The container whose pool it came from.
    pub book_container: BookContainerId,
}

/// The number of PEs to select: the goal, or for a missing goal
/// min(per-bc default · #eligible bcs, cap) (S1 fix 9; README S4).
pub fn pe_goal(goal: Option<u32>, eligible_bcs: usize, config: &SelectionConfig) -> usize {
    match goal {
        Some(goal) => goal as usize,
        None => (config.default_pes_per_book_container as usize)
            .saturating_mul(eligible_bcs)
            .min(config.default_max_pes as usize),
    }
}

/// Everything `build_pe` reads.
#[derive(Debug, Clone, Copy)]
pub struct PeInput<'a> {
    /// The assignment's ecosystem.
    pub ecosystem: &'a EcosystemView,
    /// The algorithm's priority order for the student.
    pub priority: &'a PriorityOrder,
    /// The assignment.
    pub assignment: &'a Assignment,
    /// The student's exclusions (§2.2).
    pub excluded: &'a HashSet<ExerciseId>,
    /// Tunables.
    pub config: &'a SelectionConfig,
}

/// `build_pe_request` of §2.4: PEs from the assignment's own book containers.
///
/// Containers with no allowed candidate are dropped, the rest shuffled with
/// `rng` (seed it from stable ids, S2), and the goal ([`pe_goal`]) is spread
/// over them as evenly as possible; any shortfall is redistributed over the
/// containers that still have candidates (S1 fix 8). An assignment that does
/// not need PEs (deleted, PEs assigned by Tutor, goal 0) gets none (S1 fix 2).
/// The result may be empty; that is a valid result (S1 fix 3).
pub fn build_pe<R: RngCore + ?Sized>(input: &PeInput<'_>, rng: &mut R) -> Vec<Chosen> {
    let assignment = input.assignment;
    if !assignment.needs_pes() {
        return Vec::new();
    }
    let mut selector = Selector {
        ecosystem: input.ecosystem,
        assignment_type: &assignment.assignment_type,
        priority: input.priority,
        own: assignment.assigned_exercise_ids().into_iter().collect(),
        excluded: input.excluded.clone(),
    };
    let mut bcs: Vec<BookContainerId> = Vec::new();
    for bc in &assignment.book_containers {
        if !bcs.contains(bc) && selector.has_candidates(*bc) {
            bcs.push(*bc);
        }
    }
    shuffle(rng, &mut bcs);
    let goal = pe_goal(assignment.goal_num_pes, bcs.len(), input.config);
    selector
        .distribute(&bcs, goal)
        .into_iter()
        .map(|(book_container, exercise)| Chosen {
            exercise,
            book_container,
        })
        .collect()
}
