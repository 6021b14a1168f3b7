//! scheduler.md §5 scenarios 44–47 (PrepareEcosystemMatrixUpdates), S1
//! fix 10 and the time-driven recalculation, on our design (F4): course
//! commits count real responses per exercise group (distinct trials, across
//! courses and versions, S1 fix 14); an ecosystem needs a refit when never
//! fitted or when a group reached the threshold floor(1.1·count)+1 its last
//! refit set; a refit replaces the ecosystem's one matrix slot and wakes
//! the courses using it, whose next step recalculates their results. "An
//! EcosystemMatrixUpdate row" becomes "the ecosystem is pending a refit".

// Test helpers: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod engine_support;
mod projection_support;

use biglearn_core::engine::refit::ecosystem_counts;
use biglearn_core::engine_store::EngineStore;
use biglearn_core::ids::ExerciseGroupId;
use biglearn_core::log::Event;
use biglearn_core::memory::MemoryStore;
use biglearn_core::time::Instant;
use engine_support::*;
use projection_support::*;

fn counts(store: &MemoryStore, groups: &[u128]) -> Vec<u64> {
    let ids: Vec<ExerciseGroupId> = groups.iter().map(|g| grp(*g)).collect();
    store.group_counts(&ids).unwrap()
}

fn pending(store: &MemoryStore) -> Vec<biglearn_core::ids::EcosystemId> {
    engine().pending_refits(store).unwrap()
}

/// Students 1, 2; assignment 1 (student 1: trials 101 ex(1), 102 ex(2)),
/// assignment 2 (student 2: trials 201 ex(1), 202 ex(3)); real answers to
/// 101, 201 (group 1 twice) and 102 (group 2 once), sequence 0..=6.
fn answered() -> Vec<Event> {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    let mut second = Asg::new(2, 2);
    second.trials = vec![(201, 1, false, false), (202, 3, false, false)];
    events.push(second.event(3));
    events.push(Resp::new(1, 101, 1, 1).event(4));
    events.push(Resp::new(2, 201, 2, 1).event(5));
    events.push(Resp::new(3, 102, 1, 2).event(6));
    events
}

/// Scenario 44: no ecosystem and no response: nothing is pending and no
/// matrix exists; an imported ecosystem without responses has zero counts.
#[test]
fn scenario_44_no_data_no_matrix_updates() {
    let store = MemoryStore::new();
    run(&store);
    assert!(pending(&store).is_empty());
    assert_eq!(store.matrix(eco(1)).unwrap(), None);
    let store = store_with(false, &base_events());
    run(&store);
    assert_eq!(counts(&store, &[1, 2, 3, 4, 5, 6]), vec![0; 6]);
    assert_eq!(store.matrix(eco(1)).unwrap(), None, "steps never fit");
}

/// Scenario 45: each real response is counted once, when its bundle is
/// committed: a second answer to a counted trial, a preview answer, a
/// redelivered bundle and a restarted engine count nothing again.
#[test]
fn scenario_45_responses_are_counted_once() {
    let mut events = answered();
    events.push(Resp::new(4, 101, 1, 1).event(7));
    let mut preview = Resp::new(5, 202, 2, 3);
    preview.real = false;
    events.push(preview.event(8));
    let store = store_with(false, &events);
    run(&store);
    assert_eq!(counts(&store, &[1, 2, 3]), vec![2, 1, 0]);
    append_all(&store, &events);
    run(&store);
    assert!(run(&store).is_idle());
    assert_eq!(counts(&store, &[1, 2, 3]), vec![2, 1, 0]);
    append_all(&store, &[Resp::new(6, 202, 2, 3).event(9)]);
    run(&store);
    assert_eq!(counts(&store, &[1, 2, 3]), vec![2, 1, 1]);
}

/// Scenario 46 (+ S1 fix 14): a never-fitted ecosystem is pending; a refit
/// sets each group's threshold to floor(1.1·count)+1 and clears it; a
/// preview answer or a second answer to a counted trial triggers nothing;
/// a new trial reaching a group's threshold makes the ecosystem pending.
#[test]
fn scenario_46_groups_reaching_their_threshold_trigger_a_refit() {
    let store = store_with(false, &answered());
    run(&store);
    assert_eq!(pending(&store), vec![eco(1)], "never fitted");
    let report = engine().refit(&store, eco(1), day(30)).unwrap();
    assert_eq!(report.ecosystem, eco(1));
    assert_eq!(report.responses, 3);
    assert!(pending(&store).is_empty());
    let state = engine_state_of_eco1(&store);
    let after = ecosystem_counts(&store, &state).unwrap();
    let next = |g| after.get(grp(g)).unwrap().next_update_response_count;
    assert_eq!((next(1), next(2), next(3)), (3, 2, 1));

    let mut preview = Resp::new(4, 202, 2, 3);
    preview.real = false;
    append_all(
        &store,
        &[preview.event(7), Resp::new(5, 101, 1, 1).event(8)],
    );
    run(&store);
    assert!(pending(&store).is_empty(), "below every threshold");
    let mut third = Asg::new(3, 2);
    third.trials = vec![(301, 2, false, false)];
    append_all(&store, &[third.event(9), Resp::new(6, 301, 2, 2).event(10)]);
    run(&store);
    assert_eq!(counts(&store, &[2]), vec![2]);
    assert_eq!(pending(&store), vec![eco(1)], "group 2 reached 2");
}

fn engine_state_of_eco1(store: &MemoryStore) -> biglearn_core::projection::EcosystemState {
    ecosystem_state(store, 1)
}

