//! Invariants of selection under random inputs: no excluded or own exercise
//! is ever chosen, nothing is chosen twice, counts never exceed goals, and
//! PE shortfalls are only left when candidates run out (S1 fix 8).

mod scheduler_support;

use std::collections::HashSet;

use biglearn_core::ids::ExerciseId;
use biglearn_core::scheduler::{
    build_pe, build_spe, instructor_driven_history, local_query_clue, practice_worst_areas,
    seed_from_ids, student_driven_history, AssignedExercise, Assignment, AssignmentType,
    BookContainerMappings, EcosystemView, ExercisePool, PeInput, PriorityOrder, SelectionConfig,
    SpeInput, StudentClue,
};
use proptest::prelude::*;
use scheduler_support::*;

const NUM_EXERCISES: u128 = 40;
const NUM_BCS: u128 = 6;

/// (book containers, core exercises, PE goal, SPE goal, history day).
type AssignmentSpec = (Vec<u128>, Vec<u128>, Option<u32>, Option<u32>, Option<i64>);

#[derive(Debug, Clone)]
struct World {
    pools: Vec<Vec<u128>>,
    priority: Vec<u128>,
    excluded: Vec<u128>,
    assignments: Vec<AssignmentSpec>,
    seed: u64,
}

fn world() -> impl Strategy<Value = World> {
    let pools = prop::collection::vec(
        prop::collection::vec(0..NUM_EXERCISES, 0..12),
        NUM_BCS as usize,
    );
    let priority = Just((0..NUM_EXERCISES).collect::<Vec<_>>()).prop_shuffle();
    let priority = (priority, 0..=NUM_EXERCISES as usize).prop_map(|(p, n)| p[..n].to_vec());
    let excluded = prop::collection::vec(0..NUM_EXERCISES, 0..10);
    let assignment = (
        prop::collection::vec(0..NUM_BCS, 0..4),
        prop::collection::vec(0..NUM_EXERCISES, 0..6),
        prop::option::of(0u32..12),
        prop::option::of(0u32..12),
        prop::option::of(0i64..20),
    );
    let assignments = prop::collection::vec(assignment, 1..8);
    (pools, priority, excluded, assignments, any::<u64>()).prop_map(
        |(pools, priority, excluded, assignments, seed)| World {
            pools,
            priority,
            excluded,
            assignments,
            seed,
        },
    )
}

fn build(
    world: &World,
) -> (
    EcosystemView,
    PriorityOrder,
    HashSet<ExerciseId>,
    Vec<Assignment>,
) {
    let kind = reading();
    let pools: Vec<ExercisePool> = world
        .pools
        .iter()
        .zip(0u128..)
        .flat_map(|(p, b)| {
            let exs: Vec<_> = p.iter().map(|e| ex(*e)).collect();
            [
                pool(b, &kind, exs.clone()),
                pool(b, &AssignmentType::practice(), exs),
            ]
        })
        .collect();
    let view = EcosystemView::new(eco(1), &pools);
    let priority = PriorityOrder::new(world.priority.iter().map(|e| ex(*e)));
    let excluded = world.excluded.iter().map(|e| ex(*e)).collect();
    let assignments = world
        .assignments
        .iter()
        .zip(1u128..)
        .map(|((bcs, core, pes, spes, history), n)| {
            let mut a = assignment(n, eco(1), &kind, bcs, &[]);
            a.exercises = core
                .iter()
                .zip(0u128..)
                .map(|(e, i)| AssignedExercise {
                    trial: trial(n * 100 + i),
                    exercise: ex(*e),
                    is_pe: false,
                    is_spe: false,
                })
                .collect();
            a.goal_num_pes = *pes;
            a.goal_num_spes = *spes;
            a.student_history_at = history.map(day);
            a
        })
        .collect();
    (view, priority, excluded, assignments)
}

