//! The id registry: which course owns a student, an assignment or a course
//! container, and which ecosystem owns a book container, as introduced by
//! the stored events. Readers need it for their statuses (`student_unknown`
//! vs `clue_unready`, `book_container_unknown`, …) and to know which courses
//! a read touches (its lag).
//!
//! Every backend stores the registry **with the events**: the ids an append
//! introduces ([`introduced_ids`]) are written in the same transaction as the
//! events themselves, so the registry never runs ahead of or behind the log,
//! and a replayed event (stored already) writes nothing. [`IdRegistry`] reads
//! it in batches.
//!
//! **An id's owner never changes.** The first stored event that introduces
//! an id decides its owner; a later event naming the same id under another
//! course (or ecosystem) leaves it where it is. Tutor creates a new student,
//! assignment and period uuid per course, and book containers are per
//! ecosystem, so a second owner only comes from a client bug; rosters move
//! students between the containers *of one course*, which does not change
//! the owning course. Readers may therefore cache a found owner forever.
//!
//! **What introduces an id** (the rules every backend, and the SQL backfill
//! of databases written before the registry existed, implement alike):
//!
//! | event (stream) | ids | owner |
//! |---|---|---|
//! | create_ecosystem (ecosystem) | `book.contents[].container_uuid` | the ecosystem |
//! | update_roster (course) | `course_containers[].container_uuid`, `students[].student_uuid` | the course |
//! | create_update_assignment (course) | `assignment_uuid` | the course |
//!
//! The owner is the event's stream. The rules read only those fields and are
//! lenient: event data that is not a JSON object, a list that is not an
//! array, an entry that is not an object or an id that is not an 8-4-4-4-12
//! uuid string contribute nothing (events appended through the server are
//! validated before they are stored; the engine reports malformed events as
//! problems of their course).

use std::collections::HashMap;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Event, EventLog, EventType, StoreError, StreamKind};
use crate::ids::{
    parse_uuid, AssignmentId, BookContainerId, CourseContainerId, CourseId, EcosystemId, StudentId,
};

/// Which kind of id a registry entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdKind {
    /// A student; owned by a course.
    Student,
    /// An assignment; owned by a course.
    Assignment,
    /// A course container (period, section, course root); owned by a course.
    CourseContainer,
    /// A book container; owned by an ecosystem.
    BookContainer,
}

impl IdKind {
    /// Every kind.
    pub const ALL: [IdKind; 4] = [
        IdKind::Student,
        IdKind::Assignment,
        IdKind::CourseContainer,
        IdKind::BookContainer,
    ];

    /// This project's storage code. Stable: stored on disk (and in the SQL
    /// backfill of the registry migration).
    pub fn code(self) -> i16 {
        match self {
            IdKind::Student => 0,
            IdKind::Assignment => 1,
            IdKind::CourseContainer => 2,
            IdKind::BookContainer => 3,
        }
    }

    /// Inverse of [`IdKind::code`].
    pub fn from_code(code: i16) -> Option<IdKind> {
        IdKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The kind of stream that owns ids of this kind.
    pub fn owner_kind(self) -> StreamKind {
        match self {
            IdKind::BookContainer => StreamKind::Ecosystem,
            _ => StreamKind::Course,
        }
    }
}

/// One registry entry: an id of `kind` owned by the stream `owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegisteredId {
    /// What the id is.
    pub kind: IdKind,
    /// The id.
    pub id: Uuid,
    /// The course (or, for book containers, ecosystem) uuid.
    pub owner: Uuid,
}

