//! scheduler.md §5 scenarios 1–5 and 8–17 (metadata, ecosystem and course
//! events), asserted on our design: no metadata/event polling and no
//! side-effect jobs; the [`Engine`](biglearn_core::engine::Engine) reads
//! event bundles from the store, keeps one projected state per course and
//! ecosystem, and recalculates what each event marks dirty. "Sequence =
//! event seq + 1" becomes the state's `last_sequence_number` (the next event
//! expected is one more); "a side-effect job is enqueued" becomes "the
//! affected results are rewritten in the same commit".

// Test helpers: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod engine_support;
mod projection_support;

use biglearn_core::engine::recalc::calculation_id;
use biglearn_core::engine_store::EngineStore;
use biglearn_core::log::SequenceNumber;
use biglearn_core::memory::MemoryStore;
use biglearn_core::projection::exercise_pool_id;
use biglearn_core::scheduler::CourseExclusions;
use engine_support::*;
use projection_support::*;

fn seq(n: u64) -> SequenceNumber {
    SequenceNumber::new(n).unwrap()
}

/// A course with assignment 1 of student 1 answered once (sequence 0..=3).
fn answered_course() -> Vec<biglearn_core::log::Event> {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Resp::new(1, 101, 1, 1).event(3));
    events
}

/// Scenario 1: nothing appended, so the engine finds no course or
/// ecosystem and creates no state, result or problem.
#[test]
fn scenario_01_empty_metadata_creates_nothing() {
    let store = MemoryStore::new();
    let report = run(&store);
    assert!(report.is_idle(), "{report:?}");
    assert_eq!(store.course_state(&consumer(), course_id()).unwrap(), None);
    assert_eq!(store.ecosystem_state(eco(1)).unwrap(), None);
    assert_eq!(store.course_problems(course_id(), 10).unwrap().total, 0);
    assert_eq!(results(&store).count(), 0);
}

/// Scenario 2: a known course and ecosystem plus a new one of each: only
/// the new ones get states (the course with its initial ecosystem, sequence
/// 0 and empty exclusion lists); the known states stay bit for bit.
#[test]
fn scenario_02_only_unknown_courses_and_ecosystems_are_created() {
    let store = store_with(false, &answered_course());
    run(&store);
    let known_course = store.course_state(&consumer(), course_id()).unwrap();
    let known_ecosystem = store.ecosystem_state(eco(1)).unwrap();
    assert!(known_course.is_some() && known_ecosystem.is_some());

    append_all(&store, &[standard_ecosystem(10), create_other_course(1, 2)]);
    let report = run(&store);
    assert_eq!(report.ecosystems_saved, 1, "{report:?}");
    assert_eq!(report.bundles_committed, 1, "{report:?}");
    let new = state_of(&store, other_course(1)).expect("new course state");
    assert!(new.course.created);
    assert_eq!(new.course.initial_ecosystem, Some(eco(2)));
    assert_eq!(new.course.current_ecosystem, Some(eco(2)));
    assert_eq!(new.course.last_sequence_number, Some(seq(0)));
    assert_eq!(new.course.exclusions, CourseExclusions::default());
    assert!(new.course.students.is_empty() && new.course.assignments.is_empty());
    let eco2 = store
        .ecosystem_state(eco(2))
        .unwrap()
        .expect("new ecosystem");
    assert_eq!(eco2.through, seq(0));
    assert!(ecosystem_state(&store, 2).imported);

    assert_eq!(
        store.course_state(&consumer(), course_id()).unwrap(),
        known_course
    );
    assert_eq!(store.ecosystem_state(eco(1)).unwrap(), known_ecosystem);
}

/// Scenario 3: an ecosystem stream without new events (and a replayed
/// create_ecosystem) changes no stored ecosystem state.
#[test]
fn scenario_03_no_ecosystem_events_change_nothing() {
    let store = store_with(false, &[]);
    assert_eq!(run(&store).ecosystems_saved, 1);
    let saved = store.ecosystem_state(eco(1)).unwrap();
    let again = run(&store);
    assert!(again.is_idle(), "{again:?}");
    append_all(&store, &[standard_ecosystem(0)]);
    assert!(run(&store).is_idle());
    assert_eq!(store.ecosystem_state(eco(1)).unwrap(), saved);
}

