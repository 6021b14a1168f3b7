//! A new matrix is caught up with in bounded slices behind the responses
//! (`biglearn_core::engine::catch_up`): a step first processes the bundles,
//! then recalculates at most `catch_up_budget(events it applied)` units for
//! new matrices; the cursor is stored with the course, so a restarted
//! engine goes on where the last one stopped.

// The helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod engine_support;
mod projection_support;

use biglearn_core::engine::catch_up::{
    catch_up_budget, container_cost, CATCH_UP_UNITS_PER_STEP, CATCH_UP_UNITS_UNDER_LOAD,
};
use biglearn_core::engine::Engine;
use biglearn_core::ids::EcosystemMatrixId;
use biglearn_core::log::BundleLimits;
use biglearn_core::memory::MemoryStore;
use engine_support::*;
use projection_support::*;

/// Students in the course: with one assignment each (needing PEs and
/// SPEs) and the period, more units than one step catches up with.
const STUDENTS: u128 = 200;

/// eco(1); period cc(1) with students 1..=STUDENTS, each with reading
/// `i` and one answer to its first trial.
fn big_course() -> MemoryStore {
    let students: Vec<(u128, u128)> = (1..=STUDENTS).map(|s| (s, 1)).collect();
    let mut events = vec![create_course(1), roster(1, &[(1, None)], &students)];
    let mut seq = 2;
    for s in 1..=STUDENTS {
        events.push(Asg::new(s, s).event(seq));
        events.push(Resp::new(s, s * 100 + 1, s, 1).event(seq + 1));
        seq += 2;
    }
    store_with(false, &events)
}

fn next_seq() -> u64 {
    2 + 2 * STUDENTS as u64
}

/// How many of the students' `biglearn_sparfa` PE rows, student CLUE rows
/// (chapter bc(0)) and the period's teacher CLUE row were calculated with
/// `matrix`.
fn with_matrix(store: &MemoryStore, matrix: EcosystemMatrixId) -> (usize, usize, bool) {
    let pes = (1..=STUDENTS)
        .filter(|s| {
            pes(store, *s, "biglearn_sparfa")
                .unwrap()
                .ecosystem_matrix_uuid
                == matrix
        })
        .count();
    let clues = (1..=STUDENTS)
        .filter(|s| {
            student_clue(store, *s, 0, "biglearn_sparfa")
                .unwrap()
                .ecosystem_matrix_uuid
                == Some(matrix)
        })
        .count();
    let teacher = teacher_clue(store, 1, 0, "biglearn_sparfa")
        .unwrap()
        .ecosystem_matrix_uuid
        == Some(matrix);
    (pes, clues, teacher)
}

fn all_units() -> usize {
    // Students, their assignments, and the period.
    2 * STUDENTS as usize + container_cost(STUDENTS as usize)
}

#[test]
fn a_new_matrix_is_caught_up_in_slices_after_the_responses() {
    assert!(all_units() > CATCH_UP_UNITS_PER_STEP);
    let store = big_course();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    engine.run_until_idle(&store, day(20), 100).unwrap();
    let matrix = engine.refit(&store, eco(1), day(20)).unwrap().matrix_uuid;
    assert_eq!(with_matrix(&store, matrix), (0, 0, false));
    // A response arrives after the refit: its bundle goes first and is
    // calculated with the new matrix; then one slice of the catch-up.
    append_all(&store, &[Resp::new(9999, 102, 1, 2).event(next_seq())]);
    let first = engine.step(&store, day(20)).unwrap();
    assert_eq!(first.bundles_committed, 1);
    assert_eq!(first.events_applied, 1);
    // The event took one unit off the step's catch-up.
    assert_eq!(first.matrix_catch_up_units, CATCH_UP_UNITS_PER_STEP - 1);
    assert_eq!(first.matrix_catch_up_units, catch_up_budget(1));
    assert_eq!(engine.courses_catching_up(), 1);
    // Students first (every student CLUE), then assignments in id order:
    // some PEs still read the old matrix. The answer counts for the
    // period's chapter CLUE, which its bundle recalculated with the new
    // matrix.
    let (pes_done, clues_done, teacher_done) = with_matrix(&store, matrix);
    assert_eq!(clues_done, STUDENTS as usize);
    assert!(pes_done > 0 && pes_done < STUDENTS as usize, "{pes_done}");
    assert!(teacher_done);
    // The rest follows in the next steps; then the course is idle.
    let rest = engine.run_until_idle(&store, day(20), 100).unwrap();
    assert_eq!(
        first.matrix_catch_up_units + rest.matrix_catch_up_units,
        all_units()
    );
    assert_eq!(
        with_matrix(&store, matrix),
        (STUDENTS as usize, STUDENTS as usize, true)
    );
    assert_eq!(engine.courses_catching_up(), 0);
    assert!(course_state(&store).matrix_catch_up.is_none());
    assert!(engine.step(&store, day(20)).unwrap().is_idle());
}

