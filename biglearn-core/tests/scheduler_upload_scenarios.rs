//! §5 scenarios 35–37 (UploadAssignmentExercises): PEs and both SPE variants
//! for three readings and three homeworks across two mapped ecosystems,
//! expectations recomputed under S1 fixes 5, 7 and 8.

mod scheduler_support;

use std::collections::HashSet;

use biglearn_core::ids::ExerciseId;
use biglearn_core::scheduler::{
    build_pe, build_spe, instructor_driven_history, seed_from_ids, student_driven_history,
    Assignment, AssignmentType, BookContainerMappings, EcosystemView, PeInput, PriorityOrder,
    SelectionConfig, SpeInput,
};
use scheduler_support::*;

/// §5 scenarios 35–37: two ecosystems with mapped reading and homework pools,
/// three readings and three homeworks whose homeworks use up all homework
/// exercises. All assignments are past due, so anti-cheating is idle.
struct Fixture {
    old: EcosystemView,
    new: EcosystemView,
    mappings: BookContainerMappings,
    assignments: Vec<Assignment>,
}

fn fixture(reverse: bool) -> Fixture {
    // Reading pool b: 11 − b exercises; homework pool b: 6 − b. Pools 1–2 share
    // exercises across ecosystems, pools 3–5 do not. Old bcs 1..5, new 11..15.
    let rd = |b: u128, new: bool| exercises(1000 * b + if new && b > 2 { 500 } else { 0 }, 11 - b);
    let hw =
        |b: u128, new: bool| exercises(1000 * b + 100 + if new && b > 2 { 500 } else { 0 }, 6 - b);
    let pools = |new: bool| -> Vec<_> {
        let off = if new { 10 } else { 0 };
        (1..=5)
            .flat_map(|b| {
                [
                    pool(b + off, &reading(), rd(b, new)),
                    pool(b + off, &homework(), hw(b, new)),
                ]
            })
            .collect()
    };
    let mut mappings = BookContainerMappings::new();
    let forward: Vec<_> = (1..=5).map(|b| (bc(b), bc(b + 10))).collect();
    mappings.apply_preparation(eco(1), eco(2), &forward);
    let mk = |n: u128, e: u128, kind, bcs: [u128; 2], core: Vec<ExerciseId>, spes, pes| {
        let mut a = assignment(n, eco(e), &kind, &bcs, &core);
        a.goal_num_spes = Some(spes);
        a.goal_num_pes = Some(pes);
        a.student_history_at = Some(day(if reverse {
            100 - n as i64
        } else {
            50 + n as i64
        }));
        a
    };
    let first5 = |v: Vec<ExerciseId>| v[..5].to_vec();
    let last5 = |v: Vec<ExerciseId>| v[v.len() - 5..].to_vec();
    let assignments = vec![
        mk(
            1,
            1,
            reading(),
            [1, 2],
            [first5(rd(1, false)), first5(rd(2, false))].concat(),
            0,
            0,
        ),
        mk(
            2,
            1,
            homework(),
            [1, 2],
            [hw(1, false), hw(2, false)].concat(),
            2,
            1,
        ),
        mk(
            3,
            2,
            reading(),
            [13, 14],
            [first5(rd(3, true)), first5(rd(4, true))].concat(),
            1,
            1,
        ),
        mk(
            4,
            2,
            homework(),
            [13, 14],
            [hw(3, true), hw(4, true)].concat(),
            1,
            1,
        ),
        mk(
            5,
            2,
            reading(),
            [14, 15],
            [last5(rd(4, true)), first5(rd(5, true))].concat(),
            2,
            2,
        ),
        mk(
            6,
            2,
            homework(),
            [14, 15],
            [hw(4, true), hw(5, true)].concat(),
            2,
            1,
        ),
    ];
    Fixture {
        old: EcosystemView::new(eco(1), &pools(false)),
        new: EcosystemView::new(eco(2), &pools(true)),
        mappings,
        assignments,
    }
}

