//! Spaced-practice exercises: `k_ago_map` and `build_spe` (scheduler.md §2.5,
//! S1 fixes 2, 5, 6 and 8).

use std::collections::HashSet;

use rand_chacha::rand_core::RngCore;
use serde::{Deserialize, Serialize};

use super::assignment::Assignment;
use super::choose::{PriorityOrder, Selector};
use super::constants::{
    DEFAULT_NUM_SPES_PER_K_AGO, K_AGOS_TO_LOAD, MIN_SEQUENCE_NUMBER_FOR_RANDOM_AGO,
    NON_RANDOM_K_AGOS, NUM_RANDOM_AGO_SPES,
};
use super::ecosystem::EcosystemView;
use super::history::{History, HistoryType};
use super::mapping::BookContainerMappings;
use super::seed::shuffle;
use crate::ids::{AssignmentId, BookContainerId, ExerciseId};

/// Which part of the history an SPE slot draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KAgo {
    /// The assignment `k` places back; `Ago(0)` is the current assignment.
    Ago(u8),
    /// Random-ago: the history entries the map does not name.
    Random,
}

/// One entry of a k-ago map: `count` slots drawn from `k_ago`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KAgoEntry {
    /// Where the slots come from.
    pub k_ago: KAgo,
    /// How many slots.
    pub count: u32,
}

/// `get_k_ago_map` of §2.5: a missing goal gives one SPE at 1, 3 and 5 ago
/// plus the last slot; goal 0 gives nothing; goal g > 0 spreads g − 1 over
/// [1, 3, 5] (`divmod(g − 1, 3)`, zero entries omitted) plus the last slot.
/// The last slot is random-ago when `include_random`, else the current
/// assignment (`Ago(0)`).
pub fn k_ago_map(goal: Option<u32>, include_random: bool) -> Vec<KAgoEntry> {
    let last = KAgoEntry {
        k_ago: if include_random {
            KAgo::Random
        } else {
            KAgo::Ago(0)
        },
        count: NUM_RANDOM_AGO_SPES,
    };
    let mut map: Vec<KAgoEntry> = match goal {
        Some(0) => return Vec::new(),
        None => NON_RANDOM_K_AGOS
            .iter()
            .map(|k| KAgoEntry {
                k_ago: KAgo::Ago(*k),
                count: DEFAULT_NUM_SPES_PER_K_AGO,
            })
            .collect(),
        Some(goal) => {
            let spread = goal - NUM_RANDOM_AGO_SPES;
            let n = NON_RANDOM_K_AGOS.len() as u32;
            let (per, rem) = (spread / n, spread % n);
            NON_RANDOM_K_AGOS
                .iter()
                .zip(0u32..)
                .map(|(k, i)| KAgoEntry {
                    k_ago: KAgo::Ago(*k),
                    count: per + u32::from(i < rem),
                })
                .filter(|entry| entry.count > 0)
                .collect()
        }
    };
    map.push(last);
    map
}

/// One chosen SPE with its spy information (§2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SpeChoice {
    /// The exercise.
    pub exercise: ExerciseId,
    /// The container whose pool it came from.
    pub book_container: BookContainerId,
    /// The history position the container belongs to (0 = current assignment).
    pub k_ago: u8,
    /// Whether it filled the random-ago slot.
    pub is_random_ago: bool,
}

/// The book containers one history position contributed (spy `assignment_history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The position (0 = current assignment).
    pub k_ago: u8,
    /// The assignment at that position.
    pub assignment: AssignmentId,
    /// Its containers, mapped into the current ecosystem and filtered (§2.5 steps 1–4).
    pub book_containers: Vec<BookContainerId>,
}

/// One SPE variant's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeSelection {
    /// The variant.
    pub history_type: HistoryType,
    /// The chosen SPEs: k-ago picks in map order, then the fill.
    pub exercises: Vec<SpeChoice>,
    /// The history used.
    pub assignment_history: Vec<HistoryEntry>,
}

/// Everything `build_spe` reads.
#[derive(Debug, Clone, Copy)]
pub struct SpeInput<'a> {
    /// The current assignment's ecosystem.
    pub ecosystem: &'a EcosystemView,
    /// The algorithm's priority order for the student.
    pub priority: &'a PriorityOrder,
    /// The current assignment.
    pub assignment: &'a Assignment,
    /// Its history in one variant (see [`super::history`]).
    pub history: &'a History<'a>,
    /// Book-container mappings between ecosystems.
    pub mappings: &'a BookContainerMappings,
    /// The student's exclusions (§2.2).
    pub excluded: &'a HashSet<ExerciseId>,
    /// The assignment's PEs, of every algorithm (excluded from its SPEs).
    pub assignment_pes: &'a [ExerciseId],
}

