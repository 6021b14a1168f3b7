//! A deliberately naive reference model of the storage contract, used by the
//! model check: a plain list of events in insertion order, everything
//! recomputed by brute force. Only `fetch_events` is shared with the
//! backends (the pure algorithm has its own unit tests); the model checks a
//! backend's primitive reads feed it correctly.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::ids::CourseId;
use crate::log::append::initial_ecosystem_of;
use crate::log::*;

/// The reference model's state.
#[derive(Debug, Default, Clone)]
pub struct Reference {
    /// Stored events in insertion order.
    pub events: Vec<Event>,
    /// Metadata per kind, in number order.
    pub metadata: BTreeMap<StreamKind, Vec<StreamMetadata>>,
    /// Confirmed watermarks.
    pub watermarks: BTreeMap<(ConsumerName, CourseId), SequenceNumber>,
}

impl Reference {
    fn find_id(&self, pending: &[Event], id: crate::ids::EventId) -> Option<Event> {
        self.events
            .iter()
            .chain(pending)
            .find(|e| e.event_id == id)
            .cloned()
    }

    fn find_position(
        &self,
        pending: &[Event],
        stream: StreamId,
        n: SequenceNumber,
    ) -> Option<Event> {
        self.events
            .iter()
            .chain(pending)
            .find(|e| e.stream == stream && e.sequence_number == n)
            .cloned()
    }

    /// Appends one request atomically.
    pub fn append(&mut self, request: &AppendRequest) -> Result<AppendReceipt, AppendRejection> {
        let mut pending: Vec<Event> = Vec::new();
        let mut receipt = AppendReceipt::default();
        for (index, e) in request.events.iter().enumerate() {
            let create_ok = !e.event_type.is_create() || e.sequence_number.get() == 0;
            if !e.event_type.allowed_in(e.stream.kind()) || !create_ok {
                return Err(AppendRejection::InvalidPlacement {
                    index,
                    event_type: e.event_type,
                    stream: e.stream,
                    sequence_number: e.sequence_number,
                });
            }
            if let Some(old) = self.find_id(&pending, e.event_id) {
                if (old.stream, old.sequence_number, old.event_type)
                    == (e.stream, e.sequence_number, e.event_type)
                {
                    receipt.replayed += 1;
                    continue;
                }
                return Err(AppendRejection::EventIdReused {
                    index,
                    event_id: e.event_id,
                    existing_stream: old.stream,
                    existing_sequence_number: old.sequence_number,
                    existing_type: old.event_type,
                });
            }
            if let Some(old) = self.find_position(&pending, e.stream, e.sequence_number) {
                return Err(AppendRejection::SequenceNumberTaken {
                    index,
                    stream: e.stream,
                    sequence_number: e.sequence_number,
                    event_id: e.event_id,
                    existing: old.event_id,
                });
            }
            pending.push(e.clone());
            receipt.stored += 1;
        }
        for e in pending {
            if e.event_type.is_create() {
                let numbered = self.metadata.entry(e.stream.kind()).or_default();
                numbered.push(StreamMetadata {
                    stream: e.stream,
                    metadata_sequence_number: numbered.len() as u64,
                    initial_ecosystem: match e.event_type {
                        EventType::CreateCourse => initial_ecosystem_of(&e.data),
                        _ => None,
                    },
                });
            }
            self.events.push(e);
        }
        Ok(receipt)
    }

    fn numbers(&self, stream: StreamId) -> BTreeSet<u64> {
        self.events
            .iter()
            .filter(|e| e.stream == stream)
            .map(|e| e.sequence_number.get())
            .collect()
    }

    /// Every stream with at least one event.
    pub fn streams(&self) -> BTreeSet<StreamId> {
        self.events.iter().map(|e| e.stream).collect()
    }

    /// The head of a stream, by brute force.
    pub fn head(&self, stream: StreamId) -> Option<StreamHead> {
        let numbers = self.numbers(stream);
        let max = numbers.iter().max()?;
        let mut contiguous: Option<u64> = None;
        while numbers.contains(&contiguous.map_or(0, |c| c + 1)) {
            contiguous = Some(contiguous.map_or(0, |c| c + 1));
        }
        Some(StreamHead {
            high_water_mark: max + 1,
            contiguous_through: contiguous.and_then(|c| SequenceNumber::new(c).ok()),
        })
    }

