//! Pure rules for per-course bundles and confirmed watermarks (O2b, ops.md
//! §1.3–§1.4) and for listing open gaps (O3). Every backend implements
//! [`super::BundleLog`] and [`super::EventLog::open_gaps`] with these.
//!
//! **Waiting order.** A course waits for a consumer iff the event right after
//! the consumer's confirmed watermark (number 0 when nothing is confirmed) is
//! stored and contiguous, i.e. `confirmed < contiguous_through`. It has waited
//! since that event was stored, so courses are served in ascending
//! *insertion position* of that event ([`WaitingCourse::since`]: the global
//! order in which the backend stored events, e.g. an auto-increment row id),
//! ties by course id. This is deterministic and needs one lookup per course.

use crate::ids::{CourseId, EventId};

use super::append::number_after;
use super::types::*;

/// The unconfirmed, deliverable range of one course for one consumer:
/// from right after `confirmed` (or 0) through `contiguous_through`, both
/// inclusive; `None` when nothing is deliverable.
pub fn pending_range(
    confirmed: Option<SequenceNumber>,
    contiguous_through: Option<SequenceNumber>,
) -> Option<(SequenceNumber, SequenceNumber)> {
    let last = contiguous_through?;
    let first = number_after(confirmed)?;
    (first <= last).then_some((first, last))
}

/// How many contiguous events `consumer` has not confirmed yet (its lag).
pub fn backlog(
    confirmed: Option<SequenceNumber>,
    contiguous_through: Option<SequenceNumber>,
) -> u64 {
    pending_range(confirmed, contiguous_through)
        .map_or(0, |(first, last)| last.get() - first.get() + 1)
}

/// The watermark after confirming `through`: clamped to the course's
/// contiguous head and never lowered. `None` means nothing changes (a lower
/// or equal value, or nothing contiguous to confirm yet).
pub fn confirm_target(
    current: Option<SequenceNumber>,
    through: SequenceNumber,
    contiguous_through: Option<SequenceNumber>,
) -> Option<SequenceNumber> {
    let clamped = through.min(contiguous_through?);
    match current {
        Some(current) if current >= clamped => None,
        _ => Some(clamped),
    }
}

/// A course with deliverable events for one consumer (see the module docs
/// for the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WaitingCourse {
    /// Insertion position of the first unconfirmed event.
    pub since: u64,
    /// The course.
    pub course: CourseId,
    /// The deliverable range, inclusive (see [`pending_range`]).
    pub first: SequenceNumber,
    /// Last deliverable number (the course's contiguous head).
    pub last: SequenceNumber,
}

/// Sorts waiting courses oldest first (by `since`, then course id) and keeps
/// at most `max_courses`.
pub fn order_waiting(mut waiting: Vec<WaitingCourse>, max_courses: usize) -> Vec<WaitingCourse> {
    waiting.sort();
    waiting.truncate(max_courses);
    waiting
}

/// Cuts bundles within one call's [`BundleLimits`]: each bundle takes as many
/// contiguous events as the caps allow; the byte budget is shared by the
/// whole call, and the first event of each bundle is always taken (so one
/// large event still moves).
#[derive(Debug, Clone)]
pub struct BundleCutter {
    limits: BundleLimits,
    bytes_used: u64,
}

impl BundleCutter {
    /// A cutter with the whole budget of `limits` available.
    pub fn new(limits: BundleLimits) -> Self {
        BundleCutter {
            limits,
            bytes_used: 0,
        }
    }

    /// How many events a bundle may take at most before looking at sizes
    /// (at least 1): what a backend should load per course.
    pub fn max_events(&self) -> usize {
        self.limits.max_events_per_bundle.max(1)
    }

    /// Bytes of event data handed out so far in this call.
    pub fn bytes_used(&self) -> u64 {
        self.bytes_used
    }

    /// Builds the bundle of `course` from `events` (ascending and contiguous
    /// from the first unconfirmed number, as loaded). Stops at the first
    /// discontinuity, at the event cap and at the byte budget. `None` if
    /// `events` is empty.
    pub fn cut(&mut self, course: CourseId, events: Vec<Event>) -> Option<Bundle> {
        let mut taken: Vec<Event> = Vec::new();
        for event in events {
            if taken.len() >= self.max_events() {
                break;
            }
            if let Some(last) = taken.last() {
                if last.sequence_number.get() + 1 != event.sequence_number.get() {
                    break;
                }
            }
            let size = event.data.as_str().len() as u64;
            if !taken.is_empty() && self.bytes_used.saturating_add(size) > self.limits.max_bytes {
                break;
            }
            self.bytes_used = self.bytes_used.saturating_add(size);
            taken.push(event);
        }
        (!taken.is_empty()).then_some(Bundle {
            course,
            events: taken,
        })
    }
}

/// The open gap of a stream, if any (O3): the first missing number is right
/// after `contiguous_through`, and a gap is open when some later number is
/// stored (`high_water_mark` beyond it). `stored_events` is the number of
/// events stored in the stream (all types).
pub fn open_gap(stream: StreamId, head: StreamHead, stored_events: u64) -> Option<OpenGap> {
    let missing = number_after(head.contiguous_through)?;
    if head.high_water_mark <= missing.get() {
        return None;
    }
    let contiguous = head.contiguous_through.map_or(0, |c| c.get() + 1);
    Some(OpenGap {
        stream,
        missing,
        events_waiting: stored_events.saturating_sub(contiguous),
        first_seen_unix_micros: None,
    })
}

/// The no_op event that repairs an open gap (O3): stored at `missing` in
/// `stream`, with data `{"<course|ecosystem>_uuid": …, "sequence_number": n}`.
/// Its uuid is derived from the stream and the number alone (FNV-1a, stable
/// across builds), so re-running a repair is a silent replay (A4), and a
/// repair racing the real event loses with a clean 422-style rejection.
pub fn gap_filler(stream: StreamId, missing: SequenceNumber) -> Event {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let kind: &[u8] = match stream.kind() {
        StreamKind::Course => b"course",
        StreamKind::Ecosystem => b"ecosystem",
    };
    let uuid = stream.uuid();
    let number = missing.get().to_be_bytes();
    let mut hash = OFFSET;
    let bytes = b"biglearn no_op\0"
        .iter()
        .chain(kind)
        .chain(uuid.as_bytes())
        .chain(&number);
    for byte in bytes {
        hash ^= u128::from(*byte);
        hash = hash.wrapping_mul(PRIME);
    }
    // Version 8 (custom) and the RFC 4122 variant, so it reads as a uuid.
    hash = (hash & !(0xf << 76)) | (0x8 << 76);
    hash = (hash & !(0x3 << 62)) | (0x2 << 62);
    let key = match stream.kind() {
        StreamKind::Course => "course_uuid",
        StreamKind::Ecosystem => "ecosystem_uuid",
    };
    let data =
        serde_json::json!({ key: stream.uuid().to_string(), "sequence_number": missing.get() });
    Event {
        stream,
        sequence_number: missing,
        event_id: EventId::from_uuid(uuid::Uuid::from_u128(hash)),
        event_type: EventType::NoOp,
        data: EventData::from_value(&data),
    }
}

#[cfg(test)]
#[path = "bundle_tests.rs"]
mod tests;
