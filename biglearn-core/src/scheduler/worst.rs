//! Practice worst areas (scheduler.md §2.7, S1 fix 4).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::choose::PriorityOrder;
use super::constants::{MAX_NUM_WORST_CLUES, NUM_PES_PER_STUDENT, WORST_AREA_SLOTS};
use super::ecosystem::{AssignmentType, EcosystemView};
use super::pe::Chosen;
use crate::ids::{BookContainerId, EcosystemId, ExerciseId};
use crate::time::Instant;

/// One student CLUE of one algorithm, as worst-area ranking reads it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StudentClue {
    /// The CLUE's book container.
    pub book_container: BookContainerId,
    /// The ecosystem the CLUE was computed in.
    pub ecosystem: EcosystemId,
    /// `clue_value` = `most_likely`.
    pub value: f64,
    /// When the per-algorithm CLUE row was created (the tiebreaker).
    pub created_at: Instant,
}

/// The slot counts for `n` worst CLUEs, worst first (§2.7 step 5); empty for
/// `n = 0`, and the 5-CLUE map for larger `n`.
pub fn worst_area_slots(n: usize) -> &'static [usize] {
    match n {
        0 => &[],
        n => WORST_AREA_SLOTS[n.min(WORST_AREA_SLOTS.len()) - 1],
    }
}

/// The student's worst CLUEs (§2.7 step 3): only those of `ecosystem` (the
/// course's current one, S1 fix 4), by value then creation time ascending
/// (then container id, for a total order), one per container, at most
/// [`MAX_NUM_WORST_CLUES`]. `is_real` is not consulted.
pub fn worst_clues(clues: &[StudentClue], ecosystem: EcosystemId) -> Vec<StudentClue> {
    let mut current: Vec<StudentClue> = clues
        .iter()
        .filter(|c| c.ecosystem == ecosystem)
        .copied()
        .collect();
    current.sort_by(|a, b| {
        a.value
            .total_cmp(&b.value)
            .then_with(|| a.created_at.cmp(&b.created_at))
            .then_with(|| a.book_container.cmp(&b.book_container))
    });
    let mut seen = HashSet::new();
    current.retain(|c| seen.insert(c.book_container));
    current.truncate(MAX_NUM_WORST_CLUES);
    current
}

/// `UploadStudentExercises` selection (§2.7): up to [`NUM_PES_PER_STUDENT`]
/// exercises from the `practice` pools of the worst CLUEs' containers.
///
/// Each worst CLUE offers at most 5 candidates (pool minus `excluded`, in
/// `priority` order); CLUE i takes its slot count from its own candidates,
/// then those of CLUEs 0..i, then those of CLUEs i+1.., skipping exercises
/// already chosen, so empty areas borrow from the others. A student without
/// CLUEs in `ecosystem` gets an empty list.
pub fn practice_worst_areas(
    ecosystem: &EcosystemView,
    priority: &PriorityOrder,
    clues: &[StudentClue],
    excluded: &HashSet<ExerciseId>,
) -> Vec<Chosen> {
    let Some(ecosystem_id) = ecosystem.id() else {
        return Vec::new();
    };
    let worst = worst_clues(clues, ecosystem_id);
    let practice = AssignmentType::practice();
    let candidates: Vec<Vec<Chosen>> = worst
        .iter()
        .map(|clue| {
            let mut ranked: Vec<(usize, ExerciseId)> = ecosystem
                .pool(&practice, clue.book_container)
                .iter()
                .filter(|e| !excluded.contains(e))
                .filter_map(|e| priority.rank(*e).map(|r| (r, *e)))
                .collect();
            ranked.sort_unstable();
            ranked.dedup();
            ranked
                .into_iter()
                .take(NUM_PES_PER_STUDENT)
                .map(|(_, exercise)| Chosen {
                    exercise,
                    book_container: clue.book_container,
                })
                .collect()
        })
        .collect();
    let mut chosen: Vec<Chosen> = Vec::new();
    let mut taken: HashSet<ExerciseId> = HashSet::new();
    for (i, slots) in worst_area_slots(worst.len()).iter().enumerate() {
        let order = std::iter::once(i)
            .chain(0..i)
            .chain(i + 1..candidates.len());
        let mut left = *slots;
        for candidate in order.flat_map(|j| candidates[j].iter()) {
            if left == 0 {
                break;
            }
            if taken.insert(candidate.exercise) {
                chosen.push(*candidate);
                left -= 1;
            }
        }
    }
    chosen
}