/// `build_spe_request` of §2.5 for one variant.
///
/// Each k-ago entry's containers (shuffled with `rng`, S2) receive the entry's
/// slots plus everything still unfilled; then the current assignment's
/// containers fill what is left; finally (S1 fix 8) any remainder is spread
/// over the containers of every k-ago entry that still has candidates. A
/// slot is dropped only when no allowed candidate remains. An assignment
/// that does not need SPEs gets none (S1 fix 2); a cold-start history
/// ([`History::cold_start`]) puts every slot on the current containers (§2.8).
pub fn build_spe<R: RngCore + ?Sized>(input: &SpeInput<'_>, rng: &mut R) -> SpeSelection {
    let assignment = input.assignment;
    let history = input.history;
    let mut result = SpeSelection {
        history_type: history.history_type,
        exercises: Vec::new(),
        assignment_history: Vec::new(),
    };
    if !assignment.needs_spes() {
        return result;
    }
    let mut excluded = input.excluded.clone();
    excluded.extend(input.assignment_pes.iter().copied());
    let mut selector = Selector {
        ecosystem: input.ecosystem,
        assignment_type: &assignment.assignment_type,
        priority: input.priority,
        own: assignment.assigned_exercise_ids().into_iter().collect(),
        excluded,
    };

    // §2.5 steps 1–4: containers per history position, most recent first.
    let current_bcs = unique(&assignment.book_containers);
    let mut used: HashSet<BookContainerId> = current_bcs.iter().copied().collect();
    let mut by_k: Vec<Vec<BookContainerId>> = vec![current_bcs.clone()];
    result.assignment_history.push(HistoryEntry {
        k_ago: 0,
        assignment: assignment.id,
        book_containers: current_bcs.clone(),
    });
    for k in K_AGOS_TO_LOAD {
        let mut bcs = Vec::new();
        if let Some(past) = history.ago(k) {
            for bc in &past.book_containers {
                let Some(mapped) =
                    input
                        .mappings
                        .forward(past.ecosystem, *bc, assignment.ecosystem)
                else {
                    continue;
                };
                if used.insert(mapped) && selector.has_candidates(mapped) {
                    bcs.push(mapped);
                }
            }
            result.assignment_history.push(HistoryEntry {
                k_ago: k,
                assignment: past.id,
                book_containers: bcs.clone(),
            });
        }
        by_k.push(bcs);
    }

    let include_random = history.history_type == HistoryType::StudentDriven
        && history.sequence_number >= MIN_SEQUENCE_NUMBER_FOR_RANDOM_AGO;
    let map = k_ago_map(assignment.goal_num_spes, include_random);
    let named: Vec<u8> = map
        .iter()
        .filter_map(|e| match e.k_ago {
            KAgo::Ago(k) => Some(k),
            KAgo::Random => None,
        })
        .collect();
    let k_of = |bc: BookContainerId| -> u8 {
        (0u8..)
            .zip(&by_k)
            .find(|(_, bcs)| bcs.contains(&bc))
            .map_or(0, |(k, _)| k)
    };

    let mut remaining = 0usize;
    let mut swept: Vec<(BookContainerId, bool)> = Vec::new();
    for entry in &map {
        remaining += entry.count as usize;
        let (mut bcs, is_random) = match entry.k_ago {
            KAgo::Ago(k) => (by_k.get(usize::from(k)).cloned().unwrap_or_default(), false),
            KAgo::Random => {
                let pool: Vec<BookContainerId> = K_AGOS_TO_LOAD
                    .iter()
                    .filter(|k| !named.contains(k))
                    .flat_map(|k| by_k.get(usize::from(*k)).into_iter().flatten().copied())
                    .collect();
                (unique(&pool), true)
            }
        };
        shuffle(rng, &mut bcs);
        swept.extend(bcs.iter().map(|bc| (*bc, is_random)));
        for (bc, exercise) in selector.distribute(&bcs, remaining) {
            remaining -= 1;
            result.exercises.push(SpeChoice {
                exercise,
                book_container: bc,
                k_ago: k_of(bc),
                is_random_ago: is_random,
            });
        }
    }

    // The PE fill from the current assignment's containers, all together.
    for (book_container, exercise) in selector.choose(&current_bcs, remaining) {
        remaining -= 1;
        result.exercises.push(SpeChoice {
            exercise,
            book_container,
            k_ago: 0,
            is_random_ago: false,
        });
    }

    // S1 fix 8: whatever is still missing goes to any k-ago entry with candidates.
    if remaining > 0 {
        let bcs: Vec<BookContainerId> =
            unique(&swept.iter().map(|(bc, _)| *bc).collect::<Vec<_>>());
        for (bc, exercise) in selector.distribute(&bcs, remaining) {
            let is_random = swept
                .iter()
                .find(|(b, _)| *b == bc)
                .is_some_and(|(_, r)| *r);
            result.exercises.push(SpeChoice {
                exercise,
                book_container: bc,
                k_ago: k_of(bc),
                is_random_ago: is_random,
            });
        }
    }
    result
}

fn unique(bcs: &[BookContainerId]) -> Vec<BookContainerId> {
    let mut out = Vec::with_capacity(bcs.len());
    for bc in bcs {
        if !out.contains(bc) {
            out.push(*bc);
        }
    }
    out
}
