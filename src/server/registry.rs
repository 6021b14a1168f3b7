//! Which assignments, students, course containers and book containers the
//! server has seen, and the course (or ecosystem) each belongs to.
//!
//! The read endpoints need this for their statuses (`assignment_unknown` vs
//! `assignment_unready`, `book_container_unknown`, …, api.md §5.7, §5.9) and
//! to know which courses a read touched (its `Biglearn-Lag-Events`, A6b).
//! It is derived only from stored events: rebuilt from the log at start
//! ([`Registry::load`]) and updated after every accepted append, before the
//! write is answered, so a read issued after a write sees what it wrote.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use biglearn_core::events::{TypedEvent, WriteRequest};
use biglearn_core::ids::{
    AssignmentId, BookContainerId, CourseContainerId, CourseId, EcosystemId, StudentId,
};
use biglearn_core::log::{
    EventLog, EventType, FetchQuery, FetchRequest, SequenceNumber, StoreError, StreamId, StreamKind,
};

/// Streams per fetch call while loading (api.md §4.7 allows 1000).
const LOAD_BATCH: usize = 1000;

#[derive(Debug, Default)]
struct Known {
    book_containers: HashMap<BookContainerId, EcosystemId>,
    assignments: HashMap<AssignmentId, CourseId>,
    students: HashMap<StudentId, CourseId>,
    course_containers: HashMap<CourseContainerId, CourseId>,
    courses: BTreeSet<CourseId>,
}

/// The known ids (see the module docs). Shared by every request.
#[derive(Debug, Default)]
pub struct Registry {
    known: RwLock<Known>,
}

