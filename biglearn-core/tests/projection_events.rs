//! One happy-path test per event type: what each event does to the projected
//! course or ecosystem state and which dirty markers it sets.

mod projection_support;

use std::collections::{BTreeMap, BTreeSet};

use biglearn_core::events::NoOp;
use biglearn_core::ids::EventId;
use biglearn_core::log::{SequenceNumber, StreamId};
use biglearn_core::projection::{exercise_pool_id, AnsweredExercise, CourseViews, EcosystemState};
use biglearn_core::scheduler::AssignmentType;
use projection_support::*;

#[test]
fn create_ecosystem_builds_tree_pools_and_exercises() {
    let catalog = catalog();
    let state = &catalog[&eco(1)];
    assert!(state.imported);
    assert!(state.problems.is_empty(), "{:?}", state.problems);
    assert_eq!(state.container_order, vec![bc(0), bc(1), bc(2)]);
    assert_eq!(state.containers[&bc(0)].parent, None);
    assert_eq!(state.containers[&bc(1)].parent, Some(bc(0)));
    assert_eq!(state.containers[&bc(0)].children, vec![bc(1), bc(2)]);
    assert_eq!(state.pages(), vec![bc(1), bc(2)]);
    assert_eq!(state.pools.len(), 5);
    assert_eq!(state.pools[1].id, exercise_pool_id(eco(1), bc(1), 0));
    assert_eq!(state.pools[2].id, exercise_pool_id(eco(1), bc(1), 1));
    assert_eq!(state.exercises[&ex(1)].group, grp(1));
    assert_eq!(state.exercises[&ex(1)].version, 1);
    assert_eq!(state.exercises[&ex(1)].los, vec!["lo".to_owned()]);
    assert_eq!(state.exercises[&ex(4)].book_containers, vec![bc(0), bc(2)]);
    assert_eq!(state.groups().len(), 6);
    let view = state.view();
    assert_eq!(
        view.pool(&AssignmentType::new("reading"), bc(1)),
        &[ex(1), ex(2), ex(3)]
    );
    assert!(view
        .pool(&AssignmentType::new("homework"), bc(1))
        .is_empty());
    assert_eq!(view.clue_pool(bc(0)).len(), 6);
    assert_eq!(view.exercises().len(), 6);
    assert_eq!(state.catalog().group_of(ex(14)), None);
    assert_eq!(catalog[&eco(2)].catalog().group_of(ex(14)), Some(grp(4)));
}

#[test]
fn create_course_sets_ecosystem_flags_and_dates() {
    let state = course_with(&[create_course(1)]);
    assert!(state.created);
    assert_eq!(state.initial_ecosystem, Some(eco(1)));
    assert_eq!(state.current_ecosystem, Some(eco(1)));
    assert!(state.is_real_course);
    assert_eq!(
        state.ends_at.as_ref().map(|d| d.as_str().to_owned()),
        Some(date(120))
    );
    assert_eq!(state.last_sequence_number, Some(SequenceNumber::ZERO));
    assert!(state.problems.is_empty(), "{:?}", state.problems);
}

#[test]
fn update_roster_builds_container_chains() {
    let mut state = course_with(&[create_course(1)]);
    let changes = state.apply(
        &roster(1, &[(1, None), (2, Some(1))], &[(1, 2), (2, 1)]),
        &catalog(),
    );
    assert!(state.problems.is_empty(), "{:?}", state.problems);
    assert_eq!(
        state.students[&student(1)].course_containers,
        vec![cc(2), cc(1)]
    );
    assert_eq!(state.students[&student(2)].course_containers, vec![cc(1)]);
    assert_eq!(
        state.containers[&cc(1)].students,
        BTreeSet::from([student(1), student(2)])
    );
    assert_eq!(
        state.containers[&cc(2)].students,
        BTreeSet::from([student(1)])
    );
    assert_eq!(changes.teacher_clues, BTreeSet::from([cc(1), cc(2)]));
    assert_eq!(
        changes.worst_areas,
        BTreeSet::from([student(1), student(2)])
    );
}