/// Scenario 4: create_ecosystem gives one pool per (container, pool) with
/// a derived id, every exercise with its group and version, the exercise
/// order of the event, and a state through sequence 0. Exercise groups are
/// shared by uuid across ecosystems; re-applying the event adds nothing.
#[test]
fn scenario_04_create_ecosystem_builds_pools_groups_and_exercises() {
    let store = store_with(true, &[]);
    run(&store);
    let snapshot = store.ecosystem_state(eco(1)).unwrap().unwrap();
    assert_eq!(snapshot.through, seq(0));
    let mut state = ecosystem_state(&store, 1);
    assert!(state.imported);
    // Chapter bc(0): one CLUE pool; pages bc(1), bc(2): CLUE + personalized.
    assert_eq!(state.pools.len(), 5);
    for pool in &state.pools {
        assert_eq!(
            pool.id,
            exercise_pool_id(eco(1), pool.book_container, pool.index)
        );
    }
    let per_container = |b| {
        state
            .pools
            .iter()
            .filter(|p| p.book_container == bc(b))
            .count()
    };
    assert_eq!(
        (per_container(0), per_container(1), per_container(2)),
        (1, 2, 2)
    );
    assert_eq!(state.exercise_order, (1..=6).map(ex).collect::<Vec<_>>());
    assert_eq!(state.exercises.len(), 6);
    let other = ecosystem_state(&store, 2);
    for k in 1..=6 {
        assert_eq!(state.exercises[&ex(k)].group, grp(k));
        assert_eq!(other.exercises[&ex(10 + k)].group, grp(k), "shared group");
        assert_eq!(
            (
                state.exercises[&ex(k)].version,
                other.exercises[&ex(10 + k)].version
            ),
            (1, 2)
        );
    }
    let before = state.clone();
    assert!(!state.apply(&standard_ecosystem(0)), "an existing import");
    assert_eq!(state, before);
}

/// Scenario 5: a course stream without new events (and replayed events)
/// changes neither its state nor its results.
#[test]
fn scenario_05_no_course_events_change_nothing() {
    let store = store_with(false, &answered_course());
    run(&store);
    let state = store.course_state(&consumer(), course_id()).unwrap();
    let before = results(&store);
    assert!(before.count() > 0);
    assert!(run(&store).is_idle());
    append_all(&store, &answered_course());
    assert!(run(&store).is_idle());
    assert_eq!(store.course_state(&consumer(), course_id()).unwrap(), state);
    assert_eq!(results(&store), before);
}

/// Scenario 8: update_course_ecosystem naming an unknown preparation
/// switches nothing and rewrites no result (no side effect); the course is
/// through that event, the switch is parked and the problem is recorded.
#[test]
fn scenario_08_update_course_ecosystem_with_unknown_preparation_changes_nothing() {
    let store = store_with(true, &answered_course());
    run(&store);
    let before = results(&store);
    append_all(&store, &[update_ecosystem(4, 9)]);
    let report = run(&store);
    assert_eq!(report.bundles_committed, 1);
    assert_eq!(report.result_writes, 0, "no side effect");
    let state = course_state(&store);
    assert_eq!(state.course.current_ecosystem, Some(eco(1)));
    assert_eq!(state.course.last_sequence_number, Some(seq(4)));
    assert_eq!(
        state.course.parked.as_ref().map(|p| p.preparation),
        Some(prep(9))
    );
    let problems = problems(&store);
    assert!(
        problems
            .iter()
            .any(|p| p.kind == "unknown_preparation" && p.sequence_number == seq(4)),
        "{problems:?}"
    );
    assert_eq!(results(&store), before);
}

/// Scenario 9: with a known preparation the course's ecosystem is
/// replaced, the course is through the event, and the side effects run in
/// the same commit: every student's worst areas and CLUEs are recalculated
/// in the new ecosystem.
#[test]
fn scenario_09_update_course_ecosystem_with_known_preparation_switches() {
    let mut events = answered_course();
    events.push(prepare(4, 1, 1, 2, &[(0, 10), (1, 11), (2, 12)]));
    let store = store_with(true, &events);
    run(&store);
    assert_eq!(course_state(&store).course.current_ecosystem, Some(eco(1)));
    append_all(&store, &[update_ecosystem(5, 1)]);
    let report = run(&store);
    assert!(report.result_writes > 0, "{report:?}");
    let state = course_state(&store);
    assert_eq!(state.course.current_ecosystem, Some(eco(2)));
    assert_eq!(state.course.initial_ecosystem, Some(eco(1)));
    assert_eq!(state.course.last_sequence_number, Some(seq(5)));
    assert_eq!(state.course.parked, None);
    for s in [1, 2] {
        let expected = calculation_id("worst_areas", course_id(), &[student(s).into()], seq(5));
        for n in ALGORITHMS {
            let row = worst(&store, s, n).expect("worst areas recalculated");
            assert_eq!(row.calculation_uuid, expected, "student {s} {n}");
        }
    }
    for n in ALGORITHMS {
        let row = student_clue(&store, 1, 11, n).expect("CLUE in the new ecosystem");
        assert_eq!(row.clue_data.ecosystem_uuid, Some(eco(2)));
    }
}

