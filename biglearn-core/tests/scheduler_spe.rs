//! Histories, `k_ago_map` and SPEs (scheduler.md §2.5, §1.6(a) student
//! history; §5 scenarios 28–37; S1 fixes 2, 5, 6, 8).

mod scheduler_support;

use std::collections::HashSet;

use biglearn_core::scheduler::{
    build_spe, instructor_driven_history, instructor_sequence_numbers, k_ago_map, seed_from_ids,
    student_driven_history, student_history_at, student_sequence_numbers, AssignedExercise,
    Assignment, BookContainerMappings, EcosystemView, KAgo, KAgoEntry, PriorityOrder, Response,
    SpeInput, SpeSelection,
};
use scheduler_support::*;

fn entry(k: u8, count: u32) -> KAgoEntry {
    KAgoEntry {
        k_ago: KAgo::Ago(k),
        count,
    }
}
fn random(count: u32) -> KAgoEntry {
    KAgoEntry {
        k_ago: KAgo::Random,
        count,
    }
}

#[test]
fn k_ago_map_matches_the_worked_values() {
    assert_eq!(
        k_ago_map(None, true),
        vec![entry(1, 1), entry(3, 1), entry(5, 1), random(1)]
    );
    assert_eq!(
        k_ago_map(None, false),
        vec![entry(1, 1), entry(3, 1), entry(5, 1), entry(0, 1)]
    );
    assert_eq!(k_ago_map(Some(0), true), vec![]);
    assert_eq!(k_ago_map(Some(1), true), vec![random(1)]);
    assert_eq!(k_ago_map(Some(2), true), vec![entry(1, 1), random(1)]);
    assert_eq!(
        k_ago_map(Some(3), true),
        vec![entry(1, 1), entry(3, 1), random(1)]
    );
    assert_eq!(
        k_ago_map(Some(4), true),
        vec![entry(1, 1), entry(3, 1), entry(5, 1), random(1)]
    );
    assert_eq!(
        k_ago_map(Some(5), true),
        vec![entry(1, 2), entry(3, 1), entry(5, 1), random(1)]
    );
    assert_eq!(
        k_ago_map(Some(7), true),
        vec![entry(1, 2), entry(3, 2), entry(5, 2), random(1)]
    );
    assert_eq!(k_ago_map(Some(1), false), vec![entry(0, 1)]);
}

/// Five readings opened on days 1, 3, 5, 7, 9; due two days later.
fn readings() -> Vec<Assignment> {
    (1..=5)
        .map(|i| {
            let mut a = assignment(i, eco(1), &reading(), &[i], &[ex(i)]);
            a.opens_at = Some(day(2 * i as i64 - 1));
            a.created_at = day(0);
            a.due_at = Some(day(2 * i as i64 + 1));
            a
        })
        .collect()
}

#[test]
fn scenario_32_instructor_sequence_numbers_follow_due_opens_created_skipping_deleted() {
    let mut all = readings();
    all[0].due_at = Some(day(100)); // last by due date
    all[1].due_at = all[2].due_at; // tie on due: opens decides
    all[3].is_deleted = true;
    all.push(assignment(9, eco(1), &homework(), &[1], &[])); // another type
    let numbers = instructor_sequence_numbers(&all, &reading());
    assert_eq!(
        numbers,
        vec![(asg(2), 1), (asg(3), 2), (asg(5), 3), (asg(1), 4)]
    );
}

#[test]
fn scenario_33_student_sequence_numbers_rank_the_history_then_next_in_line() {
    let mut all = readings();
    all[4].student_history_at = Some(day(20));
    all[2].student_history_at = Some(day(21));
    all[0].student_history_at = Some(day(21)); // tie: due date decides
    all[3].student_history_at = Some(day(30));
    let numbers = student_sequence_numbers(&all, &reading());
    assert_eq!(
        numbers,
        vec![
            (asg(5), 1),
            (asg(1), 2),
            (asg(3), 3),
            (asg(4), 4),
            (asg(2), 5)
        ]
    );
}

#[test]
fn scenario_34_filtering_by_both_sequence_numbers_below_4() {
    let mut all = readings();
    // Student order: 3, 1, 5, 2, 4; instructor order: 1..5.
    for (i, n) in [(2, 1), (0, 2), (4, 3), (1, 4), (3, 5)] {
        all[i].student_history_at = Some(day(50 + n));
    }
    let instructor = instructor_sequence_numbers(&all, &reading());
    let student = student_sequence_numbers(&all, &reading());
    let below: Vec<_> = instructor
        .iter()
        .filter(|(id, s)| *s < 4 && student.iter().any(|(sid, t)| sid == id && *t < 4))
        .map(|(id, s)| {
            (
                *id,
                *s,
                student.iter().find(|(sid, _)| sid == id).map(|x| x.1),
            )
        })
        .collect();
    assert_eq!(below, vec![(asg(1), 1, Some(2)), (asg(3), 3, Some(1))]);
}