#[test]
fn prepare_and_update_course_ecosystem_switch_and_mark_everything() {
    let mut state = course_with(&base_events());
    let changes = state.apply(
        &prepare(2, 1, 1, 2, &[(0, 10), (1, 11), (2, 12)]),
        &catalog(),
    );
    assert_eq!(
        changes.preparations,
        BTreeSet::from([prep(1)]),
        "S1 fix 11 precompute"
    );
    assert!(changes.student_clues.is_empty());
    assert_eq!(state.preparations[&prep(1)].ecosystem, eco(2));
    assert_eq!(state.current_ecosystem, Some(eco(1)));
    let mappings = state.book_container_mappings();
    assert_eq!(mappings.forward(eco(1), bc(1), eco(2)), Some(bc(11)));
    assert_eq!(
        mappings.forward(eco(2), bc(11), eco(1)),
        Some(bc(1)),
        "one-to-one reverse"
    );
    let changes = state.apply(&update_ecosystem(3, 1), &catalog());
    assert_eq!(state.current_ecosystem, Some(eco(2)));
    assert_eq!(changes.ecosystem_changed, Some(eco(2)));
    assert_eq!(
        changes.student_clues,
        BTreeSet::from([student(1), student(2)])
    );
    assert_eq!(changes.teacher_clues, BTreeSet::from([cc(1)]), "S1 fix 4");
    assert!(state.problems.is_empty(), "{:?}", state.problems);
}

#[test]
fn update_course_active_dates_replaces_dates_only() {
    let mut state = course_with(&base_events());
    let changes = state.apply(&active_dates(2, 5, 200), &catalog());
    assert_eq!(
        state.starts_at.as_ref().map(|d| d.as_str().to_owned()),
        Some(date(5))
    );
    assert_eq!(
        state.ends_at.as_ref().map(|d| d.as_str().to_owned()),
        Some(date(200))
    );
    assert!(changes.applied);
    assert!(changes.is_empty());
}

#[test]
fn exclusions_replace_their_own_scope() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    let mut state = course_with(&events);
    let changes = state.apply(&exclusions(3, true, &[1, 2], &[5]), &catalog());
    assert_eq!(state.exclusions.global_exercises, vec![ex(1), ex(2)]);
    assert_eq!(state.exclusions.global_groups, vec![grp(5)]);
    assert_eq!(changes.assignment_exercises, BTreeSet::from([asg(1)]));
    assert_eq!(changes.teacher_clues, BTreeSet::from([cc(1)]));
    state.apply(&exclusions(4, false, &[3], &[]), &catalog());
    state.apply(&exclusions(5, true, &[4], &[]), &catalog());
    assert_eq!(
        state.exclusions.global_exercises,
        vec![ex(4)],
        "latest replaces"
    );
    assert!(state.exclusions.global_groups.is_empty());
    assert_eq!(
        state.exclusions.course_exercises,
        vec![ex(3)],
        "other scope kept"
    );
    let unchanged = state.apply(&exclusions(6, true, &[4], &[]), &catalog());
    assert!(unchanged.is_empty(), "the same list again changes nothing");
}

#[test]
fn create_update_assignment_stores_fields_and_replaces_on_update() {
    let mut a = Asg::new(1, 1);
    a.feedback = None;
    a.closes = Some(12);
    a.trials = vec![
        (1, 1, false, false),
        (2, 2, true, false),
        (3, 3, false, true),
    ];
    let mut events = base_events();
    events.push(a.event(2));
    let mut state = course_with(&events);
    assert!(state.problems.is_empty(), "{:?}", state.problems);
    let stored = &state.assignments[&asg(1)];
    assert_eq!(stored.student, student(1));
    assert_eq!(stored.assignment_type, "reading");
    assert_eq!(
        stored.closes_at.as_ref().map(|d| d.as_str().to_owned()),
        Some(date(12))
    );
    assert_eq!(
        stored.feedback_visible_at(),
        Some(day(10)),
        "S3: due_at without feedback_at"
    );
    assert!(stored.exercises[1].is_pe && stored.exercises[2].is_spe);
    assert_eq!(state.trials[&trial(2)].assignment, asg(1));
    let views = CourseViews::new(&state, &catalog());
    let scheduler = views.assignment(asg(1), day(0)).expect("converted");
    assert_eq!(scheduler.due_at, Some(day(10)));
    assert_eq!(scheduler.goal_num_pes, Some(3));
    assert!(scheduler.needs_pes());

    a.pes_assigned = true;
    a.spes_assigned = true;
    a.trials.push((4, 4, false, false));
    state.apply(&a.event(3), &catalog());
    a.trials[3].2 = true;
    let changes = state.apply(&a.event(4), &catalog());
    let stored = &state.assignments[&asg(1)];
    assert_eq!(stored.exercises.len(), 4, "repeated updates replace");
    assert!(state.trials[&trial(4)].is_pe);
    assert!(!stored.needs_pes() && !stored.needs_spes());
    assert!(!changes.assignment_exercises.contains(&asg(1)));
    a.deleted = true;
    let changes = state.apply(&a.event(5), &catalog());
    assert!(state.assignments[&asg(1)].is_deleted);
    assert!(
        changes.assignment_exercises.contains(&asg(1)),
        "deletion retires its results"
    );
}

