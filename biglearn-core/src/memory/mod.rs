//! In-memory implementation of the storage traits ([`crate::log::EventLog`],
//! [`crate::log::BundleLog`] and [`crate::engine_store::EngineStore`]).
//!
//! [`MemoryStore`] keeps everything in one `RwLock`: appends take the write
//! lock for the whole group (so a group is one atomic step, like a database
//! transaction), reads take the read lock (one consistent snapshot). It runs
//! the same pure rules as the SQL backends ([`crate::log::plan_append`],
//! [`crate::log::fetch_events`], [`crate::log::bundle`]), spawns no threads
//! and compiles to wasm32.

mod engine;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::ids::{CourseId, EventId};
use crate::log::bundle::{self, BundleCutter, WaitingCourse};
use crate::log::*;

/// One stored event and its insertion position (global append order).
#[derive(Debug, Clone)]
struct Stored {
    event: Event,
    position: u64,
}

/// One stream: its head and the uuid stored at each number.
#[derive(Debug, Clone)]
struct StreamState {
    head: StreamHead,
    numbers: BTreeMap<SequenceNumber, EventId>,
}

#[derive(Debug, Default)]
struct Inner {
    events: HashMap<EventId, Stored>,
    streams: BTreeMap<StreamId, StreamState>,
    /// Per kind, indexed by metadata sequence number.
    metadata: BTreeMap<StreamKind, Vec<StreamMetadata>>,
    watermarks: HashMap<(ConsumerName, CourseId), SequenceNumber>,
    /// The id registry ([`crate::log::registry`]): (kind, id) → owner,
    /// written with the events that introduce the ids.
    owners: HashMap<(IdKind, uuid::Uuid), uuid::Uuid>,
    next_position: u64,
    /// The engine's states and results ([`crate::engine_store`]), under the
    /// same lock as the watermarks so a commit is one atomic step.
    engine: engine::EngineTables,
}

/// The in-memory event log and bundle store. Cheap to create; `Send + Sync`.
///
/// ```
/// use biglearn_core::ids::{CourseId, EventId};
/// use biglearn_core::log::*;
/// use biglearn_core::memory::MemoryStore;
/// use uuid::Uuid;
///
/// let store = MemoryStore::new();
/// let course = StreamId::Course(CourseId::from_uuid(Uuid::from_u128(7)));
/// let event = Event {
///     stream: course,
///     sequence_number: SequenceNumber::new(1).unwrap(),
///     event_id: EventId::from_uuid(Uuid::from_u128(8)),
///     event_type: EventType::RecordResponse,
///     data: EventData::from_json_text("{}"),
/// };
/// let request = AppendRequest { events: vec![event] };
/// assert_eq!(store.append(&request).unwrap().stored, 1);
/// assert_eq!(store.append(&request).unwrap().replayed, 1);
/// let head = store.stream_head(course).unwrap().unwrap();
/// assert_eq!((head.high_water_mark, head.contiguous_through), (2, None));
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

