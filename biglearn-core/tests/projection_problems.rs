//! One test per recorded problem kind: the problem is visible on the state
//! and the rest of the event still applies.

mod projection_support;

use biglearn_core::log::{Event, EventData, EventType, StreamId};
use biglearn_core::projection::{CourseState, EcosystemState, ProblemKind};
use projection_support::*;
use serde_json::json;

fn kinds(state: &CourseState) -> Vec<ProblemKind> {
    state.problems.items.iter().map(|p| p.kind).collect()
}

fn with_assignment() -> CourseState {
    let mut events = base_events();
    events.push(Asg::new(1, 1).event(2));
    course_with(&events)
}

#[test]
fn unreadable_event_is_skipped_and_recorded() {
    let mut state = course_with(&base_events());
    let mut event = Resp::new(1, 101, 1, 1).event(2);
    event.data = EventData::from_json_text("{\"response_uuid\": 5}");
    let changes = state.apply(&event, &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::UnreadableEvent]);
    assert!(changes.is_empty());
    assert!(state.responses.is_empty());
    assert_eq!(state.problems.items[0].sequence_number.get(), 2);
    assert_eq!(
        state.problems.items[0].event_type,
        EventType::RecordResponse
    );
    // The stream moves on.
    state.apply(&Asg::new(1, 1).event(3), &catalog());
    assert!(state.assignments.contains_key(&asg(1)));
}

#[test]
fn event_of_another_stream_is_skipped() {
    let mut state = course_with(&base_events());
    let mut event = Asg::new(1, 1).event(2);
    event.stream = StreamId::Course(biglearn_core::ids::CourseId::from_uuid(uuid::Uuid::nil()));
    state.apply(&event, &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::WrongStream]);
    assert!(state.assignments.is_empty());
    let mut ecosystem = EcosystemState::new(eco(2));
    assert!(!ecosystem.apply(&standard_ecosystem(0)));
    assert_eq!(ecosystem.problems.items[0].kind, ProblemKind::WrongStream);
    assert!(!ecosystem.imported);
}

#[test]
fn sequence_gap_is_recorded_and_the_event_applied() {
    let mut state = course_with(&base_events());
    state.apply(&Asg::new(1, 1).event(5), &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::SequenceGap]);
    assert!(state.assignments.contains_key(&asg(1)));
}

#[test]
fn event_before_create_course_still_applies() {
    let mut state = CourseState::new(course_id());
    state.apply(&roster(0, &[(1, None)], &[(1, 1)]), &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::CourseNotCreated]);
    assert!(state.students.contains_key(&student(1)));
}

#[test]
fn assignment_in_unknown_ecosystem() {
    let mut a = Asg::new(1, 1);
    a.eco = 9;
    let mut events = base_events();
    events.push(a.event(2));
    let state = course_with(&events);
    assert_eq!(kinds(&state), vec![ProblemKind::UnknownEcosystem]);
    assert_eq!(state.assignments[&asg(1)].ecosystem, eco(9));
    assert_eq!(state.trials.len(), 2);
}

#[test]
fn assigned_exercise_not_in_ecosystem() {
    let mut a = Asg::new(1, 1);
    a.trials.push((103, 14, false, false));
    let mut events = base_events();
    events.push(a.event(2));
    let state = course_with(&events);
    assert_eq!(kinds(&state), vec![ProblemKind::ExerciseNotInEcosystem]);
    assert_eq!(state.assignments[&asg(1)].exercises.len(), 3);
    assert!(state.problems.items[0]
        .message
        .contains(&ex(14).to_string()));
}

#[test]
fn assigned_book_container_not_in_ecosystem() {
    let mut a = Asg::new(1, 1);
    a.bcs = vec![1, 11];
    let mut events = base_events();
    events.push(a.event(2));
    let state = course_with(&events);
    assert_eq!(
        kinds(&state),
        vec![ProblemKind::BookContainerNotInEcosystem]
    );
    assert_eq!(
        state.assignments[&asg(1)].book_containers,
        vec![bc(1), bc(11)]
    );
}

#[test]
fn unknown_preparation_is_recorded_and_parked() {
    let mut events = base_events();
    events.push(update_ecosystem(2, 7));
    let state = course_with(&events);
    assert_eq!(kinds(&state), vec![ProblemKind::UnknownPreparation]);
    assert_eq!(state.parked.as_ref().map(|p| p.preparation), Some(prep(7)));
    assert_eq!(state.current_ecosystem, Some(eco(1)));
}

#[test]
fn roster_student_in_unknown_container() {
    let mut state = course_with(&[create_course(1)]);
    state.apply(&roster(1, &[(1, None)], &[(1, 1), (2, 5)]), &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::UnknownCourseContainer]);
    assert!(state.students[&student(2)].course_containers.is_empty());
    assert_eq!(state.students[&student(1)].course_containers, vec![cc(1)]);
    // A container whose parent is neither the course nor in the roster.
    state.apply(
        &roster(2, &[(1, None), (2, Some(8))], &[(1, 2)]),
        &catalog(),
    );
    assert_eq!(
        state.problems.items[1].kind,
        ProblemKind::UnknownCourseContainer
    );
    assert_eq!(state.students[&student(1)].course_containers, vec![cc(2)]);
}

#[test]
fn roster_container_cycle() {
    let mut state = course_with(&[create_course(1)]);
    state.apply(
        &roster(
            1,
            &[(1, Some(2)), (2, Some(1)), (3, None)],
            &[(1, 1), (2, 3)],
        ),
        &catalog(),
    );
    assert_eq!(kinds(&state), vec![ProblemKind::CourseContainerCycle]);
    assert_eq!(
        state.students[&student(1)].course_containers,
        vec![cc(1), cc(2)]
    );
    assert_eq!(state.students[&student(2)].course_containers, vec![cc(3)]);
}

