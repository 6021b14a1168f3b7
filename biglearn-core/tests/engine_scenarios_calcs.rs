//! scheduler.md §5 scenarios 18, 19, 22–27 and 41 (side-effect jobs,
//! exercise-calculation preparation, student history, CLUE preparation),
//! asserted on our design: instead of calculation rows with
//! `recalculate_at`, pending lists and `superseded_at`, each event marks
//! its targets dirty and the engine rewrites their results in the commit of
//! the bundle. A result's calculation uuid is derived from the target and
//! the sequence number of the event that last dirtied it
//! ([`calculation_id`]), so "a new calculation was made because of event n"
//! is checked exactly, and "left untouched" means the uuid did not move.

// Test helpers: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod engine_support;
mod projection_support;

use biglearn_core::engine::recalc::calculation_id;
use biglearn_core::ids::CalculationId;
use biglearn_core::log::SequenceNumber;
use biglearn_core::projection::CourseViews;
use engine_support::*;
use projection_support::*;

fn seq(n: u64) -> SequenceNumber {
    SequenceNumber::new(n).unwrap()
}

fn assignment_calc(a: u128, at: u64) -> CalculationId {
    calculation_id(
        "assignment_exercises",
        course_id(),
        &[asg(a).into()],
        seq(at),
    )
}

fn student_clue_calc(s: u128, b: u128, at: u64) -> CalculationId {
    calculation_id(
        "student_clue",
        course_id(),
        &[student(s).into(), bc(b).into()],
        seq(at),
    )
}

fn teacher_clue_calc(c: u128, b: u128, at: u64) -> CalculationId {
    calculation_id(
        "teacher_clue",
        course_id(),
        &[cc(c).into(), bc(b).into()],
        seq(at),
    )
}

fn worst_calc(s: u128, at: u64) -> CalculationId {
    calculation_id("worst_areas", course_id(), &[student(s).into()], seq(at))
}

/// Students 1 and 2 in cc(1); assignment 1 of student 1 answered (seq 3),
/// and eco(1) → eco(2) prepared with every container mapped (seq 4).
fn prepared_course() -> Vec<biglearn_core::log::Event> {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Resp::new(1, 101, 1, 1).event(3));
    events.push(prepare(4, 1, 1, 2, &[(0, 10), (1, 11), (2, 12)]));
    events
}

/// Scenario 18 (+ S1 fix 4): the course-ecosystem side effect recalculates
/// the student's CLUEs *and* the teacher CLUEs of the course in the new
/// ecosystem (uuid of the update's sequence number) and retires the rows of
/// the old book containers.
#[test]
fn scenario_18_ecosystem_change_recalculates_student_and_teacher_clues() {
    let store = store_with(true, &prepared_course());
    run(&store);
    for n in ALGORITHMS {
        assert_eq!(
            student_clue(&store, 1, 1, n).unwrap().calculation_uuid,
            student_clue_calc(1, 1, 3)
        );
        assert!(teacher_clue(&store, 1, 1, n).is_some());
    }
    append_all(&store, &[update_ecosystem(5, 1)]);
    run(&store);
    for n in ALGORITHMS {
        let s = student_clue(&store, 1, 11, n).expect("student CLUE re-mapped");
        assert_eq!(s.calculation_uuid, student_clue_calc(1, 11, 5), "{n}");
        assert_eq!(s.clue_data.ecosystem_uuid, Some(eco(2)));
        let t = teacher_clue(&store, 1, 11, n).expect("teacher CLUE re-mapped");
        assert_eq!(t.calculation_uuid, teacher_clue_calc(1, 11, 5), "{n}");
        assert_eq!(t.clue_data.ecosystem_uuid, Some(eco(2)));
        for b in [0, 1] {
            assert_eq!(student_clue(&store, 1, b, n), None, "old bc({b}) {n}");
            assert_eq!(teacher_clue(&store, 1, b, n), None, "old bc({b}) {n}");
        }
    }
}

