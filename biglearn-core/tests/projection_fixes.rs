//! The S1 fixes the projections implement (12, 13, 14, 15, and the CLUE
//! re-mapping of 4), and the CLUE inputs of scheduler.md §3.1–§3.2.

mod projection_support;

use std::collections::BTreeSet;

use biglearn_core::log::SequenceNumber;
use biglearn_core::projection::{
    exercise_pool_id, CourseEcosystems, CourseViews, EcosystemState, ExerciseGroupCounts,
    PreparedEcosystem,
};
use projection_support::*;

#[test]
fn s1_fix_12_pool_ids_are_derived_so_reimports_are_idempotent() {
    let event = standard_ecosystem(0);
    let mut first = EcosystemState::new(eco(1));
    first.apply(&event);
    let mut second = EcosystemState::new(eco(1));
    second.apply(&event);
    second.apply(&event); // a `restart` re-import
    assert_eq!(first, second);
    let ids: BTreeSet<_> = first.pools.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), first.pools.len(), "pool ids are distinct");
    for pool in &first.pools {
        assert_eq!(
            pool.id,
            exercise_pool_id(eco(1), pool.book_container, pool.index)
        );
    }
    assert_ne!(
        exercise_pool_id(eco(1), bc(1), 0),
        exercise_pool_id(eco(2), bc(1), 0)
    );
}

#[test]
fn s1_fix_13_unknown_preparation_parks_the_switch_until_it_arrives() {
    let mut events = base_events();
    events.push(update_ecosystem(2, 1));
    events.push(Asg::new(1, 1).event(3));
    let mut state = course_with(&events);
    assert_eq!(state.current_ecosystem, Some(eco(1)));
    assert!(state.parked.is_some());
    assert!(
        state.assignments.contains_key(&asg(1)),
        "later events keep applying"
    );
    let changes = state.apply(&prepare(4, 1, 1, 2, &[(1, 11)]), &catalog());
    assert_eq!(state.current_ecosystem, Some(eco(2)));
    assert_eq!(state.parked, None);
    assert_eq!(changes.ecosystem_changed, Some(eco(2)));
    assert_eq!(changes.teacher_clues, BTreeSet::from([cc(1)]));
}

/// The ecosystem statuses (api.md §5.4) read a parked switch as the
/// projection has it: still in the old ecosystem, nothing prepared, until the
/// preparation arrives and the switch is made with it.
#[test]
fn s1_fix_13_statuses_read_a_parked_switch_as_the_projection_has_it() {
    let mut events = base_events();
    events.push(update_ecosystem(2, 1));
    let mut ecosystems = CourseEcosystems::new(course_id());
    events.iter().for_each(|e| ecosystems.apply(e));
    let parked = ecosystems.status();
    assert!(parked.course_is_known);
    assert_eq!(parked.current_ecosystem, Some(eco(1)));
    assert_eq!(parked.current_preparation, None);
    assert_eq!(parked.next_preparation, None);
    assert_eq!(parked.parked, Some(prep(1)));
    events.push(prepare(3, 1, 1, 2, &[]));
    ecosystems.apply(&events[3]);
    let switched = ecosystems.status();
    let prepared = |p: u128, e: u128, seq: u64| PreparedEcosystem {
        preparation: prep(p),
        ecosystem: eco(e),
        sequence_number: SequenceNumber::new(seq).expect("in range"),
    };
    assert_eq!(switched.current_ecosystem, Some(eco(2)));
    assert_eq!(
        switched.current_ecosystem,
        course_with(&events).current_ecosystem
    );
    assert_eq!(switched.current_preparation, Some(prepared(1, 2, 3)));
    assert_eq!(switched.next_preparation, None);
    assert_eq!(switched.parked, None);
    // A preparation from the new ecosystem is the next one; a replay of
    // the old update changes nothing.
    ecosystems.apply(&prepare(4, 2, 2, 3, &[]));
    ecosystems.apply(&events[2]);
    let next = ecosystems.status();
    assert_eq!(next.current_preparation, Some(prepared(1, 2, 3)));
    assert_eq!(next.next_preparation, Some(prepared(2, 3, 4)));
}

