//! Practice worst areas (scheduler.md §2.7; §5 scenarios 38–40; S1 fix 4).

mod scheduler_support;

use std::collections::HashSet;

use biglearn_core::scheduler::{
    practice_worst_areas, worst_area_slots, worst_clues, AssignmentType, EcosystemView,
    PriorityOrder, StudentClue,
};
use scheduler_support::*;

/// Practice pools 1..=5 with 10 exercises each (`100·bc + i`).
fn fixture() -> (EcosystemView, PriorityOrder) {
    let practice = AssignmentType::practice();
    let pools: Vec<_> = (1..=5)
        .map(|b| pool(b, &practice, exercises(100 * b, 10)))
        .collect();
    let view = EcosystemView::new(eco(2), &pools);
    let priority = PriorityOrder::new(view.exercises().iter().rev().copied());
    (view, priority)
}

fn clue(b: u128, value: f64, created: i64) -> StudentClue {
    StudentClue {
        book_container: bc(b),
        ecosystem: eco(2),
        value,
        created_at: day(created),
    }
}

fn per_bc(chosen: &[biglearn_core::scheduler::Chosen]) -> Vec<usize> {
    (1..=5)
        .map(|b| chosen.iter().filter(|c| c.book_container == bc(b)).count())
        .collect()
}

#[test]
fn worst_area_slot_maps() {
    assert_eq!(worst_area_slots(0), &[] as &[usize]);
    assert_eq!(worst_area_slots(1), &[5]);
    assert_eq!(worst_area_slots(2), &[3, 2]);
    assert_eq!(worst_area_slots(3), &[2, 2, 1]);
    assert_eq!(worst_area_slots(4), &[2, 1, 1, 1]);
    assert_eq!(worst_area_slots(5), &[1, 1, 1, 1, 1]);
}

#[test]
fn scenario_38_no_clues_no_practice_exercises() {
    let (view, priority) = fixture();
    assert!(practice_worst_areas(&view, &priority, &[], &HashSet::new()).is_empty());
}

#[test]
fn scenario_39_five_clues_give_five_exercises_from_their_containers() {
    let (view, priority) = fixture();
    let clues = [
        clue(1, 0.25, 0),
        clue(2, 0.0, 0),
        clue(3, 0.5, 0),
        clue(4, 0.75, 0),
        clue(5, 1.0, 0),
    ];
    let chosen = practice_worst_areas(&view, &priority, &clues, &HashSet::new());
    assert_eq!(per_bc(&chosen), vec![1, 1, 1, 1, 1]);
    // Worst first, each the container's best exercise by priority.
    let order: Vec<_> = chosen.iter().map(|c| c.book_container).collect();
    assert_eq!(order, vec![bc(2), bc(1), bc(3), bc(4), bc(5)]);
    assert_eq!(chosen[0].exercise, ex(209));
    // A second algorithm without CLUEs gets an empty list.
    assert!(practice_worst_areas(&view, &priority, &[], &HashSet::new()).is_empty());
}

#[test]
fn scenario_40_worst_areas_follow_arriving_clues() {
    let (view, priority) = fixture();
    let mut clues = vec![clue(3, 0.4, 0)];
    let first = practice_worst_areas(&view, &priority, &clues, &HashSet::new());
    assert_eq!(per_bc(&first), vec![0, 0, 5, 0, 0]);
    clues.extend([clue(1, 0.2, 1), clue(5, 0.9, 1)]);
    let three = practice_worst_areas(&view, &priority, &clues, &HashSet::new());
    assert_eq!(per_bc(&three), vec![2, 0, 2, 0, 1]);
    clues.extend([clue(2, 0.3, 2), clue(4, 0.95, 2)]);
    let five = practice_worst_areas(&view, &priority, &clues, &HashSet::new());
    assert_eq!(five.len(), 5);
    assert_eq!(per_bc(&five), vec![1, 1, 1, 1, 1]);
}

#[test]
fn worst_areas_rank_by_value_then_creation_and_keep_five() {
    let clues: Vec<_> = (1..=5)
        .map(|b| clue(b, 0.5, 10 - b as i64))
        .chain([clue(9, 0.1, 0)])
        .collect();
    let worst = worst_clues(&clues, eco(2));
    let order: Vec<_> = worst.iter().map(|c| c.book_container).collect();
    assert_eq!(order, vec![bc(9), bc(5), bc(4), bc(3), bc(2)]);
}

#[test]
fn empty_areas_borrow_from_the_others_and_exclusions_apply() {
    let (view, priority) = fixture();
    let clues = [clue(7, 0.1, 0), clue(1, 0.2, 0)]; // bc 7 has no practice pool
    let excluded: HashSet<_> = [ex(109)].into();
    let chosen = practice_worst_areas(&view, &priority, &clues, &excluded);
    // Slots [3, 2]; only container 1 has candidates, at most 5 per CLUE.
    assert_eq!(chosen.len(), 5);
    assert!(chosen
        .iter()
        .all(|c| c.book_container == bc(1) && c.exercise != ex(109)));
    let ids: HashSet<_> = chosen.iter().map(|c| c.exercise).collect();
    assert_eq!(ids.len(), 5);
}

#[test]
fn s1_fix_4_worst_areas_rank_only_current_ecosystem_clues() {
    let (view, priority) = fixture();
    let stale = StudentClue {
        ecosystem: eco(1),
        ..clue(4, 0.0, 0)
    };
    let chosen = practice_worst_areas(&view, &priority, &[stale, clue(2, 0.9, 0)], &HashSet::new());
    assert_eq!(per_bc(&chosen), vec![0, 5, 0, 0, 0]);
}