/// The roster of scenario 10: periods cc(1..=3), five students each
/// (student 5·(p−1)+k in period p).
fn three_periods(seq: u64, periods: u128) -> biglearn_core::log::Event {
    let containers: Vec<(u128, Option<u128>)> = (1..=periods).map(|p| (p, None)).collect();
    let students: Vec<(u128, u128)> = (1..=periods)
        .flat_map(|p| (1..=5).map(move |k| (5 * (p - 1) + k, p)))
        .collect();
    roster(seq, &containers, &students)
}

/// Scenario 10 (+ S1 fix 15): a roster of 3 periods × 5 students gives 3
/// course containers and 15 students, and its side effect writes each
/// student's worst areas; a later roster without period 3 removes it and
/// its students, whose rows (worst areas, student and teacher CLUEs) are
/// retired.
#[test]
fn scenario_10_roster_creates_containers_and_students_and_removes_absent_ones() {
    let mut events = vec![create_course(1), three_periods(1, 3)];
    events.push(Asg::new(1, 11).event(2));
    events.push(Resp::new(1, 101, 11, 1).event(3));
    let store = store_with(false, &events);
    run(&store);
    let state = course_state(&store);
    assert_eq!(state.course.containers.len(), 3);
    assert_eq!(state.course.students.len(), 15);
    for p in 1..=3 {
        assert_eq!(state.course.containers[&cc(p)].students.len(), 5);
    }
    for s in 1..=15 {
        assert!(worst(&store, s, "local_query").is_some(), "student {s}");
    }
    assert!(student_clue(&store, 11, 1, "local_query").is_some());
    assert!(teacher_clue(&store, 3, 1, "local_query").is_some());

    append_all(&store, &[three_periods(4, 2)]);
    run(&store);
    let state = course_state(&store);
    assert_eq!(state.course.containers.len(), 2);
    assert_eq!(state.course.students.len(), 10);
    for n in ALGORITHMS {
        for s in 11..=15 {
            assert_eq!(worst(&store, s, n), None, "student {s} {n}");
        }
        assert_eq!(student_clue(&store, 11, 1, n), None, "{n}");
        assert_eq!(teacher_clue(&store, 3, 1, n), None, "{n}");
        assert!(worst(&store, 1, n).is_some(), "kept students keep rows");
    }
}

/// Scenario 11: update_course_active_dates sets both dates and nothing
/// else; no result depends on them.
#[test]
fn scenario_11_active_dates_set_starts_and_ends() {
    let store = store_with(false, &answered_course());
    run(&store);
    let before = results(&store);
    append_all(&store, &[active_dates(4, 5, 50)]);
    let report = run(&store);
    assert_eq!(report.result_writes, 0);
    let state = course_state(&store).course;
    assert_eq!(
        state.starts_at.as_ref().map(|d| d.as_str()),
        Some(date(5).as_str())
    );
    assert_eq!(
        state.ends_at.as_ref().map(|d| d.as_str()),
        Some(date(50).as_str())
    );
    assert_eq!(state.current_ecosystem, Some(eco(1)));
    assert_eq!(results(&store), before);
}

/// Scenario 12: we do not poll courses, so an ended course costs nothing
/// (no bundle, no write) until an event touches it, and is then processed
/// like any other course.
#[test]
fn scenario_12_ended_courses_cost_nothing_until_touched() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(active_dates(3, 0, 5));
    let store = store_with(false, &events);
    let late = day(400);
    run_at(&store, late);
    assert!(run_at(&store, late).is_idle());
    assert_eq!(student_clue(&store, 1, 1, "local_query"), None);
    append_all(&store, &[Resp::new(1, 101, 1, 1).event(4)]);
    let report = run_at(&store, late);
    assert_eq!(report.bundles_committed, 1);
    assert!(student_clue(&store, 1, 1, "local_query").is_some());
}