#[test]
fn s1_fix_13_a_later_known_update_supersedes_the_parked_one() {
    let mut events = base_events();
    events.push(prepare(2, 2, 1, 2, &[]));
    events.push(update_ecosystem(3, 1));
    events.push(update_ecosystem(4, 2));
    events.push(prepare(5, 1, 2, 1, &[]));
    let state = course_with(&events);
    assert_eq!(state.parked, None);
    assert_eq!(
        state.current_ecosystem,
        Some(eco(2)),
        "the superseded switch never happens"
    );
}

#[test]
fn s1_fix_14_only_real_responses_count_once_per_trial() {
    let mut a = Asg::new(1, 1);
    a.trials = vec![(101, 1, false, false), (102, 1, false, false)];
    let mut b = Asg::new(2, 1);
    b.eco = 2;
    b.bcs = vec![11];
    b.trials = vec![(201, 11, false, false)];
    let mut events = base_events();
    events.push(a.event(2));
    events.push(b.event(3));
    let mut state = course_with(&events);
    let catalog = catalog();
    let mut preview = Resp::new(1, 101, 1, 1);
    preview.real = false;
    let changes = state.apply(&preview.event(4), &catalog);
    assert!(
        changes.group_response_counts.is_empty(),
        "not a real response"
    );
    assert!(changes.fit_responses.is_empty(), "not a real response");
    let changes = state.apply(&Resp::new(2, 101, 1, 1).event(5), &catalog);
    assert_eq!(changes.group_response_counts.get(&grp(1)), Some(&1));
    let changes = state.apply(&Resp::new(3, 101, 1, 1).event(6), &catalog);
    assert!(
        changes.group_response_counts.is_empty(),
        "one count per trial"
    );
    let changes = state.apply(&Resp::new(4, 102, 1, 1).event(7), &catalog);
    assert_eq!(changes.group_response_counts.get(&grp(1)), Some(&1));
    let mut other_version = Resp::new(5, 201, 1, 11);
    other_version.eco = 2;
    let changes = state.apply(&other_version.event(8), &catalog);
    assert_eq!(
        changes.group_response_counts.get(&grp(1)),
        Some(&1),
        "versions of a group count together"
    );
    let mut counts = ExerciseGroupCounts::default();
    counts.import(catalog[&eco(1)].groups());
    counts.refitted(catalog[&eco(1)].groups());
    counts.add([(grp(1), 1)]);
    assert_eq!(counts.triggered(), vec![grp(1)]);
    counts.refitted(catalog[&eco(1)].groups());
    counts.add([(grp(1), 1)]);
    assert_eq!(
        counts.get(grp(1)).map(|c| c.next_update_response_count),
        Some(2)
    );
    assert_eq!(counts.triggered(), vec![grp(1)], "2 >= floor(1.1·1)+1");
}

#[test]
fn s1_fix_15_roster_removes_absent_students_and_containers() {
    let mut state = course_with(&[create_course(1)]);
    let catalog = catalog();
    state.apply(
        &roster(1, &[(1, None), (2, None)], &[(1, 1), (2, 1), (3, 2)]),
        &catalog,
    );
    let changes = state.apply(&roster(2, &[(1, None)], &[(1, 1), (2, 1)]), &catalog);
    assert!(!state.students.contains_key(&student(3)));
    assert!(!state.containers.contains_key(&cc(2)));
    assert_eq!(state.students.len(), 2);
    assert_eq!(changes.teacher_clues, BTreeSet::from([cc(1), cc(2)]));
    assert_eq!(changes.student_clues, BTreeSet::from([student(3)]));
    assert_eq!(changes.worst_areas, BTreeSet::from([student(3)]));
}

/// Student 1 answers exercise 1 (page bc(1), chapter bc(0)) of assignment 1
/// whose feedback shows on day 20; student 2 answers exercise 2 of
/// assignment 2 without a feedback date (due day 10).
fn answered_course() -> Vec<biglearn_core::log::Event> {
    let mut a = Asg::new(1, 1);
    a.feedback = Some(20);
    let mut events = base_events();
    events.push(a.event(2));
    events.push(Asg::new(2, 2).event(3));
    events.push(Resp::new(1, 101, 1, 1).event(4));
    events.push(Resp::new(2, 201, 2, 1).event(5));
    events
}