fn check_picks(
    picks: &[ExerciseId],
    excluded: &HashSet<ExerciseId>,
    own: &[ExerciseId],
) -> Result<(), TestCaseError> {
    let unique: HashSet<_> = picks.iter().collect();
    prop_assert_eq!(unique.len(), picks.len(), "duplicate pick in {:?}", picks);
    for e in picks {
        prop_assert!(!excluded.contains(e), "excluded {:?} chosen", e);
        prop_assert!(!own.contains(e), "own {:?} chosen", e);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn pes_respect_exclusions_goals_and_fill_when_possible(world in world()) {
        let (view, priority, excluded, assignments) = build(&world);
        let config = SelectionConfig::default();
        for a in &assignments {
            let input = PeInput { ecosystem: &view, priority: &priority, assignment: a, excluded: &excluded, config: &config };
            let seed = seed_from_ids("pe", &[a.id.into(), uuid::Uuid::from_u64_pair(world.seed, 0)]);
            let pes = build_pe(&input, &mut seed.rng());
            let picks: Vec<_> = pes.iter().map(|c| c.exercise).collect();
            let own = a.assigned_exercise_ids();
            check_picks(&picks, &excluded, &own)?;
            // Same seed, same result (S2).
            prop_assert_eq!(&build_pe(&input, &mut seed.rng()), &pes);
            // Every pick comes from its container's pool, and that container is assigned.
            for c in &pes {
                prop_assert!(a.book_containers.contains(&c.book_container));
                prop_assert!(view.pool(&a.assignment_type, c.book_container).contains(&c.exercise));
            }
            // Never above the goal; below it only when candidates ran out (S1 fix 8).
            let available: HashSet<_> = a.book_containers.iter()
                .flat_map(|b| view.pool(&a.assignment_type, *b).iter().copied())
                .filter(|e| !excluded.contains(e) && !own.contains(e) && priority.rank(*e).is_some())
                .collect();
            let eligible: HashSet<_> = a.book_containers.iter()
                .filter(|b| view.pool(&a.assignment_type, **b).iter().any(|e| available.contains(e)))
                .collect();
            let goal = match a.goal_num_pes {
                Some(g) => g as usize,
                None => (3 * eligible.len()).min(5),
            };
            prop_assert_eq!(picks.len(), goal.min(available.len()));
        }
    }

    #[test]
    fn spes_respect_exclusions_pes_and_goals(world in world()) {
        let (view, priority, excluded, assignments) = build(&world);
        let mappings = BookContainerMappings::new();
        for a in &assignments {
            let pes: Vec<ExerciseId> = world.excluded.iter().rev().take(2).map(|e| ex(*e + 1)).collect();
            for student in [false, true] {
                let history = if student {
                    student_driven_history(a, &assignments)
                } else {
                    instructor_driven_history(a, &assignments)
                };
                let input = SpeInput {
                    ecosystem: &view,
                    priority: &priority,
                    assignment: a,
                    history: &history,
                    mappings: &mappings,
                    excluded: &excluded,
                    assignment_pes: &pes,
                };
                let seed = seed_from_ids("spe", &[a.id.into(), uuid::Uuid::from_u64_pair(world.seed, 1)]);
                let spes = build_spe(&input, &mut seed.rng());
                let picks: Vec<_> = spes.exercises.iter().map(|e| e.exercise).collect();
                let mut forbidden = excluded.clone();
                forbidden.extend(pes.iter().copied());
                check_picks(&picks, &forbidden, &a.assigned_exercise_ids())?;
                let goal = a.goal_num_spes.map_or(4, |g| g as usize);
                prop_assert!(picks.len() <= goal);
                prop_assert_eq!(&build_spe(&input, &mut seed.rng()), &spes);
                for e in &spes.exercises {
                    prop_assert!(view.pool(&a.assignment_type, e.book_container).contains(&e.exercise));
                    prop_assert!(e.k_ago <= 5);
                }
            }
        }
    }

    #[test]
    fn worst_areas_respect_exclusions_and_the_cap(world in world(), values in prop::collection::vec((0..NUM_BCS, 0.0f64..1.0), 0..8)) {
        let (view, priority, excluded, _) = build(&world);
        let clues: Vec<_> = values.iter().zip(0i64..).map(|((b, v), t)| StudentClue {
            book_container: bc(*b), ecosystem: eco(1), value: *v, created_at: day(t),
        }).collect();
        let chosen = practice_worst_areas(&view, &priority, &clues, &excluded);
        let picks: Vec<_> = chosen.iter().map(|c| c.exercise).collect();
        check_picks(&picks, &excluded, &[])?;
        prop_assert!(picks.len() <= 5);
        for c in &chosen {
            prop_assert!(clues.iter().any(|k| k.book_container == c.book_container));
            prop_assert!(view.pool(&AssignmentType::practice(), c.book_container).contains(&c.exercise));
        }
    }

    #[test]
    fn local_query_clue_is_an_ordered_interval_in_the_unit_range(bits in prop::collection::vec(any::<bool>(), 0..40)) {
        let responses: Vec<_> = bits.iter().zip(0u128..).map(|(b, i)| (trial(i), *b)).collect();
        let clue = local_query_clue(&responses, eco(1));
        prop_assert!(0.0 <= clue.minimum && clue.minimum <= clue.most_likely);
        prop_assert!(clue.most_likely <= clue.maximum && clue.maximum <= 1.0);
        prop_assert_eq!(clue.is_real, bits.len() >= 3);
        // Distinct trials: the order does not matter.
        let mut reversed = responses.clone();
        reversed.reverse();
        let again = local_query_clue(&reversed, eco(1));
        prop_assert!((again.most_likely - clue.most_likely).abs() < 1e-12);
        prop_assert!((again.minimum - clue.minimum).abs() < 1e-12);
    }
}