/// Assignment 1 needs PEs from the reading pool ex(1..=3) of bc(1), of
/// which ex(1), ex(2) are assigned: its PEs are [ex(3)] unless excluded.
fn pes_of_assignment_1(store: &MemoryStore) -> Vec<Vec<biglearn_core::ids::ExerciseId>> {
    ALGORITHMS
        .iter()
        .map(|n| pes(store, 1, n).expect("PEs stored").exercise_uuids)
        .collect()
}

/// Scenario 13: update_globally_excluded_exercises replaces both global
/// lists (exercises and groups) and leaves the course lists alone; the PEs
/// follow the current lists.
#[test]
fn scenario_13_global_exclusions_replace_both_lists() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(exclusions(3, false, &[5], &[]));
    events.push(exclusions(4, true, &[1], &[2]));
    events.push(exclusions(5, true, &[3], &[]));
    let store = store_with(false, &events);
    run(&store);
    let lists = course_state(&store).course.exclusions;
    assert_eq!(lists.global_exercises, vec![ex(3)]);
    assert!(lists.global_groups.is_empty());
    assert_eq!(lists.course_exercises, vec![ex(5)], "course list kept");
    assert_eq!(pes_of_assignment_1(&store), vec![Vec::new(); 2]);
    append_all(&store, &[exclusions(6, true, &[], &[])]);
    run(&store);
    let lists = course_state(&store).course.exclusions;
    assert!(lists.global_exercises.is_empty() && lists.global_groups.is_empty());
    assert_eq!(pes_of_assignment_1(&store), vec![vec![ex(3)]; 2]);
}

/// Scenario 14: update_course_excluded_exercises does the same for the
/// course lists, by exercise and by group.
#[test]
fn scenario_14_course_exclusions_replace_both_lists() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(exclusions(3, true, &[6], &[]));
    events.push(exclusions(4, false, &[4], &[3]));
    let store = store_with(false, &events);
    run(&store);
    let lists = course_state(&store).course.exclusions;
    assert_eq!(lists.course_exercises, vec![ex(4)]);
    assert_eq!(lists.course_groups, vec![grp(3)]);
    assert_eq!(lists.global_exercises, vec![ex(6)], "global list kept");
    assert_eq!(pes_of_assignment_1(&store), vec![Vec::new(); 2]);
    append_all(&store, &[exclusions(5, false, &[], &[])]);
    run(&store);
    let lists = course_state(&store).course.exclusions;
    assert!(lists.course_exercises.is_empty() && lists.course_groups.is_empty());
    assert_eq!(pes_of_assignment_1(&store), vec![vec![ex(3)]; 2]);
}

/// Scenario 15: a new assignment is stored with its fields (book
/// containers de-duplicated, not deleted, no calculation reference) and one
/// trial per assigned exercise; its "side-effect job" is the calculation of
/// its PEs and SPEs in the same commit. A new deleted assignment is stored
/// but gets no results.
#[test]
fn scenario_15_new_assignment_is_stored_with_its_trials_and_gets_results() {
    let mut first = Asg::new(1, 1);
    first.bcs = vec![1, 1];
    let mut deleted = Asg::new(2, 2);
    deleted.deleted = true;
    let mut events = base_events();
    events.push(first.event(2));
    events.push(deleted.event(3));
    let store = store_with(false, &events);
    run(&store);
    let state = course_state(&store).course;
    let a = &state.assignments[&asg(1)];
    assert_eq!((a.student, a.ecosystem), (student(1), eco(1)));
    assert_eq!(a.assignment_type, "reading");
    assert_eq!(
        a.opens_at.as_ref().map(|d| d.as_str()),
        Some(date(1).as_str())
    );
    assert_eq!(
        a.due_at.as_ref().map(|d| d.as_str()),
        Some(date(10).as_str())
    );
    assert_eq!(a.book_containers, vec![bc(1)]);
    assert_eq!((a.goal_num_pes, a.goal_num_spes), (Some(3), Some(3)));
    assert!(!a.is_deleted);
    assert_eq!((a.pes_calculation, a.spes_calculation), (None, None));
    assert_eq!(a.exercises.len(), 2);
    for t in [101, 102] {
        assert_eq!(state.trials[&trial(t)].assignment, asg(1));
    }
    let expected = calculation_id(
        "assignment_exercises",
        course_id(),
        &[asg(1).into()],
        seq(2),
    );
    for n in ALGORITHMS {
        assert_eq!(pes(&store, 1, n).unwrap().calculation_uuid, expected);
        assert_eq!(pes(&store, 2, n), None, "deleted: no job");
    }
    for n in SPE_ALGORITHMS {
        assert!(spes(&store, 1, n).is_some(), "{n}");
        assert_eq!(spes(&store, 2, n), None, "{n}");
    }
    assert!(state.assignments[&asg(2)].is_deleted);
}