#[test]
fn assignment_without_opens_at_opens_at_creation() {
    let mut a = Asg::new(1, 1);
    a.opens = None;
    let mut events = base_events();
    events.push(a.event(2));
    let state = course_with(&events);
    let views = CourseViews::new(&state, &catalog());
    let converted = views.assignment(asg(1), day(0)).expect("converted");
    assert_eq!(converted.opened_at(), day(0));
}

#[test]
fn record_response_latest_answer_wins_and_marks_dirty() {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    let mut state = course_with(&events);
    let mut first = Resp::new(1, 101, 1, 1);
    first.day = 5;
    first.correct = false;
    let changes = state.apply(&first.event(3), &catalog());
    let mut fits = changes.fit_responses.clone();
    // Only the CLUEs the answered exercise counts for (§3.1).
    assert!(changes.student_clues.is_empty() && changes.teacher_clues.is_empty());
    let answered = BTreeSet::from([AnsweredExercise {
        ecosystem: eco(1),
        exercise: ex(1),
    }]);
    assert_eq!(
        changes.student_answers,
        BTreeMap::from([(student(1), answered.clone())])
    );
    assert_eq!(changes.teacher_answers, BTreeMap::from([(cc(1), answered)]));
    assert_eq!(changes.worst_areas, BTreeSet::from([student(1)]));
    assert_eq!(changes.assignment_exercises, BTreeSet::from([asg(1)]));
    assert_eq!(changes.group_response_counts.get(&grp(1)), Some(&1));
    // An older answer (earlier responded_at) does not replace the latest one.
    let mut older = Resp::new(2, 101, 1, 1);
    older.day = 4;
    let changes = state.apply(&older.event(4), &catalog());
    fits.extend(changes.fit_responses.iter().copied());
    let stored = state.responses[&trial(101)];
    assert_eq!(stored.response, resp(1));
    assert!(!stored.is_correct);
    assert_eq!(stored.first_responded_at, day(4));
    assert_eq!(stored.last_responded_at, day(5));
    assert!(
        changes.group_response_counts.is_empty(),
        "the trial was counted already"
    );
    // Same responded_at: the later sequence number wins.
    let mut same = Resp::new(3, 101, 1, 1);
    same.day = 5;
    fits.extend(state.apply(&same.event(5), &catalog()).fit_responses);
    assert_eq!(state.responses[&trial(101)].response, resp(3));
    assert!(state.responses[&trial(101)].is_correct);
    // Every real answer is reported for fitting; the store keeps the first
    // per (ecosystem, student, exercise): here the older answer.
    assert_eq!(fits.len(), 3);
    let first = fits
        .iter()
        .copied()
        .reduce(|a, b| if b.precedes(&a) { b } else { a })
        .expect("three answers");
    assert_eq!(first.response, resp(2));
    assert_eq!(first.responded_at, day(4));
    assert!(state.problems.is_empty(), "{:?}", state.problems);
}

#[test]
fn no_op_advances_without_changes() {
    let mut state = course_with(&base_events());
    let event = NoOp::new(
        StreamId::Course(course_id()),
        SequenceNumber::new(2).expect("in range"),
        EventId::from_uuid(uuid::Uuid::from_u128(99)),
    )
    .to_event();
    let changes = state.apply(&event, &catalog());
    assert!(!changes.applied && changes.is_empty());
    assert_eq!(state.last_sequence_number, SequenceNumber::new(2).ok());
}

#[test]
fn ecosystem_apply_is_idempotent() {
    let event = standard_ecosystem(0);
    let mut state = EcosystemState::new(eco(1));
    assert!(state.apply(&event));
    let once = state.clone();
    assert!(!state.apply(&event), "re-applying changes nothing");
    assert_eq!(state, once);
}

#[test]
fn replayed_course_event_changes_nothing() {
    let events = base_events();
    let mut state = course_with(&events);
    let before = state.clone();
    let changes = state.apply_all(&events, &catalog());
    assert!(!changes.applied);
    assert_eq!(state, before);
}
