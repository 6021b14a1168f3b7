//! A fake [`EventLog`] + [`BundleLog`] that records every group it commits.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Condvar, Mutex};

use biglearn_core::ids::{CourseId, EventId};
use biglearn_core::log::{
    AppendReceipt, AppendRejection, AppendRequest, Bundle, BundleLimits, BundleLog, ConsumerName,
    Event, EventLog, FetchQuery, FetchResponse, OpenGap, SequenceNumber, StoreError, StreamHead,
    StreamId, StreamKind, StreamMetadata,
};

/// Recorded groups and stored events of the fake.
#[derive(Default)]
struct FakeState {
    groups: Vec<Vec<AppendRequest>>,
    /// (stream, number) → event id, per stream in order.
    stored: BTreeMap<(StreamId, SequenceNumber), Event>,
    /// Per-consumer, per-course confirmed watermark (for the drain tests).
    confirmed: HashMap<(String, CourseId), SequenceNumber>,
}

/// A fake [`EventLog`]: minimal A4 rule (a position held by another id
/// rejects the request), failure injection, and a gate that holds commits.
#[derive(Default)]
pub(super) struct FakeLog {
    state: Mutex<FakeState>,
    /// Groups containing an event with this id fail with a backend error.
    pub(super) poison: Mutex<Option<EventId>>,
    /// Groups containing an event with this id panic.
    pub(super) panic_on: Mutex<Option<EventId>>,
    /// While `true`, `append_group` waits (forces followers to queue).
    gate: Mutex<bool>,
    gate_changed: Condvar,
    /// Commits currently inside `append_group` (must never exceed
    /// `concurrency`, where 0 means 1).
    inside: Mutex<usize>,
    /// Commits allowed inside at once.
    concurrency: Mutex<usize>,
    /// Most commits seen inside at once.
    peak_inside: Mutex<usize>,
}

impl FakeLog {
    /// Allows `n` commits inside `append_group` at once.
    pub(super) fn allow_concurrent(&self, n: usize) {
        *self.concurrency.lock().unwrap() = n;
    }

    /// Most commits that were inside `append_group` at once.
    pub(super) fn peak_inside(&self) -> usize {
        *self.peak_inside.lock().unwrap()
    }

    /// Commits inside `append_group` right now.
    pub(super) fn inside(&self) -> usize {
        *self.inside.lock().unwrap()
    }

    pub(super) fn close_gate(&self) {
        *self.gate.lock().unwrap() = true;
    }

    pub(super) fn open_gate(&self) {
        *self.gate.lock().unwrap() = false;
        self.gate_changed.notify_all();
    }

    pub(super) fn groups(&self) -> Vec<Vec<AppendRequest>> {
        self.state.lock().unwrap().groups.clone()
    }

    pub(super) fn stored_count(&self) -> usize {
        self.state.lock().unwrap().stored.len()
    }
}

fn contains(group: &[AppendRequest], id: Option<EventId>) -> bool {
    id.is_some_and(|id| {
        group
            .iter()
            .flat_map(|r| &r.events)
            .any(|e| e.event_id == id)
    })
}

impl EventLog for FakeLog {
    fn append_group(
        &self,
        group: &[AppendRequest],
    ) -> Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError> {
        {
            let mut inside = self.inside.lock().unwrap();
            *inside += 1;
            let allowed = (*self.concurrency.lock().unwrap()).max(1);
            assert!(*inside <= allowed, "{} commits ran at once", *inside);
            let mut peak = self.peak_inside.lock().unwrap();
            *peak = (*peak).max(*inside);
        }
        let mut gate = self.gate.lock().unwrap();
        while *gate {
            gate = self.gate_changed.wait(gate).unwrap();
        }
        drop(gate);
        let result = self.commit(group);
        *self.inside.lock().unwrap() -= 1;
        result
    }

    fn fetch_events(&self, _query: &FetchQuery) -> Result<Vec<FetchResponse>, StoreError> {
        Ok(Vec::new())
    }

    fn fetch_metadatas(
        &self,
        _kind: StreamKind,
        _offset: u64,
        _max: u32,
    ) -> Result<Vec<StreamMetadata>, StoreError> {
        Ok(Vec::new())
    }