/// The ids `event` introduces, with their owner (see the module docs for the
/// rules), in the order they appear in the event data. May repeat an id.
pub fn introduced_ids(event: &Event) -> Vec<RegisteredId> {
    let owner = event.stream.uuid();
    let wanted = matches!(
        (event.event_type, event.stream.kind()),
        (EventType::CreateEcosystem, StreamKind::Ecosystem)
            | (EventType::UpdateRoster, StreamKind::Course)
            | (EventType::CreateUpdateAssignment, StreamKind::Course)
    );
    if !wanted {
        return Vec::new();
    }
    let Ok(data) = serde_json::from_str::<Map<String, Value>>(event.data.as_str()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut push = |kind: IdKind, value: Option<&Value>| {
        if let Some(id) = value
            .and_then(Value::as_str)
            .and_then(|t| parse_uuid(t).ok())
        {
            found.push(RegisteredId { kind, id, owner });
        }
    };
    match event.event_type {
        EventType::CreateEcosystem => {
            let contents = data
                .get("book")
                .and_then(Value::as_object)
                .and_then(|book| book.get("contents"));
            for entry in array_entries(contents) {
                push(IdKind::BookContainer, entry.get("container_uuid"));
            }
        }
        EventType::UpdateRoster => {
            for entry in array_entries(data.get("course_containers")) {
                push(IdKind::CourseContainer, entry.get("container_uuid"));
            }
            for entry in array_entries(data.get("students")) {
                push(IdKind::Student, entry.get("student_uuid"));
            }
        }
        _ => push(IdKind::Assignment, data.get("assignment_uuid")),
    }
    found
}

/// The object entries of a JSON array (nothing if `value` is no array).
fn array_entries(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// Ids to look up, by kind. Duplicates are harmless.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdQuery {
    /// Students.
    pub students: Vec<StudentId>,
    /// Assignments.
    pub assignments: Vec<AssignmentId>,
    /// Course containers.
    pub course_containers: Vec<CourseContainerId>,
    /// Book containers.
    pub book_containers: Vec<BookContainerId>,
}

impl IdQuery {
    /// Whether nothing is asked.
    pub fn is_empty(&self) -> bool {
        self.students.is_empty()
            && self.assignments.is_empty()
            && self.course_containers.is_empty()
            && self.book_containers.is_empty()
    }

    /// The asked ids as (kind, uuid) pairs, in kind order.
    pub fn keys(&self) -> Vec<(IdKind, Uuid)> {
        let mut keys = Vec::with_capacity(
            self.students.len()
                + self.assignments.len()
                + self.course_containers.len()
                + self.book_containers.len(),
        );
        keys.extend(
            self.students
                .iter()
                .map(|i| (IdKind::Student, *i.as_uuid())),
        );
        keys.extend(
            self.assignments
                .iter()
                .map(|i| (IdKind::Assignment, *i.as_uuid())),
        );
        keys.extend(
            self.course_containers
                .iter()
                .map(|i| (IdKind::CourseContainer, *i.as_uuid())),
        );
        keys.extend(
            self.book_containers
                .iter()
                .map(|i| (IdKind::BookContainer, *i.as_uuid())),
        );
        keys
    }
}

/// The owners of the asked ids that are registered; unknown ids are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdOwners {
    /// Student → course.
    pub students: HashMap<StudentId, CourseId>,
    /// Assignment → course.
    pub assignments: HashMap<AssignmentId, CourseId>,
    /// Course container → course.
    pub course_containers: HashMap<CourseContainerId, CourseId>,
    /// Book container → ecosystem.
    pub book_containers: HashMap<BookContainerId, EcosystemId>,
}

impl IdOwners {
    /// Records that `id` of `kind` is owned by `owner`.
    pub fn insert(&mut self, kind: IdKind, id: Uuid, owner: Uuid) {
        match kind {
            IdKind::Student => {
                self.students
                    .insert(StudentId::from_uuid(id), CourseId::from_uuid(owner));
            }
            IdKind::Assignment => {
                self.assignments
                    .insert(AssignmentId::from_uuid(id), CourseId::from_uuid(owner));
            }
            IdKind::CourseContainer => {
                self.course_containers
                    .insert(CourseContainerId::from_uuid(id), CourseId::from_uuid(owner));
            }
            IdKind::BookContainer => {
                self.book_containers.insert(
                    BookContainerId::from_uuid(id),
                    EcosystemId::from_uuid(owner),
                );
            }
        }
    }