/// Scenario 19: the roster side effect recalculates the teacher CLUEs of
/// the course's containers; a student whose place did not change keeps
/// its own CLUE.
#[test]
fn scenario_19_roster_change_recalculates_teacher_clues() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Resp::new(1, 101, 1, 1).event(3));
    let store = store_with(false, &events);
    run(&store);
    for n in ALGORITHMS {
        assert_eq!(
            teacher_clue(&store, 1, 1, n).unwrap().calculation_uuid,
            teacher_clue_calc(1, 1, 3)
        );
    }
    // Student 2 moves to a new period cc(2); student 1 stays in cc(1).
    append_all(
        &store,
        &[roster(4, &[(1, None), (2, None)], &[(1, 1), (2, 2)])],
    );
    run(&store);
    for n in ALGORITHMS {
        assert_eq!(
            teacher_clue(&store, 1, 1, n).unwrap().calculation_uuid,
            teacher_clue_calc(1, 1, 4),
            "{n}"
        );
        assert_eq!(
            student_clue(&store, 1, 1, n).unwrap().calculation_uuid,
            student_clue_calc(1, 1, 3),
            "unchanged student {n}"
        );
        assert_eq!(teacher_clue(&store, 2, 1, n), None, "no answers in cc(2)");
    }
}

/// Scenario 22: a new assignment of a student who already has results.
/// Its exercises collide with another assignment of the student still
/// needing PEs (the original's pending list) and with the worst areas
/// (`is_pending_for_student`): both are recalculated with the new
/// assignment's sequence number, and anti-cheating removes the colliding
/// exercise from the other assignment's PEs.
#[test]
fn scenario_22_new_assignment_recalculates_the_students_colliding_assignments() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Resp::new(1, 101, 1, 1).event(3));
    events.push(Asg::new(3, 2).event(4));
    let store = store_with(false, &events);
    run(&store);
    for n in ALGORITHMS {
        let row = pes(&store, 1, n).unwrap();
        assert_eq!(row.calculation_uuid, assignment_calc(1, 3));
        assert_eq!(row.exercise_uuids, vec![ex(3)]);
    }
    let untouched = pes(&store, 3, "local_query").unwrap();
    // Assignment 2 (student 1) issues ex(3) and is due after "now" (day 30).
    let mut second = Asg::new(2, 1);
    second.due = Some(40);
    second.trials = vec![(201, 3, false, false)];
    append_all(&store, &[second.event(5)]);
    run(&store);
    for n in ALGORITHMS {
        let row = pes(&store, 1, n).unwrap();
        assert_eq!(row.calculation_uuid, assignment_calc(1, 5), "{n}");
        assert!(row.exercise_uuids.is_empty(), "anti-cheating: {n}");
        assert_eq!(
            pes(&store, 2, n).unwrap().calculation_uuid,
            assignment_calc(2, 5)
        );
        assert_eq!(
            worst(&store, 1, n).unwrap().calculation_uuid,
            worst_calc(1, 5)
        );
        assert_eq!(
            worst(&store, 2, n).unwrap().calculation_uuid,
            worst_calc(2, 4)
        );
    }
    assert_eq!(
        pes(&store, 3, "local_query").unwrap(),
        untouched,
        "other student"
    );
}

/// Scenario 23: a course with students but no assignments or responses
/// gets no PEs, SPEs or CLUEs; the worst areas are written empty.
#[test]
fn scenario_23_no_assignments_or_responses_no_exercise_results() {
    let store = store_with(false, &base_events());
    run(&store);
    let all = results(&store);
    for (key, row) in &all.exercises {
        match key.target {
            biglearn_core::engine_store::ExerciseTarget::PracticeWorstAreas(s)
                if s == student(1) || s == student(2) =>
            {
                let row = row.as_ref().expect("worst areas of a roster student");
                assert!(row.exercise_uuids.is_empty(), "{key:?}");
            }
            _ => assert_eq!(row, &None, "{key:?}"),
        }
    }
    assert!(all.clues.iter().all(|(_, r)| r.is_none()));
}

/// Scenario 24: assignments in four ecosystems: each assignment's PEs are
/// calculated in its own ecosystem, and every roster student gets worst
/// areas in the course's current ecosystem.
#[test]
fn scenario_24_each_assignment_is_calculated_in_its_own_ecosystem() {
    let store = store_with(true, &[]);
    append_all(&store, &[standard_ecosystem(20), standard_ecosystem(30)]);
    let mut events = base_events();
    for (a, s, e) in [(1, 1, 1), (2, 1, 2), (3, 2, 3), (4, 2, 4)] {
        let mut assignment = Asg::new(a, s);
        let base = (e - 1) * 10;
        assignment.eco = e;
        assignment.bcs = vec![base + 1];
        assignment.trials = vec![(a * 100 + 1, base + 1, false, false)];
        events.push(assignment.event(a as u64 + 1));
    }
    events.push(Resp::new(1, 101, 1, 1).event(6));
    append_all(&store, &events);
    let report = run(&store);
    assert_eq!(report.problems, 0, "{:?}", problems(&store));
    for (a, e) in [(1, 1), (2, 2), (3, 3), (4, 4)] {
        let base = (e - 1) * 10;
        for n in ALGORITHMS {
            let row = pes(&store, a, n).expect("PEs in the assignment's ecosystem");
            let mut got = row.exercise_uuids.clone();
            got.sort();
            assert_eq!(got, vec![ex(base + 2), ex(base + 3)], "assignment {a} {n}");
        }
    }
    for s in [1, 2] {
        for n in ALGORITHMS {
            assert!(worst(&store, s, n).is_some(), "student {s} {n}");
        }
    }
}