    /// Open gaps, sorted by stream.
    pub fn open_gaps(&self) -> Vec<OpenGap> {
        let mut gaps = Vec::new();
        for stream in self.streams() {
            let Some(head) = self.head(stream) else {
                continue;
            };
            let missing = head.contiguous_through.map_or(0, |c| c.get() + 1);
            if head.high_water_mark > missing {
                let waiting = self
                    .numbers(stream)
                    .iter()
                    .filter(|n| **n > missing)
                    .count();
                if let Ok(missing) = SequenceNumber::new(missing) {
                    gaps.push(OpenGap {
                        stream,
                        missing,
                        events_waiting: waiting as u64,
                        first_seen_unix_micros: None,
                    });
                }
            }
        }
        gaps
    }

    /// Confirms with clamping and monotonicity.
    pub fn confirm(&mut self, consumer: &ConsumerName, course: CourseId, through: SequenceNumber) {
        let Some(contiguous) = self
            .head(StreamId::Course(course))
            .and_then(|h| h.contiguous_through)
        else {
            return;
        };
        let target = through.min(contiguous);
        let key = (consumer.clone(), course);
        if self.watermarks.get(&key).map_or(true, |c| *c < target) {
            self.watermarks.insert(key, target);
        }
    }

    /// Contiguous unconfirmed events of a course.
    pub fn backlog(&self, consumer: &ConsumerName, course: CourseId) -> u64 {
        let first = self
            .watermarks
            .get(&(consumer.clone(), course))
            .map_or(0, |c| c.get() + 1);
        match self
            .head(StreamId::Course(course))
            .and_then(|h| h.contiguous_through)
        {
            Some(last) if last.get() >= first => last.get() - first + 1,
            _ => 0,
        }
    }

    /// The bundles of one call, by brute force.
    pub fn next_bundles(&self, consumer: &ConsumerName, limits: BundleLimits) -> Vec<Bundle> {
        let mut waiting = Vec::new();
        for stream in self.streams() {
            let StreamId::Course(course) = stream else {
                continue;
            };
            let first = self
                .watermarks
                .get(&(consumer.clone(), course))
                .map_or(0, |c| c.get() + 1);
            let Some(last) = self.head(stream).and_then(|h| h.contiguous_through) else {
                continue;
            };
            if last.get() < first {
                continue;
            }
            let since = self
                .events
                .iter()
                .position(|e| e.stream == stream && e.sequence_number.get() == first)
                .unwrap_or(usize::MAX);
            waiting.push((since, course, first, last.get()));
        }
        waiting.sort();
        let mut used = 0u64;
        let mut out = Vec::new();
        for (_, course, first, last) in waiting.into_iter().take(limits.max_courses) {
            let mut taken: Vec<Event> = Vec::new();
            for n in first..=last {
                if taken.len() >= limits.max_events_per_bundle.max(1) {
                    break;
                }
                let Some(e) = self
                    .events
                    .iter()
                    .find(|e| e.stream == StreamId::Course(course) && e.sequence_number.get() == n)
                else {
                    break;
                };
                let size = e.data.as_str().len() as u64;
                if !taken.is_empty() && used + size > limits.max_bytes {
                    break;
                }
                used += size;
                taken.push(e.clone());
            }
            out.push(Bundle {
                course,
                events: taken,
            });
        }
        out
    }
}

impl FetchSource for Reference {
    fn head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError> {
        Ok(Reference::head(self, stream))
    }

    fn events_from(
        &self,
        stream: StreamId,
        offset: SequenceNumber,
        types: &BTreeSet<EventType>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let mut found: Vec<Event> = self
            .events
            .iter()
            .filter(|e| {
                e.stream == stream && e.sequence_number >= offset && types.contains(&e.event_type)
            })
            .cloned()
            .collect();
        found.sort_by_key(|e| e.sequence_number);
        found.truncate(limit);
        Ok(found)
    }

    fn stored_numbers(
        &self,
        stream: StreamId,
        numbers: &[SequenceNumber],
    ) -> Result<HashSet<SequenceNumber>, StoreError> {
        Ok(self
            .events
            .iter()
            .filter(|e| e.stream == stream && numbers.contains(&e.sequence_number))
            .map(|e| e.sequence_number)
            .collect())
    }
}