    /// How many owners were found.
    pub fn len(&self) -> usize {
        self.students.len()
            + self.assignments.len()
            + self.course_containers.len()
            + self.book_containers.len()
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Batch reads of the id registry (see the module docs), which every
/// [`EventLog`] backend writes with its events.
pub trait IdRegistry: EventLog {
    /// The owners of the registered ids among `query` (one consistent read).
    fn id_owners(&self, query: &IdQuery) -> Result<IdOwners, StoreError>;

    /// Courses with at least one stored event, ascending by uuid, starting
    /// after `after` (from the first when `None`), at most `max`.
    fn known_courses(
        &self,
        after: Option<CourseId>,
        max: usize,
    ) -> Result<Vec<CourseId>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EventId;
    use crate::log::{EventData, SequenceNumber, StreamId};

    fn event(stream: StreamId, event_type: EventType, data: &str) -> Event {
        Event {
            stream,
            sequence_number: SequenceNumber::new(1).expect("small"),
            event_id: EventId::from_uuid(Uuid::from_u128(99)),
            event_type,
            data: EventData::from_json_text(data),
        }
    }

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000B";

    fn course() -> StreamId {
        StreamId::Course(CourseId::from_uuid(Uuid::from_u128(7)))
    }

    #[test]
    fn roster_ids_are_owned_by_the_stream() {
        let data = format!(
            r#"{{"course_uuid":"00000000-0000-0000-0000-000000000001",
                "course_containers":[{{"container_uuid":"{A}"}}, 5, {{"container_uuid":"nope"}}],
                "students":[{{"student_uuid":"{B}"}}, {{"student_uuid":17}}]}}"#
        );
        let ids = introduced_ids(&event(course(), EventType::UpdateRoster, &data));
        let owner = Uuid::from_u128(7);
        assert_eq!(
            ids,
            vec![
                RegisteredId {
                    kind: IdKind::CourseContainer,
                    id: parse_uuid(A).expect("uuid"),
                    owner
                },
                RegisteredId {
                    kind: IdKind::Student,
                    id: parse_uuid(B).expect("uuid"),
                    owner
                },
            ]
        );
    }

    #[test]
    fn assignments_and_book_containers() {
        let assignment = format!(r#"{{"assignment_uuid":"{A}"}}"#);
        let ids = introduced_ids(&event(
            course(),
            EventType::CreateUpdateAssignment,
            &assignment,
        ));
        assert_eq!(ids.len(), 1);
        assert_eq!(ids[0].kind, IdKind::Assignment);
        let ecosystem = StreamId::Ecosystem(EcosystemId::from_uuid(Uuid::from_u128(8)));
        let book = format!(
            r#"{{"book":{{"contents":[{{"container_uuid":"{A}"}},{{"container_uuid":"{B}"}}]}}}}"#
        );
        let ids = introduced_ids(&event(ecosystem, EventType::CreateEcosystem, &book));
        assert_eq!(ids.len(), 2);
        assert!(ids
            .iter()
            .all(|i| i.kind == IdKind::BookContainer && i.owner == Uuid::from_u128(8)));
    }

    #[test]
    fn other_events_and_bad_data_introduce_nothing() {
        let assignment = format!(r#"{{"assignment_uuid":"{A}"}}"#);
        for (event_type, data) in [
            (EventType::RecordResponse, assignment.as_str()),
            (EventType::CreateUpdateAssignment, "not json"),
            (EventType::CreateUpdateAssignment, r#"["x"]"#),
            (
                EventType::CreateUpdateAssignment,
                r#"{"assignment_uuid":["x"]}"#,
            ),
            (
                EventType::UpdateRoster,
                r#"{"students":{"a":{"student_uuid":"x"}}}"#,
            ),
            (
                EventType::CreateUpdateAssignment,
                r#"{"assignment_uuid":"0000000000004000800000000000000a"}"#,
            ),
        ] {
            assert!(
                introduced_ids(&event(course(), event_type, data)).is_empty(),
                "{event_type} {data}"
            );
        }
    }

    #[test]
    fn kind_codes_round_trip() {
        for kind in IdKind::ALL {
            assert_eq!(IdKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(IdKind::from_code(9), None);
    }
}