#[test]
fn student_clues_hide_feedback_pending_answers() {
    let state = course_with(&answered_course());
    let catalog = catalog();
    let views = CourseViews::new(&state, &catalog);
    let early = views.student_clues(student(1), day(5));
    let targets: Vec<_> = early.iter().map(|c| c.book_container).collect();
    assert_eq!(targets, vec![bc(0), bc(1)]);
    for clue in &early {
        assert!(clue.responses.responses.is_empty());
        assert_eq!(clue.responses.recalculate_at, Some(day(20)));
    }
    let late = views.student_clues(student(1), day(21));
    assert_eq!(late[1].responses.responses.len(), 1);
    assert_eq!(late[1].responses.recalculate_at, None);
    assert_eq!(late[1].exercises, vec![ex(1), ex(2), ex(3)]);
    // Student 2's answer is visible after its due date (S3: no feedback_at).
    let due = views.student_clues(student(2), day(11));
    assert_eq!(due[1].responses.responses.len(), 1);
}

#[test]
fn teacher_clues_use_every_answer_latest_per_student_and_group() {
    let mut events = answered_course();
    // A second, later answer by student 1 to another version (trial 102, same
    // group) replaces the first for the CLUE.
    let mut a = Asg::new(1, 1);
    a.feedback = Some(20);
    a.trials.push((103, 1, true, false));
    events.push(a.event(6));
    let mut later = Resp::new(3, 103, 1, 1);
    later.day = 3;
    later.correct = false;
    events.push(later.event(7));
    events.push(Resp::new(4, 999, 1, 2).event(8)); // unknown trial: unused
    let state = course_with(&events);
    let catalog = catalog();
    let views = CourseViews::new(&state, &catalog);
    let clues = views.teacher_clues(cc(1), day(5));
    let page = clues
        .iter()
        .find(|c| c.book_container == bc(1))
        .expect("page CLUE");
    let answers: Vec<_> = page
        .responses
        .responses
        .iter()
        .map(|r| (r.student, r.trial, r.is_correct))
        .collect();
    assert_eq!(
        answers,
        vec![
            (student(2), trial(201), true),
            (student(1), trial(103), false)
        ]
    );
    assert!(views.teacher_clues(cc(9), day(5)).is_empty());
}

#[test]
fn s1_fix_4_clues_are_mapped_into_the_current_ecosystem() {
    let mut events = answered_course();
    events.push(prepare(6, 1, 1, 2, &[(0, 10), (1, 11), (2, 12)]));
    events.push(update_ecosystem(7, 1));
    let state = course_with(&events);
    let catalog = catalog();
    let views = CourseViews::new(&state, &catalog);
    let clues = views.teacher_clues(cc(1), day(30));
    let targets: Vec<_> = clues
        .iter()
        .map(|c| (c.book_container, c.ecosystem))
        .collect();
    assert_eq!(targets, vec![(bc(10), eco(2)), (bc(11), eco(2))]);
    // The CLUE pools of the new page and of the old page mapping to it.
    assert_eq!(
        clues[1].exercises,
        vec![ex(11), ex(12), ex(13), ex(1), ex(2), ex(3)]
    );
    assert_eq!(clues[1].responses.responses.len(), 2);
}

#[test]
fn clue_exercises_omit_exclusions() {
    let mut events = answered_course();
    events.push(exclusions(6, false, &[2], &[3]));
    let state = course_with(&events);
    let catalog = catalog();
    let views = CourseViews::new(&state, &catalog);
    let clues = views.student_clues(student(1), day(30));
    assert_eq!(clues[1].exercises, vec![ex(1)]);
}

#[test]
fn views_expose_scheduler_inputs() {
    let state = course_with(&answered_course());
    let catalog = catalog();
    let views = CourseViews::new(&state, &catalog);
    assert_eq!(views.current_view().and_then(|v| v.id()), Some(eco(1)));
    assert_eq!(
        views.catalog().group_of(ex(12)),
        None,
        "eco(2) is not referred to"
    );
    assert_eq!(views.catalog().group_of(ex(2)), Some(grp(2)));
    let responses = views.student_responses(student(1));
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].first_responded_at, day(2));
    let assignments = views.student_assignments(student(1), day(5));
    assert_eq!(assignments.len(), 1);
    // One of two core exercises answered, not yet due: not in the history.
    assert_eq!(assignments[0].student_history_at, None);
    let past_due = views.student_assignments(student(1), day(11));
    assert_eq!(past_due[0].student_history_at, Some(day(10)));
}