fn poisoned(operation: &'static str) -> StoreError {
    StoreError::Backend {
        backend: "memory",
        operation,
        message: "a thread panicked while holding the store lock".into(),
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn read(&self, operation: &'static str) -> Result<RwLockReadGuard<'_, Inner>, StoreError> {
        self.inner.read().map_err(|_| poisoned(operation))
    }

    fn write(&self, operation: &'static str) -> Result<RwLockWriteGuard<'_, Inner>, StoreError> {
        self.inner.write().map_err(|_| poisoned(operation))
    }
}

impl Inner {
    fn snapshot_for(&self, group: &[AppendRequest]) -> AppendSnapshot {
        let keys = AppendSnapshot::keys_of(group);
        let mut snapshot = AppendSnapshot::default();
        for id in keys.event_ids {
            if let Some(stored) = self.events.get(&id) {
                snapshot.events_by_id.insert(id, stored.event.clone());
            }
        }
        for (stream, number) in keys.positions {
            let holder = self
                .streams
                .get(&stream)
                .and_then(|s| s.numbers.get(&number));
            if let Some(holder) = holder {
                snapshot.ids_by_position.insert((stream, number), *holder);
            }
        }
        for stream in keys.streams {
            if let Some(state) = self.streams.get(&stream) {
                snapshot.heads.insert(stream, state.head);
                let above: Vec<SequenceNumber> = match state.head.contiguous_through {
                    None => state.numbers.keys().copied().collect(),
                    Some(c) => state
                        .numbers
                        .range((std::ops::Bound::Excluded(c), std::ops::Bound::Unbounded))
                        .map(|(n, _)| *n)
                        .collect(),
                };
                snapshot.stored_above_contiguous.insert(stream, above);
            }
        }
        for (kind, numbered) in &self.metadata {
            snapshot
                .next_metadata_number
                .insert(*kind, numbered.len() as u64);
        }
        snapshot
    }

    fn apply(&mut self, plan: &AppendPlan) -> Result<(), StoreError> {
        for event in &plan.inserts {
            let position = self.next_position;
            self.next_position += 1;
            self.streams
                .entry(event.stream)
                .or_insert_with(|| StreamState {
                    head: StreamHead {
                        high_water_mark: 0,
                        contiguous_through: None,
                    },
                    numbers: BTreeMap::new(),
                })
                .numbers
                .insert(event.sequence_number, event.event_id);
            for entry in introduced_ids(event) {
                self.owners
                    .entry((entry.kind, entry.id))
                    .or_insert(entry.owner);
            }
            self.events.insert(
                event.event_id,
                Stored {
                    event: event.clone(),
                    position,
                },
            );
        }
        for (stream, head) in &plan.heads {
            match self.streams.get_mut(stream) {
                Some(state) => state.head = *head,
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "append plan sets the head of {stream}, which got no event"
                    )))
                }
            }
        }
        for assignment in &plan.metadata {
            let numbered = self.metadata.entry(assignment.stream.kind()).or_default();
            if numbered.len() as u64 != assignment.metadata_sequence_number {
                return Err(StoreError::Corrupt(format!(
                    "metadata number {} planned for {}, but the next free one is {}",
                    assignment.metadata_sequence_number,
                    assignment.stream,
                    numbered.len()
                )));
            }
            numbered.push(StreamMetadata {
                stream: assignment.stream,
                metadata_sequence_number: assignment.metadata_sequence_number,
                initial_ecosystem: assignment.initial_ecosystem,
            });
        }
        Ok(())
    }

    fn contiguous_through(&self, course: CourseId) -> Option<SequenceNumber> {
        self.streams
            .get(&StreamId::Course(course))
            .and_then(|s| s.head.contiguous_through)
    }

    fn position_at(&self, stream: StreamId, number: SequenceNumber) -> Option<u64> {
        let id = self.streams.get(&stream)?.numbers.get(&number)?;
        self.events.get(id).map(|s| s.position)
    }

    fn events_in(
        &self,
        stream: StreamId,
        first: SequenceNumber,
        last: SequenceNumber,
    ) -> Result<Vec<Event>, StoreError> {
        let Some(state) = self.streams.get(&stream) else {
            return Ok(Vec::new());
        };
        state
            .numbers
            .range(first..=last)
            .map(|(number, id)| {
                self.events.get(id).map(|s| s.event.clone()).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "{stream} number {number} points at missing event {id}"
                    ))
                })
            })
            .collect()
    }
}

impl FetchSource for Inner {
    fn head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError> {
        Ok(self.streams.get(&stream).map(|s| s.head))
    }

    fn events_from(
        &self,
        stream: StreamId,
        offset: SequenceNumber,
        types: &BTreeSet<EventType>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let Some(state) = self.streams.get(&stream) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for (number, id) in state.numbers.range(offset..) {
            if found.len() >= limit {
                break;
            }
            let stored = self.events.get(id).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "{stream} number {number} points at missing event {id}"
                ))
            })?;
            if types.contains(&stored.event.event_type) {
                found.push(stored.event.clone());
            }
        }
        Ok(found)
    }

    fn stored_numbers(
        &self,
        stream: StreamId,
        numbers: &[SequenceNumber],
    ) -> Result<HashSet<SequenceNumber>, StoreError> {
        let Some(state) = self.streams.get(&stream) else {
            return Ok(HashSet::new());
        };
        Ok(numbers
            .iter()
            .filter(|n| state.numbers.contains_key(n))
            .copied()
            .collect())
    }
}

impl EventLog for MemoryStore {
    fn append_group(
        &self,
        group: &[AppendRequest],
    ) -> Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError> {
        let mut inner = self.write("append_group")?;
        let plan = plan_append(group, &inner.snapshot_for(group));
        inner.apply(&plan)?;
        Ok(plan.outcomes)
    }

    fn fetch_events(&self, query: &FetchQuery) -> Result<Vec<FetchResponse>, StoreError> {
        let inner = self.read("fetch_events")?;
        fetch_events(query, &*inner)
    }

    fn fetch_metadatas(
        &self,
        kind: StreamKind,
        offset: u64,
        max: u32,
    ) -> Result<Vec<StreamMetadata>, StoreError> {
        let inner = self.read("fetch_metadatas")?;
        let numbered = inner.metadata.get(&kind).map_or(&[][..], |v| v.as_slice());
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(numbered.len());
        Ok(numbered[start..]
            .iter()
            .take(max as usize)
            .copied()
            .collect())
    }

    fn stream_head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError> {
        let inner = self.read("stream_head")?;
        Ok(inner.streams.get(&stream).map(|s| s.head))
    }