    fn stream_head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError> {
        let state = self.state.lock().unwrap();
        let numbers: Vec<u64> = state
            .stored
            .keys()
            .filter(|(s, _)| *s == stream)
            .map(|(_, n)| n.get())
            .collect();
        let Some(max) = numbers.last() else {
            return Ok(None);
        };
        let contiguous = numbers
            .iter()
            .enumerate()
            .take_while(|(i, n)| *i as u64 == **n)
            .count();
        Ok(Some(StreamHead {
            high_water_mark: max + 1,
            contiguous_through: (contiguous as u64)
                .checked_sub(1)
                .map(|n| SequenceNumber::new(n).unwrap()),
        }))
    }

    fn event(&self, event_id: EventId) -> Result<Option<Event>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .stored
            .values()
            .find(|e| e.event_id == event_id)
            .cloned())
    }

    fn open_gaps(&self, _max: usize) -> Result<Vec<OpenGap>, StoreError> {
        Ok(Vec::new())
    }
}

impl FakeLog {
    fn commit(
        &self,
        group: &[AppendRequest],
    ) -> Result<Vec<Result<AppendReceipt, AppendRejection>>, StoreError> {
        if contains(group, *self.panic_on.lock().unwrap()) {
            *self.inside.lock().unwrap() -= 1;
            panic!("injected backend panic");
        }
        let mut state = self.state.lock().unwrap();
        state.groups.push(group.to_vec());
        if contains(group, *self.poison.lock().unwrap()) {
            return Err(StoreError::Backend {
                backend: "fake",
                operation: "commit",
                message: "injected failure".into(),
            });
        }
        let mut outcomes = Vec::new();
        for request in group {
            let clash = request.events.iter().enumerate().find_map(|(index, e)| {
                let held = state.stored.get(&(e.stream, e.sequence_number))?;
                (held.event_id != e.event_id).then_some(AppendRejection::SequenceNumberTaken {
                    index,
                    stream: e.stream,
                    sequence_number: e.sequence_number,
                    event_id: e.event_id,
                    existing: held.event_id,
                })
            });
            if let Some(rejection) = clash {
                outcomes.push(Err(rejection));
                continue;
            }
            let mut receipt = AppendReceipt::default();
            for e in &request.events {
                if state
                    .stored
                    .insert((e.stream, e.sequence_number), e.clone())
                    .is_some()
                {
                    receipt.replayed += 1;
                } else {
                    receipt.stored += 1;
                }
            }
            outcomes.push(Ok(receipt));
        }
        Ok(outcomes)
    }
}

impl BundleLog for FakeLog {
    fn next_bundles(
        &self,
        consumer: &ConsumerName,
        limits: BundleLimits,
    ) -> Result<Vec<Bundle>, StoreError> {
        let state = self.state.lock().unwrap();
        let mut by_course: BTreeMap<CourseId, Vec<Event>> = BTreeMap::new();
        for ((stream, number), event) in &state.stored {
            let StreamId::Course(course) = stream else {
                continue;
            };
            let next = state
                .confirmed
                .get(&(consumer.as_str().to_owned(), *course))
                .map_or(0, |c| c.get() + 1);
            let events = by_course.entry(*course).or_default();
            let expected = next + events.len() as u64;
            if number.get() == expected && events.len() < limits.max_events_per_bundle {
                events.push(event.clone());
            }
        }
        Ok(by_course
            .into_iter()
            .filter(|(_, events)| !events.is_empty())
            .take(limits.max_courses)
            .map(|(course, events)| Bundle { course, events })
            .collect())
    }

    fn confirm(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
        through: SequenceNumber,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let slot = state
            .confirmed
            .entry((consumer.as_str().to_owned(), course))
            .or_insert(through);
        *slot = (*slot).max(through);
        Ok(())
    }

    fn confirmed(
        &self,
        consumer: &ConsumerName,
        course: CourseId,
    ) -> Result<Option<SequenceNumber>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .confirmed
            .get(&(consumer.as_str().to_owned(), course))
            .copied())
    }

    fn backlog(&self, _consumer: &ConsumerName, _course: CourseId) -> Result<u64, StoreError> {
        Ok(0)
    }
}
