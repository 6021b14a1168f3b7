//! The fetch algorithm of api.md §4.7 as a pure function over three primitive
//! queries, so every backend answers fetch_*_events identically.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::types::*;
use super::StoreError;

/// The primitive reads a backend answers within one consistent snapshot.
pub trait FetchSource {
    /// The stream's head; `None` if the stream is unknown.
    fn head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError>;

    /// Stored events of `stream` with number ≥ `offset` whose type is in
    /// `types`, ascending, at most `limit`.
    fn events_from(
        &self,
        stream: StreamId,
        offset: SequenceNumber,
        types: &BTreeSet<EventType>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError>;

    /// Which of `numbers` are stored in `stream`, of any type.
    fn stored_numbers(
        &self,
        stream: StreamId,
        numbers: &[SequenceNumber],
    ) -> Result<HashSet<SequenceNumber>, StoreError>;
}

/// One candidate row of step 4: an event, or the placeholder of an active
/// sub-request without any candidate event.
#[derive(Debug)]
struct Row {
    /// Index of the sub-request.
    request: usize,
    /// `None` for a placeholder row.
    event: Option<Event>,
    /// No event of a requested type exists later in the stream.
    is_end: bool,
}

impl Row {
    /// Sort key of step 5: placeholders first, then distance from the
    /// sub-request's offset; ties by request order (then number, which the
    /// distance already fixes within one sub-request).
    fn order_key(&self, offsets: &[SequenceNumber]) -> (u8, u64, usize) {
        match &self.event {
            None => (0, 0, self.request),
            Some(event) => {
                let offset = offsets.get(self.request).map_or(0, |o| o.get());
                (
                    1,
                    event.sequence_number.get().saturating_sub(offset),
                    self.request,
                )
            }
        }
    }

    fn bit_len(&self) -> u64 {
        self.event.as_ref().map_or(0, |e| e.data.bit_len())
    }
}

/// Answers a fetch call exactly as api.md §4.7 describes (inclusive offset,
/// fair global ordering by distance from offset, call-wide `max_num_events`,
/// 32,000,000-bit cap with the first row always kept, `is_gap` / `is_end`).
///
/// Choices where §4.7 leaves room, fixed here for every backend:
/// - rows at equal distance are ordered by sub-request order;
/// - placeholder rows count against `max_num_events` and have size 0;
/// - the size cap keeps a row while the running total *including* it stays
///   below [`FETCH_BIT_CAP`], so the survivors are a prefix of the order
///   (the very first row is always kept);
/// - gap detection looks only at the number right before each surviving
///   candidate, as the original did, so a gap followed by an event of a type
///   that was not requested goes unnoticed (api.md §4.7, subtleties), and
///   an offset right after a missing number reports that gap too (the number
///   before the first candidate is checked like any other).
pub fn fetch_events(
    query: &FetchQuery,
    source: &impl FetchSource,
) -> Result<Vec<FetchResponse>, StoreError> {
    let max_rows = query.max_num_events as usize;
    let offsets: Vec<SequenceNumber> = query
        .requests
        .iter()
        .map(|r| r.sequence_number_offset)
        .collect();

    // Steps 3 and 4: active test and candidate rows. Fetching one more than
    // the call-wide cap decides `is_end` for every row that can survive.
    let mut active = vec![false; query.requests.len()];
    let mut rows = Vec::new();
    for (index, request) in query.requests.iter().enumerate() {
        let head = source.head(request.stream)?;
        let is_active =
            head.is_some_and(|h| h.high_water_mark > request.sequence_number_offset.get());
        if !is_active {
            continue;
        }
        active[index] = true;
        let events = source.events_from(
            request.stream,
            request.sequence_number_offset,
            &request.event_types,
            max_rows.saturating_add(1),
        )?;
        if events.is_empty() {
            rows.push(Row {
                request: index,
                event: None,
                is_end: true,
            });
            continue;
        }
        let count = events.len();
        let complete = count <= max_rows;
        for (position, event) in events.into_iter().enumerate() {
            rows.push(Row {
                request: index,
                event: Some(event),
                is_end: complete && position + 1 == count,
            });
        }
    }

    // Steps 5 and 6: fair global order, call-wide cap, size cap.
    rows.sort_by_key(|row| row.order_key(&offsets));
    rows.truncate(max_rows);
    let mut total_bits: u64 = 0;
    let mut kept = 0;
    for (position, row) in rows.iter().enumerate() {
        total_bits = total_bits.saturating_add(row.bit_len());
        if position > 0 && total_bits >= FETCH_BIT_CAP {
            break;
        }
        kept = position + 1;
    }
    rows.truncate(kept);

    // Step 7: `is_after_gap` needs the number before each surviving event.
    let mut wanted: HashMap<StreamId, Vec<SequenceNumber>> = HashMap::new();
    for row in &rows {
        if let Some(event) = &row.event {
            if let Some(before) = event.sequence_number.prev() {
                wanted.entry(event.stream).or_default().push(before);
            }
        }
    }
    let mut stored: HashMap<StreamId, HashSet<SequenceNumber>> = HashMap::new();
    for (stream, mut numbers) in wanted {
        numbers.sort_unstable();
        numbers.dedup();
        stored.insert(stream, source.stored_numbers(stream, &numbers)?);
    }
    let is_after_gap = |event: &Event| match event.sequence_number.prev() {
        None => false,
        Some(before) => !stored
            .get(&event.stream)
            .is_some_and(|numbers| numbers.contains(&before)),
    };

    // Step 8: assemble one response per sub-request, in request order.
    let mut by_request: Vec<Vec<Row>> = query.requests.iter().map(|_| Vec::new()).collect();
    for row in rows {
        if let Some(slot) = by_request.get_mut(row.request) {
            slot.push(row);
        }
    }
    let responses = query
        .requests
        .iter()
        .zip(by_request)
        .zip(active)
        .map(|((request, mut rows), is_active)| {
            let mut response = FetchResponse {
                request_uuid: request.request_uuid.clone(),
                stream: request.stream,
                events: Vec::new(),
                is_gap: false,
                is_end: !is_active,
            };
            if !is_active || rows.is_empty() {
                return response;
            }
            rows.sort_by_key(|row| row.event.as_ref().map(|e| e.sequence_number));
            let mut last_is_end = false;
            for row in rows {
                match row.event {
                    None => last_is_end = row.is_end,
                    Some(event) => {
                        if is_after_gap(&event) {
                            response.is_gap = true;
                            break;
                        }
                        last_is_end = row.is_end;
                        response.events.push(event);
                    }
                }
            }
            response.is_end = !response.is_gap && last_is_end;
            response
        })
        .collect();
    Ok(responses)
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