/// (PEs, instructor-driven SPEs, student-driven SPEs) per assignment.
fn run(f: &Fixture) -> Vec<(Vec<ExerciseId>, Vec<ExerciseId>, Vec<ExerciseId>)> {
    let config = SelectionConfig::default();
    let none = HashSet::new();
    f.assignments
        .iter()
        .map(|a| {
            let view = if a.ecosystem == eco(1) {
                &f.old
            } else {
                &f.new
            };
            let priority = PriorityOrder::new(view.exercises().to_vec());
            let seed = seed_from_ids("scenario", &[a.id.into()]);
            let pe_input = PeInput {
                ecosystem: view,
                priority: &priority,
                assignment: a,
                excluded: &none,
                config: &config,
            };
            let pes: Vec<_> = build_pe(&pe_input, &mut seed.rng())
                .iter()
                .map(|c| c.exercise)
                .collect();
            let spes = |student: bool| -> Vec<ExerciseId> {
                let history = if student {
                    student_driven_history(a, &f.assignments)
                } else {
                    instructor_driven_history(a, &f.assignments)
                };
                let input = SpeInput {
                    ecosystem: view,
                    priority: &priority,
                    assignment: a,
                    history: &history,
                    mappings: &f.mappings,
                    excluded: &none,
                    assignment_pes: &pes,
                };
                build_spe(&input, &mut seed.rng())
                    .exercises
                    .iter()
                    .map(|e| e.exercise)
                    .collect()
            };
            (pes.clone(), spes(false), spes(true))
        })
        .collect()
}

fn within(
    got: &[ExerciseId],
    view: &EcosystemView,
    kind: &AssignmentType,
    bcs: &[u128],
    a: &Assignment,
) {
    let own = a.assigned_exercise_ids();
    for e in got {
        assert!(
            bcs.iter().any(|b| view.pool(kind, bc(*b)).contains(e)),
            "{e:?} outside {bcs:?}"
        );
        assert!(!own.contains(e));
    }
}

#[test]
fn scenario_35_no_assignments_no_pes_or_spes() {
    let f = Fixture {
        assignments: vec![],
        ..fixture(false)
    };
    assert!(run(&f).is_empty());
}

#[test]
fn scenario_36_assignments_completed_in_the_expected_order() {
    let f = fixture(false);
    let r = run(&f);
    let a = &f.assignments;
    let counts: Vec<_> = r
        .iter()
        .map(|(p, i, s)| (p.len(), i.len(), s.len()))
        .collect();
    // reading_1 wants nothing; reading_2: 1 PE, goal-1 SPE from its own bcs;
    // reading_3: 2 PEs, SPEs 1-ago (reading_2's bc 13) + current; homeworks
    // have no PE candidates; homework_3's SPEs come from homework_2's bc 13
    // (the fix-8 sweep fills its second slot there).
    assert_eq!(
        counts,
        vec![
            (0, 0, 0),
            (0, 0, 0),
            (1, 1, 1),
            (0, 0, 0),
            (2, 2, 2),
            (0, 2, 2)
        ]
    );
    within(&r[2].0, &f.new, &reading(), &[13, 14], &a[2]);
    within(&r[2].1, &f.new, &reading(), &[13, 14], &a[2]);
    within(&r[4].0, &f.new, &reading(), &[14, 15], &a[4]);
    within(&r[4].1, &f.new, &reading(), &[13, 14], &a[4]);
    assert_eq!(
        r[4].1
            .iter()
            .filter(|e| f.new.pool(&reading(), bc(13)).contains(e))
            .count(),
        1
    );
    within(&r[5].1, &f.new, &homework(), &[13], &a[5]);
    assert_eq!(r[5].1, r[5].2);
    for (pes, i, s) in &r {
        assert!(i.iter().chain(s).all(|e| !pes.contains(e)));
    }
}

#[test]
fn scenario_37_assignments_completed_in_reverse_order() {
    let f = fixture(true);
    let r = run(&f);
    let a = &f.assignments;
    let counts: Vec<_> = r
        .iter()
        .map(|(p, i, s)| (p.len(), i.len(), s.len()))
        .collect();
    // Instructor-driven results as before. Student-driven: reading_3 is first
    // in the history, so only 1 SPE (the PEs took 2 of its 3 candidates);
    // homework_1's 1-ago is homework_2, mapped back into the old ecosystem
    // (bcs 3–4), which fills both slots under fix 8; homework_3 is first.
    assert_eq!(
        counts,
        vec![
            (0, 0, 0),
            (0, 0, 2),
            (1, 1, 1),
            (0, 0, 0),
            (2, 2, 1),
            (0, 2, 0)
        ]
    );
    within(&r[1].2, &f.old, &homework(), &[3, 4], &a[1]);
    within(&r[4].2, &f.new, &reading(), &[14, 15], &a[4]);
}