#[test]
fn a_restarted_engine_goes_on_with_the_stored_catch_up() {
    let store = big_course();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    engine.run_until_idle(&store, day(20), 100).unwrap();
    let matrix = engine.refit(&store, eco(1), day(20)).unwrap().matrix_uuid;
    let first = engine.step(&store, day(20)).unwrap();
    assert_eq!(first.matrix_catch_up_units, CATCH_UP_UNITS_PER_STEP);
    assert!(course_state(&store).matrix_catch_up.is_some());
    // Without an answer, the period's CLUE waits for its turn.
    assert!(!with_matrix(&store, matrix).2);
    drop(engine);
    // A fresh engine finds the course still due and finishes from the
    // stored cursor: only the units left are recalculated.
    let mut restarted = Engine::new(consumer(), BundleLimits::default());
    let rest = restarted.run_until_idle(&store, day(21), 100).unwrap();
    assert_eq!(rest.bundles_committed, 0);
    assert_eq!(
        rest.matrix_catch_up_units,
        all_units() - CATCH_UP_UNITS_PER_STEP
    );
    assert_eq!(
        with_matrix(&store, matrix),
        (STUDENTS as usize, STUDENTS as usize, true)
    );
    assert!(course_state(&store).matrix_catch_up.is_none());
}

#[test]
fn rows_the_catch_up_already_did_are_not_recalculated_again() {
    let store = big_course();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    engine.run_until_idle(&store, day(20), 100).unwrap();
    engine.refit(&store, eco(1), day(20)).unwrap();
    engine.step(&store, day(20)).unwrap();
    let after_first = student_clue(&store, 1, 0, "biglearn_sparfa").unwrap();
    engine.run_until_idle(&store, day(20), 100).unwrap();
    // Student 1's CLUE was recalculated by the first slice, and only then.
    assert_eq!(
        student_clue(&store, 1, 0, "biglearn_sparfa").unwrap(),
        after_first
    );
}

#[test]
fn a_step_under_load_leaves_the_catch_up_its_smallest_slice() {
    assert_eq!(catch_up_budget(0), CATCH_UP_UNITS_PER_STEP);
    assert_eq!(catch_up_budget(100), CATCH_UP_UNITS_PER_STEP - 100);
    assert_eq!(catch_up_budget(10_000), CATCH_UP_UNITS_UNDER_LOAD);
    let store = big_course();
    let mut engine = Engine::new(consumer(), BundleLimits::default());
    engine.run_until_idle(&store, day(20), 100).unwrap();
    let matrix = engine.refit(&store, eco(1), day(20)).unwrap().matrix_uuid;
    // Every student answers its first trial twice more: 400 events in one
    // step, more than a whole slice.
    let mut seq = next_seq();
    let mut answers = Vec::new();
    for round in 0..2 {
        for s in 1..=STUDENTS {
            answers.push(Resp::new(20_000 + round * 1_000 + s, s * 100 + 1, s, 2).event(seq));
            seq += 1;
        }
    }
    append_all(&store, &answers);
    let loaded = engine.step(&store, day(20)).unwrap();
    assert_eq!(loaded.events_applied, 2 * STUDENTS as usize);
    assert_eq!(loaded.matrix_catch_up_units, CATCH_UP_UNITS_UNDER_LOAD);
    // The answers' own bundles used the new matrix for every student CLUE.
    let (_, clues_done, teacher_done) = with_matrix(&store, matrix);
    assert_eq!(clues_done, STUDENTS as usize);
    assert!(teacher_done);
    // Idle steps finish the sweep with full slices.
    let rest = engine.run_until_idle(&store, day(20), 100).unwrap();
    assert_eq!(rest.events_applied, 0);
    assert_eq!(
        with_matrix(&store, matrix),
        (STUDENTS as usize, STUDENTS as usize, true)
    );
    assert_eq!(engine.courses_catching_up(), 0);
}