    fn event(&self, event_id: EventId) -> Result<Option<Event>, StoreError> {
        let inner = self.read("event")?;
        Ok(inner.events.get(&event_id).map(|s| s.event.clone()))
    }

    fn open_gaps(&self, max: usize) -> Result<Vec<OpenGap>, StoreError> {
        let inner = self.read("open_gaps")?;
        Ok(inner
            .streams
            .iter()
            .filter_map(|(stream, state)| {
                bundle::open_gap(*stream, state.head, state.numbers.len() as u64)
            })
            .take(max)
            .collect())
    }
}

impl BundleLog for MemoryStore {
    fn next_bundles(
        &self,
        consumer: &ConsumerName,
        limits: BundleLimits,
    ) -> Result<Vec<Bundle>, StoreError> {
        let inner = self.read("next_bundles")?;
        let mut waiting = Vec::new();
        for (stream, state) in &inner.streams {
            let StreamId::Course(course) = *stream else {
                continue;
            };
            let confirmed = inner.watermarks.get(&(consumer.clone(), course)).copied();
            let Some((first, last)) =
                bundle::pending_range(confirmed, state.head.contiguous_through)
            else {
                continue;
            };
            let since = inner.position_at(*stream, first).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "{stream} is contiguous through {last} but misses {first}"
                ))
            })?;
            waiting.push(WaitingCourse {
                since,
                course,
                first,
                last,
            });
        }
        let mut cutter = BundleCutter::new(limits);
        let mut bundles = Vec::new();
        for course in bundle::order_waiting(waiting, limits.max_courses) {
            let window_end = course
                .first
                .get()
                .saturating_add(cutter.max_events() as u64 - 1)
                .min(course.last.get());
            let window_end = SequenceNumber::new(window_end).unwrap_or(course.last);
            let events =
                inner.events_in(StreamId::Course(course.course), course.first, window_end)?;
            if let Some(bundle) = cutter.cut(course.course, events) {
                bundles.push(bundle);
            }
        }
        Ok(bundles)
    }

    fn confirm(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
        through: SequenceNumber,
    ) -> Result<(), StoreError> {
        let mut inner = self.write("confirm")?;
        let key = (consumer.clone(), course);
        let current = inner.watermarks.get(&key).copied();
        let contiguous = inner.contiguous_through(course);
        if let Some(target) = bundle::confirm_target(current, through, contiguous) {
            inner.watermarks.insert(key, target);
        }
        Ok(())
    }

    fn confirmed(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<SequenceNumber>, StoreError> {
        let inner = self.read("confirmed")?;
        Ok(inner.watermarks.get(&(consumer.clone(), course)).copied())
    }

    fn backlog(&self, consumer: &ConsumerName, course: CourseId) -> Result<u64, StoreError> {
        let inner = self.read("backlog")?;
        let confirmed = inner.watermarks.get(&(consumer.clone(), course)).copied();
        Ok(bundle::backlog(confirmed, inner.contiguous_through(course)))
    }
}

impl IdRegistry for MemoryStore {
    fn id_owners(&self, query: &IdQuery) -> Result<IdOwners, StoreError> {
        let inner = self.read("id_owners")?;
        let mut owners = IdOwners::default();
        for (kind, id) in query.keys() {
            if let Some(owner) = inner.owners.get(&(kind, id)) {
                owners.insert(kind, id, *owner);
            }
        }
        Ok(owners)
    }

    fn known_courses(
        &self,
        after: Option<CourseId>,
        max: usize,
    ) -> Result<Vec<CourseId>, StoreError> {
        let inner = self.read("known_courses")?;
        let start = match after {
            Some(after) => std::ops::Bound::Excluded(StreamId::Course(after)),
            None => std::ops::Bound::Unbounded,
        };
        Ok(inner
            .streams
            .range((start, std::ops::Bound::Unbounded))
            .map_while(|(stream, _)| match stream {
                StreamId::Course(course) => Some(*course),
                StreamId::Ecosystem(_) => None,
            })
            .take(max)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisoned_lock_is_a_backend_error_not_a_panic() {
        let store = MemoryStore::new();
        let poisoner = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let _guard = store.inner.write();
                    panic!("poison the lock");
                })
                .join()
        });
        assert!(poisoner.is_err());
        let stream = StreamId::Course(CourseId::from_uuid(uuid::Uuid::from_u128(1)));
        match store.stream_head(stream) {
            Err(StoreError::Backend {
                backend, operation, ..
            }) => assert_eq!((backend, operation), ("memory", "stream_head")),
            other => panic!("expected a backend error, got {other:?}"),
        }
        assert!(matches!(
            store.append_group(&[]),
            Err(StoreError::Backend {
                operation: "append_group",
                ..
            })
        ));
    }
}