/// Scenario 47: with matrices for two ecosystems, a refit replaces only the
/// refitted ecosystem's slot (one matrix per ecosystem, no history kept);
/// the other keeps its own.
#[test]
fn scenario_47_a_refit_replaces_only_its_ecosystems_matrix() {
    let mut events = answered();
    let mut in_eco2 = Asg::new(4, 1);
    in_eco2.eco = 2;
    in_eco2.bcs = vec![11];
    in_eco2.trials = vec![(401, 11, false, false)];
    events.push(in_eco2.event(7));
    let mut answer = Resp::new(7, 401, 1, 11);
    answer.eco = 2;
    events.push(answer.event(8));
    let store = store_with(true, &events);
    run(&store);
    let mut engine = engine();
    engine.refit(&store, eco(1), day(30)).unwrap();
    engine.refit(&store, eco(2), day(30)).unwrap();
    let first = store.matrix(eco(1)).unwrap().unwrap();
    let other = store.matrix(eco(2)).unwrap().unwrap();
    assert_ne!(first.matrix_uuid, other.matrix_uuid);
    let mut third = Asg::new(3, 2);
    third.trials = vec![(301, 2, false, false)];
    append_all(&store, &[third.event(9), Resp::new(4, 301, 2, 2).event(10)]);
    run(&store);
    let report = engine.refit(&store, eco(1), day(31)).unwrap();
    let replaced = store.matrix(eco(1)).unwrap().unwrap();
    assert_eq!(replaced.matrix_uuid, report.matrix_uuid);
    assert_ne!(
        replaced.matrix_uuid, first.matrix_uuid,
        "new data, new matrix"
    );
    assert_eq!(store.matrix(eco(2)).unwrap(), Some(other));
}

/// S1 fix 10: a refit re-triggers the CLUE and exercise calculations of the
/// courses using the ecosystem: the next step, with no new event, stores
/// `biglearn_sparfa` PEs, worst areas and CLUEs carrying the new matrix.
#[test]
fn s1_fix_10_a_refit_wakes_the_course_and_its_results_use_the_new_matrix() {
    let store = store_with(false, &answered());
    run(&store);
    assert_eq!(
        student_clue(&store, 1, 1, "biglearn_sparfa")
            .unwrap()
            .ecosystem_matrix_uuid,
        None,
        "cold start"
    );
    let report = engine().refit(&store, eco(1), day(30)).unwrap();
    assert!(report.courses_woken >= 1, "{report:?}");
    let step = run(&store);
    assert!(!step.is_idle(), "woken without new events: {step:?}");
    let matrix = report.matrix_uuid;
    let sparfa = "biglearn_sparfa";
    assert_eq!(
        pes(&store, 1, sparfa).unwrap().ecosystem_matrix_uuid,
        matrix
    );
    assert_eq!(
        worst(&store, 1, sparfa).unwrap().ecosystem_matrix_uuid,
        matrix
    );
    for (s, b) in [(1, 1), (2, 1)] {
        let row = student_clue(&store, s, b, sparfa).unwrap();
        assert_eq!(row.ecosystem_matrix_uuid, Some(matrix), "student {s}");
    }
    let teacher = teacher_clue(&store, 1, 1, sparfa).unwrap();
    assert_eq!(teacher.ecosystem_matrix_uuid, Some(matrix));
    assert!(run(&store).is_idle(), "recalculated once");
}

/// Assignment 1 (student 1, feedback on day 20) and assignment 2 (student
/// 1, due day 20) issuing ex(3), the last exercise of assignment 1's
/// reading pool; three wrong answers on day 2, enough for a real CLUE.
fn feedback_pending() -> Vec<Event> {
    let mut events = base_events();
    let mut first = Asg::new(1, 1);
    first.feedback = Some(20);
    events.push(first.event(2));
    let mut second = Asg::new(2, 1);
    second.due = Some(20);
    second.trials = vec![(201, 3, false, false)];
    events.push(second.event(3));
    for (k, (t, e)) in [(101, 1), (102, 2), (201, 3)].into_iter().enumerate() {
        let mut wrong = Resp::new(k as u128 + 1, t, 1, e);
        wrong.correct = false;
        events.push(wrong.event(k as u64 + 4));
    }
    events
}

/// Time-driven recalculation (§3.2 student-CLUE hiding, §2.2 anti-cheating):
/// a course calculated before a feedback/due date and woken after it, with
/// no new event, ends with the same student CLUE and PEs as a course
/// calculated after the date from the start.
#[test]
fn dates_passing_recalculate_clues_and_exercises_without_new_events() {
    let before: Instant = day(5);
    let after: Instant = day(25);
    let woken = store_with(false, &feedback_pending());
    run_at(&woken, before);
    let hidden = student_clue(&woken, 1, 1, "local_query");
    assert_eq!(
        pes(&woken, 1, "local_query").unwrap().exercise_uuids,
        vec![]
    );
    let step = run_at(&woken, after);
    assert!(!step.is_idle(), "woken by the dates: {step:?}");

    let fresh = store_with(false, &feedback_pending());
    run_at(&fresh, after);
    let visible = student_clue(&fresh, 1, 1, "local_query").expect("feedback visible");
    assert!(visible.clue_data.is_real, "{visible:?}");
    assert_ne!(hidden.map(|c| c.clue_data), Some(visible.clue_data));
    for n in ALGORITHMS {
        let got = student_clue(&woken, 1, 1, n).expect("recalculated CLUE");
        let want = student_clue(&fresh, 1, 1, n).unwrap();
        assert_eq!(got.clue_data, want.clue_data, "{n}");
        let got = pes(&woken, 1, n).unwrap().exercise_uuids;
        assert_eq!(got, vec![ex(3)], "assignment 2 is past due: {n}");
    }
}
