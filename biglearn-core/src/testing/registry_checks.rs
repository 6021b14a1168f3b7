//! Id registry checks ([`crate::log::registry`]): rows written with the
//! events that introduce them, first owner kept, nothing from replays or
//! rejected requests, batch lookups and known courses.

use uuid::Uuid;

use super::fixtures::*;
use crate::ids::{AssignmentId, BookContainerId, CourseContainerId, CourseId, StudentId};
use crate::log::*;

/// The uuid every registry check derives ids from: `n` in the low bits.
fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x1d00_0000_0000_4000_8000_0000_0000_0000 | n)
}

/// A student id of the checks.
pub fn student(n: u128) -> StudentId {
    StudentId::from_uuid(id(n))
}

/// An assignment id of the checks.
pub fn assignment(n: u128) -> AssignmentId {
    AssignmentId::from_uuid(id(n))
}

/// A course container id of the checks.
pub fn course_container(n: u128) -> CourseContainerId {
    CourseContainerId::from_uuid(id(n))
}

/// A book container id of the checks.
pub fn book_container(n: u128) -> BookContainerId {
    BookContainerId::from_uuid(id(n))
}

/// An update_roster event of course stream `c` at `number` with the given
/// containers and students (only the fields the registry reads, plus the
/// course uuid).
pub fn roster_event(
    c: StreamId,
    number: u64,
    event: u128,
    containers: &[u128],
    students: &[u128],
) -> Event {
    let containers: Vec<String> = containers
        .iter()
        .map(|n| format!(r#"{{"container_uuid":"{}"}}"#, id(*n)))
        .collect();
    let students: Vec<String> = students
        .iter()
        .map(|n| format!(r#"{{"student_uuid":"{}"}}"#, id(*n)))
        .collect();
    Event {
        data: EventData::from_json_text(format!(
            r#"{{"course_uuid":"{}","course_containers":[{}],"students":[{}]}}"#,
            c.uuid(),
            containers.join(","),
            students.join(",")
        )),
        ..event_of(c, number, event, EventType::UpdateRoster)
    }
}

/// A create_update_assignment event of course stream `c` for assignment `a`.
pub fn assignment_event(c: StreamId, number: u64, event: u128, a: u128) -> Event {
    Event {
        data: EventData::from_json_text(format!(
            r#"{{"course_uuid":"{}","assignment_uuid":"{}","is_deleted":false}}"#,
            c.uuid(),
            id(a)
        )),
        ..event_of(c, number, event, EventType::CreateUpdateAssignment)
    }
}

/// The create_ecosystem event of ecosystem `n` whose book has the given
/// containers.
pub fn ecosystem_event(n: u128, containers: &[u128]) -> Event {
    let contents: Vec<String> = containers
        .iter()
        .map(|c| format!(r#"{{"container_uuid":"{}","pools":[]}}"#, id(*c)))
        .collect();
    Event {
        data: EventData::from_json_text(format!(
            r#"{{"ecosystem_uuid":"{}","sequence_number":0,"book":{{"contents":[{}]}},"exercises":[]}}"#,
            Uuid::from_u128(n),
            contents.join(",")
        )),
        ..create_ecosystem(n)
    }
}

fn event_of(stream: StreamId, number: u64, id: u128, event_type: EventType) -> Event {
    event(stream, number, id, event_type)
}

/// A query for the given ids of every kind.
pub fn id_query(
    students: &[u128],
    assignments: &[u128],
    containers: &[u128],
    books: &[u128],
) -> IdQuery {
    IdQuery {
        students: students.iter().map(|n| student(*n)).collect(),
        assignments: assignments.iter().map(|n| assignment(*n)).collect(),
        course_containers: containers.iter().map(|n| course_container(*n)).collect(),
        book_containers: books.iter().map(|n| book_container(*n)).collect(),
    }
}

/// Every course the store knows, paging by `page`.
pub fn all_known_courses<S: IdRegistry + ?Sized>(store: &S, page: usize) -> Vec<CourseId> {
    let mut courses = Vec::new();
    loop {
        let found = ok(
            store.known_courses(courses.last().copied(), page),
            "known_courses",
        );
        let full = found.len() == page;
        courses.extend(found);
        if !full {
            return courses;
        }
    }
}

fn lookup<S: IdRegistry>(store: &S, query: &IdQuery) -> IdOwners {
    ok(store.id_owners(query), "id_owners")
}

/// Rosters, assignments and ecosystems register their ids with the owning
/// stream; other ids stay unknown.
pub fn registry_rows_follow_the_events<S: BundleLog + IdRegistry>(factory: &dyn Fn() -> S) {
    let store = factory();
    let (c1, c2) = (course(1), course(2));
    append_ok(&store, vec![ecosystem_event(50, &[500, 501])]);
    append_ok(
        &store,
        vec![
            create_course(1, 50),
            roster_event(c1, 1, 101, &[10, 11], &[20, 21]),
            assignment_event(c1, 2, 102, 30),
        ],
    );
    append_ok(
        &store,
        vec![
            roster_event(c2, 0, 200, &[12], &[22]),
            assignment_event(c2, 1, 201, 31),
        ],
    );
    let owners = lookup(
        &store,
        &id_query(
            &[20, 21, 22, 99],
            &[30, 31, 98],
            &[10, 11, 12, 97],
            &[500, 501, 96],
        ),
    );
    let one = course_id(1);
    let two = course_id(2);
    assert_eq!(owners.students.len(), 3, "{owners:?}");
    assert_eq!(owners.students.get(&student(20)), Some(&one));
    assert_eq!(owners.students.get(&student(21)), Some(&one));
    assert_eq!(owners.students.get(&student(22)), Some(&two));
    assert_eq!(owners.assignments.get(&assignment(30)), Some(&one));
    assert_eq!(owners.assignments.get(&assignment(31)), Some(&two));
    assert_eq!(owners.assignments.len(), 2);
    assert_eq!(
        owners.course_containers.get(&course_container(10)),
        Some(&one)
    );
    assert_eq!(
        owners.course_containers.get(&course_container(12)),
        Some(&two)
    );
    assert_eq!(owners.course_containers.len(), 3);
    assert_eq!(
        owners.book_containers.get(&book_container(500)),
        Some(&ecosystem_id(50))
    );
    assert_eq!(owners.book_containers.len(), 2);
    // An id is looked up under its own kind only.
    let crossed = lookup(&store, &id_query(&[30], &[20], &[500], &[10]));
    assert!(crossed.is_empty(), "{crossed:?}");
    assert!(lookup(&store, &IdQuery::default()).is_empty());
    // Many ids at once, duplicates included.
    let many: Vec<u128> = (0..700).chain([20, 20]).collect();
    let owners = lookup(&store, &id_query(&many, &many, &many, &many));
    assert_eq!(owners.len(), 2 + 2 + 3 + 2 + 1);
}

/// The first stored owner of an id stays its owner; replays store nothing
/// again; a roster that drops a student keeps it registered.
pub fn registry_keeps_the_first_owner<S: BundleLog + IdRegistry>(factory: &dyn Fn() -> S) {
    let store = factory();
    let (c1, c2) = (course(1), course(2));
    let roster = roster_event(c1, 0, 100, &[10], &[20, 21]);
    append_ok(&store, vec![roster.clone()]);
    let receipt = append_ok(&store, vec![roster]);
    assert_eq!(receipt.replayed, 1);
    append_ok(&store, vec![roster_event(c1, 1, 101, &[10], &[20])]);
    append_ok(
        &store,
        vec![
            roster_event(c2, 0, 200, &[10], &[21, 22]),
            assignment_event(c2, 1, 201, 30),
            assignment_event(c1, 2, 102, 30),
        ],
    );
    let owners = lookup(&store, &id_query(&[20, 21, 22], &[30], &[10], &[]));
    assert_eq!(owners.students.get(&student(20)), Some(&course_id(1)));
    assert_eq!(owners.students.get(&student(21)), Some(&course_id(1)));
    assert_eq!(owners.students.get(&student(22)), Some(&course_id(2)));
    assert_eq!(owners.assignments.get(&assignment(30)), Some(&course_id(2)));
    assert_eq!(
        owners.course_containers.get(&course_container(10)),
        Some(&course_id(1))
    );
}

/// A rejected request registers nothing, alone or inside a group whose
/// other requests are stored.
pub fn registry_ignores_rejected_requests<S: BundleLog + IdRegistry>(factory: &dyn Fn() -> S) {
    let store = factory();
    let c = course(1);
    append_ok(&store, vec![response(c, 0, 100)]);
    append_rejected(
        &store,
        vec![
            roster_event(c, 1, 101, &[10], &[20]),
            assignment_event(c, 2, 102, 30),
            response(c, 0, 999),
        ],
    );
    let everything = id_query(&[20, 21], &[30, 31], &[10, 11], &[500]);
    assert!(lookup(&store, &everything).is_empty());
    let outcomes = ok(
        store.append_group(&[
            request(vec![
                ecosystem_event(50, &[500]),
                roster_event(c, 0, 998, &[11], &[21]),
            ]),
            request(vec![assignment_event(c, 1, 101, 31)]),
        ]),
        "append_group",
    );
    assert!(outcomes[0].is_err(), "{outcomes:?}");
    assert!(outcomes[1].is_ok(), "{outcomes:?}");
    let owners = lookup(&store, &everything);
    assert_eq!(owners.len(), 1, "{owners:?}");
    assert_eq!(owners.assignments.get(&assignment(31)), Some(&course_id(1)));
}

/// Every course with a stored event is known (created or not), paged in
/// uuid order; ecosystems are not courses.
pub fn registry_lists_known_courses<S: BundleLog + IdRegistry>(factory: &dyn Fn() -> S) {
    let store = factory();
    assert!(all_known_courses(&store, 10).is_empty());
    append_ok(&store, vec![create_ecosystem(5)]);
    for n in [9u128, 3, 7, 1, 5] {
        append_ok(&store, vec![response(course(n), 2, 1000 + n)]);
    }
    append_ok(&store, vec![create_course(4, 5)]);
    let expected: Vec<CourseId> = [1u128, 3, 4, 5, 7, 9].into_iter().map(course_id).collect();
    for page in [1, 2, 4, 6, 100] {
        assert_eq!(all_known_courses(&store, page), expected, "page {page}");
    }
    assert_eq!(
        ok(store.known_courses(Some(course_id(4)), 2), "known_courses"),
        vec![course_id(5), course_id(7)]
    );
    assert!(ok(store.known_courses(Some(course_id(9)), 5), "known_courses").is_empty());
    assert!(ok(store.known_courses(None, 0), "known_courses").is_empty());
}