/// Scenario 16: an update carrying `pes`/`spes` calculation uuids stores
/// them with the new fields, adds only the new trial (the old ones stay
/// issued), recalculates this assignment, and leaves another student's
/// assignment untouched.
#[test]
fn scenario_16_updating_an_assignment_keeps_trials_and_records_the_calculation_used() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    events.push(Asg::new(2, 2).event(3));
    let store = store_with(false, &events);
    run(&store);
    let other = results(&store).exercises;
    let mut update = Asg::new(1, 1);
    update.due = Some(12);
    update.trials.push((103, 3, false, false));
    let pes_calc = uuid::Uuid::from_u128(0xca1c_0001);
    let spes_calc = uuid::Uuid::from_u128(0xca1c_0002);
    append_all(
        &store,
        &[assignment_with_calculations(
            &update,
            4,
            Some(pes_calc),
            Some(spes_calc),
        )],
    );
    run(&store);
    let state = course_state(&store).course;
    let a = &state.assignments[&asg(1)];
    assert_eq!(a.pes_calculation.map(|c| *c.as_uuid()), Some(pes_calc));
    assert_eq!(a.spes_calculation.map(|c| *c.as_uuid()), Some(spes_calc));
    assert_eq!(
        a.due_at.as_ref().map(|d| d.as_str()),
        Some(date(12).as_str())
    );
    assert_eq!(a.exercises.len(), 3);
    let issued: Vec<_> = [101, 102, 103, 201, 202]
        .iter()
        .map(|t| state.trials[&trial(*t)].assignment)
        .collect();
    assert_eq!(issued, vec![asg(1), asg(1), asg(1), asg(2), asg(2)]);
    let expected = calculation_id(
        "assignment_exercises",
        course_id(),
        &[asg(1).into()],
        seq(4),
    );
    for n in ALGORITHMS {
        let row = pes(&store, 1, n).unwrap();
        assert_eq!(row.calculation_uuid, expected, "{n}");
        assert!(row.exercise_uuids.is_empty(), "ex(3) is assigned now: {n}");
    }
    let now = results(&store).exercises;
    for (before, after) in other.iter().zip(&now) {
        if before.0.target.uuid() == *asg(2).as_uuid() {
            assert_eq!(before, after, "another student's assignment");
        }
    }
}

/// Scenario 17: record_response stores the answer on its trial with every
/// field, stores it as the student's first real answer, and is used by the
/// CLUEs at once (there is no "not yet used" backlog).
#[test]
fn scenario_17_record_response_stores_the_answer() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    let mut wrong = Resp::new(1, 101, 1, 1);
    wrong.correct = false;
    wrong.day = 3;
    events.push(wrong.event(3));
    let store = store_with(false, &events);
    run(&store);
    let state = course_state(&store).course;
    let r = &state.responses[&trial(101)];
    assert_eq!(r.response, resp(1));
    assert_eq!(
        (r.student, r.exercise, r.ecosystem),
        (student(1), ex(1), eco(1))
    );
    assert!(!r.is_correct && r.is_real);
    assert_eq!(
        (r.first_responded_at, r.last_responded_at),
        (day(3), day(3))
    );
    assert_eq!(r.sequence_number, seq(3));
    // The first real answer is the refit's data.
    let fits = store.fit_responses(eco(1)).expect("fit responses readable");
    assert_eq!(fits.len(), 1);
    assert_eq!((fits[0].response, fits[0].student), (resp(1), student(1)));
    let expected = calculation_id(
        "student_clue",
        course_id(),
        &[student(1).into(), bc(1).into()],
        seq(3),
    );
    for n in ALGORITHMS {
        let row = student_clue(&store, 1, 1, n).expect("CLUE written");
        assert_eq!(row.calculation_uuid, expected, "{n}");
    }
}