impl Registry {
    fn read(&self) -> RwLockReadGuard<'_, Known> {
        self.known.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Known> {
        self.known.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records what an accepted write made known.
    pub fn observe_request(&self, request: &WriteRequest) {
        if let WriteRequest::RecordResponses(items) = request {
            // The hot path: only take the write lock for a new course.
            let new: HashSet<CourseId> = {
                let known = self.read();
                items
                    .iter()
                    .map(|i| i.event.course_uuid)
                    .filter(|c| !known.courses.contains(c))
                    .collect()
            };
            if !new.is_empty() {
                self.write().courses.extend(new);
            }
            return;
        }
        let mut known = self.write();
        match request {
            WriteRequest::CreateEcosystem(item) => {
                for container in &item.event.book.contents {
                    known
                        .book_containers
                        .entry(container.container_uuid)
                        .or_insert(item.event.ecosystem_uuid);
                }
            }
            WriteRequest::CreateCourse(item) => {
                known.courses.insert(item.event.course_uuid);
            }
            WriteRequest::UpdateCourseActiveDates(item) => {
                known.courses.insert(item.event.course_uuid);
            }
            WriteRequest::PrepareCourseEcosystem(item) => {
                known.courses.insert(item.event.course_uuid);
            }
            WriteRequest::UpdateExcludedExercises(item) => {
                known.courses.insert(item.event.course_uuid);
            }
            WriteRequest::UpdateCourseEcosystems(items) => {
                for item in items {
                    known.courses.insert(item.event.course_uuid);
                }
            }
            WriteRequest::UpdateRosters(items) => {
                for item in items {
                    record_roster(&mut known, &item.event);
                }
            }
            WriteRequest::CreateUpdateAssignments(items) => {
                for item in items {
                    let course = item.event.course_uuid;
                    known.courses.insert(course);
                    known
                        .assignments
                        .entry(item.event.assignment_uuid)
                        .or_insert(course);
                }
            }
            WriteRequest::RecordResponses(_) => {}
        }
    }

    fn observe_event(&self, event: &TypedEvent) {
        let mut known = self.write();
        match event {
            TypedEvent::CreateEcosystem(body) => {
                for container in &body.book.contents {
                    known
                        .book_containers
                        .entry(container.container_uuid)
                        .or_insert(body.ecosystem_uuid);
                }
            }
            TypedEvent::UpdateRoster(body) => record_roster(&mut known, body),
            TypedEvent::CreateUpdateAssignment(body) => {
                known.courses.insert(body.course_uuid);
                known
                    .assignments
                    .entry(body.assignment_uuid)
                    .or_insert(body.course_uuid);
            }
            _ => {}
        }
    }

    /// The course of a known assignment.
    pub fn assignment_course(&self, id: AssignmentId) -> Option<CourseId> {
        self.read().assignments.get(&id).copied()
    }

    /// The course of a known student.
    pub fn student_course(&self, id: StudentId) -> Option<CourseId> {
        self.read().students.get(&id).copied()
    }

    /// The course of a known course container.
    pub fn course_container_course(&self, id: CourseContainerId) -> Option<CourseId> {
        self.read().course_containers.get(&id).copied()
    }

    /// The ecosystem owning a known book container.
    pub fn book_container_ecosystem(&self, id: BookContainerId) -> Option<EcosystemId> {
        self.read().book_containers.get(&id).copied()
    }

    /// Every course seen (for per-course metrics).
    pub fn courses(&self) -> Vec<CourseId> {
        self.read().courses.iter().copied().collect()
    }

    /// Rebuilds the registry from the log: every created ecosystem's
    /// create_ecosystem event, and the rosters and assignments of every
    /// created course up to its first gap. Not covered until they are
    /// written again or the gap is filled: events behind a gap, and courses
    /// whose create_course was never stored.
    pub fn load(log: &impl EventLog) -> Result<Registry, StoreError> {
        let registry = Registry::default();
        let ecosystems = all_streams(log, StreamKind::Ecosystem)?;
        registry.scan(log, &ecosystems, &[EventType::CreateEcosystem])?;
        let courses = all_streams(log, StreamKind::Course)?;
        registry
            .write()
            .courses
            .extend(courses.iter().filter_map(|s| match s {
                StreamId::Course(id) => Some(*id),
                StreamId::Ecosystem(_) => None,
            }));
        registry.scan(
            log,
            &courses,
            &[EventType::UpdateRoster, EventType::CreateUpdateAssignment],
        )?;
        Ok(registry)
    }

    /// Reads `types` of every stream from 0 to its end or first gap.
    fn scan(
        &self,
        log: &impl EventLog,
        streams: &[StreamId],
        types: &[EventType],
    ) -> Result<(), StoreError> {
        for batch in streams.chunks(LOAD_BATCH) {
            let mut cursors: Vec<(StreamId, SequenceNumber)> =
                batch.iter().map(|s| (*s, SequenceNumber::ZERO)).collect();
            while !cursors.is_empty() {
                let query = FetchQuery {
                    requests: cursors
                        .iter()
                        .enumerate()
                        .map(|(i, (stream, offset))| FetchRequest {
                            request_uuid: i.to_string(),
                            stream: *stream,
                            sequence_number_offset: *offset,
                            event_types: types.iter().copied().collect(),
                        })
                        .collect(),
                    max_num_events: 1000,
                };
                let responses = log.fetch_events(&query)?;
                let mut next = Vec::new();
                for ((stream, offset), response) in cursors.iter().zip(responses) {
                    for event in &response.events {
                        let typed = TypedEvent::from_event(event)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        self.observe_event(&typed);
                    }
                    if response.is_end || response.is_gap {
                        continue;
                    }
                    let resume = response
                        .events
                        .last()
                        .map_or(*offset, |e| e.sequence_number.next());
                    next.push((*stream, resume));
                }
                cursors = next;
            }
        }
        Ok(())
    }
}

fn record_roster(known: &mut Known, roster: &biglearn_core::events::UpdateRoster) {
    let course = roster.course_uuid;
    known.courses.insert(course);
    for container in &roster.course_containers {
        known
            .course_containers
            .entry(container.container_uuid)
            .or_insert(course);
    }
    for student in &roster.students {
        known.students.entry(student.student_uuid).or_insert(course);
    }
}

/// Every created stream of `kind`, by metadata number.
fn all_streams(log: &impl EventLog, kind: StreamKind) -> Result<Vec<StreamId>, StoreError> {
    let mut streams = Vec::new();
    let mut offset = 0u64;
    loop {
        let page = log.fetch_metadatas(kind, offset, 1000)?;
        let Some(last) = page.last() else {
            break;
        };
        offset = last.metadata_sequence_number + 1;
        let full = page.len() == 1000;
        streams.extend(page.into_iter().map(|m| m.stream));
        if !full {
            break;
        }
    }
    Ok(streams)
}