fn responses_for(a: &Assignment, at: i64) -> Vec<Response> {
    a.exercises
        .iter()
        .map(|e| Response {
            trial: e.trial,
            exercise: e.exercise,
            is_correct: true,
            first_responded_at: day(at),
            last_responded_at: day(at),
        })
        .collect()
}

#[test]
fn scenario_28_completion_order_reproduces_history_order() {
    let mut all = readings();
    for (i, a) in all.iter_mut().enumerate() {
        let r = responses_for(a, 2 * i as i64 + 1);
        a.student_history_at = student_history_at(a, &r, day(0));
    }
    let student = student_sequence_numbers(&all, &reading());
    assert_eq!(
        student,
        (1..=5).map(|i| (asg(i), i as u32)).collect::<Vec<_>>()
    );
}

#[test]
fn scenario_29_reverse_completion_reverses_history_order() {
    let mut all = readings();
    for (i, a) in all.iter_mut().enumerate() {
        // All answered on time (due dates are days 3..11), in reverse order.
        let r = responses_for(a, 3 - i as i64);
        a.student_history_at = student_history_at(a, &r, day(0));
    }
    let mut student = student_sequence_numbers(&all, &reading());
    student.sort();
    assert_eq!(
        student,
        (1..=5).map(|i| (asg(i), 6 - i as u32)).collect::<Vec<_>>()
    );
}

#[test]
fn scenario_30_only_completed_assignments_enter_the_history() {
    let all = readings();
    let done: Vec<_> = all
        .iter()
        .map(|a| {
            let r = if a.id == asg(2) || a.id == asg(4) {
                responses_for(a, 2)
            } else {
                vec![]
            };
            student_history_at(a, &r, day(0))
        })
        .collect();
    assert_eq!(done, vec![None, Some(day(2)), None, Some(day(2)), None]);
}

#[test]
fn scenario_31_past_due_incomplete_assignments_enter_at_their_due_date() {
    let mut all = readings();
    let now = day(8);
    for a in all.iter_mut() {
        let r = if a.id == asg(4) {
            responses_for(a, 6)
        } else {
            vec![]
        };
        a.student_history_at = student_history_at(a, &r, now);
    }
    // Due days 3, 5, 7 have passed; reading 4 was completed on day 6.
    let at: Vec<_> = all.iter().map(|a| a.student_history_at).collect();
    assert_eq!(
        at,
        vec![Some(day(3)), Some(day(5)), Some(day(7)), Some(day(6)), None]
    );
    let student = student_sequence_numbers(&all, &reading());
    assert_eq!(
        student,
        vec![
            (asg(1), 1),
            (asg(2), 2),
            (asg(4), 3),
            (asg(3), 4),
            (asg(5), 5)
        ]
    );
}

#[test]
fn s1_fix_6_completion_counts_core_exercises_and_undated_assignments_complete() {
    let mut a = assignment(1, eco(1), &reading(), &[1], &[ex(0)]);
    a.exercises.push(AssignedExercise {
        trial: trial(77),
        exercise: ex(1),
        is_pe: true,
        is_spe: false,
    });
    a.exercises.push(AssignedExercise {
        trial: trial(78),
        exercise: ex(2),
        is_pe: false,
        is_spe: true,
    });
    let core_only = responses_for(
        &Assignment {
            exercises: a.exercises[..1].to_vec(),
            ..a.clone()
        },
        1,
    );
    // The unanswered PE and SPE do not block completion (the original required the PE).
    assert_eq!(student_history_at(&a, &core_only, day(0)), Some(day(1)));
    // A late answer does not complete a dated assignment.
    let late = responses_for(
        &Assignment {
            exercises: a.exercises[..1].to_vec(),
            ..a.clone()
        },
        5,
    );
    assert_eq!(student_history_at(&a, &late, day(0)), None);
    // Without due_at, any answer completes it (the original never did).
    a.due_at = None;
    assert_eq!(student_history_at(&a, &late, day(0)), Some(day(5)));
}

#[test]
fn s1_fix_5_instructor_history_counts_only_assignments_already_opened() {
    let mut all = readings();
    // Reading 2 is due first but opens after reading 4.
    all[1].due_at = Some(day(2));
    all[1].opens_at = Some(day(8));
    let history = instructor_driven_history(&all[3], &all);
    assert_eq!(history.sequence_number, 3);
    assert_eq!(history.ago(1).map(|a| a.id), Some(asg(3)));
    assert_eq!(history.ago(2).map(|a| a.id), Some(asg(1)));
    assert_eq!(history.ago(3), None);
    // Without opens_at the creation time counts as opening.
    all[1].opens_at = None;
    all[1].created_at = day(1);
    let history = instructor_driven_history(&all[3], &all);
    assert_eq!(history.ago(1).map(|a| a.id), Some(asg(3)));
    assert_eq!(history.ago(3).map(|a| a.id), Some(asg(2)));
}