/// Scenario 25: a new response makes a new calculation for the student's
/// assignment (uuid of the response's sequence number) that replaces the
/// old one in place: one row per (assignment, algorithm).
#[test]
fn scenario_25_a_new_response_supersedes_the_previous_calculation() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    let store = store_with(false, &events);
    run(&store);
    let old = pes(&store, 1, "biglearn_sparfa").unwrap();
    assert_eq!(old.calculation_uuid, assignment_calc(1, 2));
    append_all(&store, &[Resp::new(1, 101, 1, 1).event(3)]);
    run(&store);
    for n in ALGORITHMS {
        let new = pes(&store, 1, n).unwrap();
        assert_eq!(new.calculation_uuid, assignment_calc(1, 3), "{n}");
        assert_ne!(new.calculation_uuid, old.calculation_uuid);
    }
    for n in SPE_ALGORITHMS {
        assert_eq!(
            spes(&store, 1, n).unwrap().calculation_uuid,
            assignment_calc(1, 3)
        );
    }
}

/// Scenario 26: without assignments a response changes nothing: it joins
/// no trial (recorded as a problem), so no history, PE or CLUE moves.
#[test]
fn scenario_26_no_assignments_history_unchanged() {
    let store = store_with(false, &base_events());
    run(&store);
    let before = results(&store);
    append_all(&store, &[Resp::new(1, 999, 1, 1).event(2)]);
    let report = run(&store);
    assert_eq!(report.bundles_committed, 1);
    assert_eq!(report.result_writes, 0);
    assert_eq!(results(&store), before);
    assert_eq!(problem_kinds(&store), vec!["unknown_trial".to_owned()]);
    assert_eq!(
        worst(&store, 1, "local_query").unwrap().calculation_uuid,
        worst_calc(1, 1)
    );
}

/// Scenario 27: every new response is used by the student history at once:
/// answering assignment 1's core exercises on time completes it at the
/// last first answer, and the SPEs of the student's other assignment,
/// which read that history, are recalculated with the response.
#[test]
fn scenario_27_every_new_response_enters_the_student_history() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    let mut homework = Asg::new(2, 1);
    homework.kind = "homework";
    homework.bcs = vec![2];
    homework.opens = Some(4);
    homework.due = Some(20);
    homework.trials = vec![(201, 4, false, false)];
    events.push(homework.event(3));
    events.push(Resp::new(1, 101, 1, 1).event(4));
    let mut second = Resp::new(2, 102, 1, 2);
    second.day = 3;
    events.push(second.event(5));
    let store = store_with(false, &events);
    let now = day(5);
    run_at(&store, now);
    let state = course_state(&store).course;
    let catalog = catalog();
    let views = CourseViews::new(&state, &catalog);
    let first = views.assignment(asg(1), now).unwrap();
    assert_eq!(first.student_history_at, Some(day(3)), "completed on time");
    let open = views.assignment(asg(2), now).unwrap();
    assert_eq!(open.student_history_at, None, "not answered, not due");
    for n in SPE_ALGORITHMS {
        assert_eq!(
            spes(&store, 2, n).unwrap().calculation_uuid,
            assignment_calc(2, 5),
            "{n}"
        );
    }
}

/// Scenario 41: without responses no CLUE row is written, even when an
/// exclusion change marks every CLUE of the course dirty.
#[test]
fn scenario_41_no_responses_no_clues() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Asg::new(2, 2).event(3));
    events.push(exclusions(4, false, &[3], &[]));
    let store = store_with(false, &events);
    run(&store);
    let all = results(&store);
    assert!(
        all.clues.iter().all(|(_, r)| r.is_none()),
        "{:?}",
        all.clues
    );
    assert!(course_state(&store).student_clues.is_empty());
    assert!(course_state(&store).teacher_clues.is_empty());
}