#[test]
fn response_for_unknown_trial_is_stored_but_unused() {
    let mut state = with_assignment();
    let changes = state.apply(&Resp::new(1, 999, 1, 1).event(3), &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::UnknownTrial]);
    assert!(state.responses.contains_key(&trial(999)));
    assert!(changes.student_clues.is_empty());
    assert_eq!(changes.group_response_counts.get(&grp(1)), Some(&1));
}

#[test]
fn response_mismatching_its_trial() {
    let mut state = with_assignment();
    state.apply(&Resp::new(1, 101, 2, 3).event(3), &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::TrialMismatch]);
    assert_eq!(state.responses[&trial(101)].exercise, ex(3));
}

#[test]
fn response_exercise_not_in_its_ecosystem() {
    let mut state = with_assignment();
    let mut r = Resp::new(1, 101, 1, 1);
    r.eco = 2;
    let changes = state.apply(&r.event(3), &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::ExerciseNotInEcosystem]);
    // The group is still found through the trial's assignment ecosystem.
    assert_eq!(changes.group_response_counts.get(&grp(1)), Some(&1));
}

#[test]
fn trial_reused_by_another_assignment() {
    let mut state = with_assignment();
    let mut b = Asg::new(2, 1);
    b.trials = vec![(101, 1, false, false), (201, 2, false, false)];
    state.apply(&b.event(3), &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::TrialReused]);
    assert_eq!(state.trials[&trial(101)].assignment, asg(1));
    assert_eq!(state.trials[&trial(201)].assignment, asg(2));
}

#[test]
fn assignment_moved_to_another_student() {
    let mut state = with_assignment();
    state.apply(&Asg::new(1, 2).event(3), &catalog());
    assert_eq!(kinds(&state), vec![ProblemKind::AssignmentStudentChanged]);
    assert_eq!(state.assignments[&asg(1)].student, student(2));
    // No empty set is left behind: the map is the same as one rebuilt from
    // the assignments (as a stored state is read back).
    assert!(!state.assignments_by_student.contains_key(&student(1)));
}

fn ecosystem_from(
    contents: Vec<serde_json::Value>,
    exercises: Vec<serde_json::Value>,
) -> EcosystemState {
    let mut state = EcosystemState::new(eco(5));
    state.apply(&create_ecosystem_json(5, contents, exercises));
    state
}

fn exercise_json(n: u128, group: u128) -> serde_json::Value {
    json!({"exercise_uuid": ex(n).to_string(), "group_uuid": grp(group).to_string(), "version": 1, "los": []})
}

fn container_json(n: u128, parent: uuid::Uuid, exercises: &[u128]) -> serde_json::Value {
    json!({"container_uuid": bc(n).to_string(), "container_parent_uuid": parent.to_string(),
        "pools": [{"use_for_clue": true, "use_for_personalized_for_assignment_types": ["reading"],
            "exercise_uuids": exercises.iter().map(|e| ex(*e).to_string()).collect::<Vec<_>>()}]})
}

#[test]
fn ecosystem_duplicates_are_recorded() {
    let root = *eco(5).as_uuid();
    let state = ecosystem_from(
        vec![container_json(1, root, &[1]), container_json(1, root, &[2])],
        vec![
            exercise_json(1, 1),
            exercise_json(2, 2),
            exercise_json(1, 3),
        ],
    );
    let kinds: Vec<_> = state.problems.items.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, vec![ProblemKind::Duplicate, ProblemKind::Duplicate]);
    assert_eq!(
        state.exercises[&ex(1)].group,
        grp(1),
        "the first entry is kept"
    );
    assert_eq!(
        state.pools.len(),
        2,
        "the duplicate container's pools are merged"
    );
    assert_eq!(state.pools[1].index, 1);
}

#[test]
fn ecosystem_pool_exercise_missing_from_exercises() {
    let root = *eco(5).as_uuid();
    let state = ecosystem_from(
        vec![container_json(1, root, &[1, 9])],
        vec![exercise_json(1, 1)],
    );
    let kinds: Vec<_> = state.problems.items.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, vec![ProblemKind::UnknownPoolExercise]);
    assert_eq!(state.pools[0].exercises, vec![ex(1), ex(9)]);
    assert_eq!(state.exercises[&ex(1)].book_containers, vec![bc(1)]);
}

#[test]
fn ecosystem_unknown_parent_becomes_top_level() {
    let root = *eco(5).as_uuid();
    let state = ecosystem_from(
        vec![
            container_json(1, root, &[1]),
            container_json(2, uuid::Uuid::from_u128(77), &[1]),
        ],
        vec![exercise_json(1, 1)],
    );
    let kinds: Vec<_> = state.problems.items.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, vec![ProblemKind::UnknownBookContainerParent]);
    assert_eq!(state.containers[&bc(2)].parent, None);
    assert_eq!(state.exercises[&ex(1)].book_containers, vec![bc(1), bc(2)]);
}

#[test]
fn problems_are_bounded() {
    let mut state = course_with(&base_events());
    let catalog = catalog();
    for seq in 2..(2 + biglearn_core::projection::MAX_PROBLEMS as u64 + 5) {
        let event: Event = Resp::new(u128::from(seq), 999, 1, 1).event(seq);
        state.apply(&event, &catalog);
    }
    assert_eq!(
        state.problems.items.len(),
        biglearn_core::projection::MAX_PROBLEMS
    );
    assert_eq!(state.problems.dropped, 5);
}