/// Reading pools 1..=5 (10 exercises each, exercise ids `100·bc + i`) and
/// exercise ids in priority order.
fn spe_fixture() -> (EcosystemView, PriorityOrder) {
    let pools: Vec<_> = (1..=5)
        .map(|b| pool(b, &reading(), exercises(100 * b, 10)))
        .collect();
    let view = EcosystemView::new(eco(1), &pools);
    let priority = PriorityOrder::new(view.exercises().to_vec());
    (view, priority)
}

fn spe(
    view: &EcosystemView,
    priority: &PriorityOrder,
    current: &Assignment,
    all: &[Assignment],
    student: bool,
) -> SpeSelection {
    let history = if student {
        student_driven_history(current, all)
    } else {
        instructor_driven_history(current, all)
    };
    let input = SpeInput {
        ecosystem: view,
        priority,
        assignment: current,
        history: &history,
        mappings: &BookContainerMappings::new(),
        excluded: &HashSet::new(),
        assignment_pes: &[],
    };
    build_spe(
        &input,
        &mut seed_from_ids("spe", &[current.id.into()]).rng(),
    )
}

#[test]
fn spes_come_from_the_k_ago_assignments() {
    let (view, priority) = spe_fixture();
    let all = readings();
    let result = spe(&view, &priority, &all[4], &all, false);
    // NULL goal, instructor-driven: 1, 3 and 5 ago (only 4 earlier: 5-ago is
    // missing and carries), then the current assignment.
    let ks: Vec<u8> = result.exercises.iter().map(|e| e.k_ago).collect();
    assert_eq!(result.exercises.len(), 4);
    assert_eq!(ks.iter().filter(|k| **k == 1).count(), 1);
    assert_eq!(ks.iter().filter(|k| **k == 3).count(), 1);
    assert_eq!(ks.iter().filter(|k| **k == 0).count(), 2);
    for e in &result.exercises {
        let expected_bc = bc(5 - u128::from(e.k_ago));
        assert_eq!(e.book_container, expected_bc);
        assert!(view.pool(&reading(), expected_bc).contains(&e.exercise));
        assert!(!e.is_random_ago);
    }
}

#[test]
fn random_ago_is_student_driven_from_sequence_number_five() {
    let (view, priority) = spe_fixture();
    let mut all = readings();
    for (i, a) in all.iter_mut().enumerate() {
        a.student_history_at = Some(day(20 + i as i64));
    }
    let result = spe(&view, &priority, &all[4], &all, true);
    let random: Vec<_> = result
        .exercises
        .iter()
        .filter(|e| e.is_random_ago)
        .collect();
    // Its own slot plus the one of the missing 5-ago entry, carried forward.
    assert_eq!(random.len(), 2);
    // The random pool is the history entries the map does not name: 2 and 4 ago.
    for pick in random {
        assert!([2, 4].contains(&pick.k_ago));
        assert_eq!(pick.book_container, bc(5 - u128::from(pick.k_ago)));
    }
    let instructor = spe(&view, &priority, &all[4], &all, false);
    assert!(instructor.exercises.iter().all(|e| !e.is_random_ago));
}

#[test]
fn s1_fix_2_missing_history_entries_are_empty() {
    let (view, priority) = spe_fixture();
    let mut all = readings();
    all[2].is_deleted = true;
    let result = spe(&view, &priority, &all[3], &all, false);
    // History: 1-ago = reading 2, 2-ago = reading 1, no 3/5-ago; nothing aborts.
    assert_eq!(result.exercises.len(), 4);
    assert!(result
        .assignment_history
        .iter()
        .all(|h| h.assignment != asg(3)));
}

#[test]
fn s1_fix_8_spe_remainder_is_redistributed_over_k_ago_entries() {
    let (view, priority) = spe_fixture();
    let mut all = readings();
    all[4].goal_num_spes = Some(5); // [(1,2), (3,1), (5,1), (0,1)]
    all[4].exercises = exercises(500, 10) // current container exhausted
        .into_iter()
        .zip(0u128..)
        .map(|(e, i)| AssignedExercise {
            trial: trial(9000 + i),
            exercise: e,
            is_pe: false,
            is_spe: false,
        })
        .collect();
    let current = all[4].clone();
    let others = [all[0].clone(), all[3].clone(), current.clone()]; // only 1- and 2-ago exist
    let result = spe(&view, &priority, &current, &others, false);
    // 1-ago takes 2; 3-ago, 5-ago, the current slot and the fill are empty;
    // the original drops 3 slots, the fix takes them from 1-ago's container.
    assert_eq!(result.exercises.len(), 5);
    assert!(result
        .exercises
        .iter()
        .all(|e| e.k_ago == 1 && e.book_container == bc(4)));
}
