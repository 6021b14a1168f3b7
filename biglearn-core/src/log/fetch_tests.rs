use std::collections::{BTreeSet, HashSet};

use uuid::Uuid;

use super::*;
use crate::ids::{CourseId, EventId};

fn course(n: u128) -> StreamId {
    StreamId::Course(CourseId::from_uuid(Uuid::from_u128(n)))
}

fn seq(n: u64) -> SequenceNumber {
    SequenceNumber::new(n).unwrap()
}

fn ev(stream: StreamId, number: u64, event_type: EventType) -> Event {
    Event {
        stream,
        sequence_number: seq(number),
        event_id: EventId::from_uuid(Uuid::from_u128(
            stream.uuid().as_u128() * 1000 + number as u128,
        )),
        event_type,
        data: EventData::from_json_text(format!(r#"{{"n":{number}}}"#)),
    }
}

/// A trivially correct source over a list of events; counts its queries.
#[derive(Default)]
struct VecSource {
    events: Vec<Event>,
    limits_seen: std::cell::RefCell<Vec<usize>>,
}

impl VecSource {
    fn with(events: Vec<Event>) -> Self {
        VecSource {
            events,
            ..Default::default()
        }
    }
}

impl FetchSource for VecSource {
    fn head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError> {
        let numbers: BTreeSet<u64> = self
            .events
            .iter()
            .filter(|e| e.stream == stream)
            .map(|e| e.sequence_number.get())
            .collect();
        let Some(max) = numbers.iter().max() else {
            return Ok(None);
        };
        let mut contiguous = None;
        while numbers.contains(&contiguous.map_or(0, |c: u64| c + 1)) {
            contiguous = Some(contiguous.map_or(0, |c| c + 1));
        }
        Ok(Some(StreamHead {
            high_water_mark: max + 1,
            contiguous_through: contiguous.map(seq),
        }))
    }

    fn events_from(
        &self,
        stream: StreamId,
        offset: SequenceNumber,
        types: &BTreeSet<EventType>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.limits_seen.borrow_mut().push(limit);
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

const R: EventType = EventType::RecordResponse;
const U: EventType = EventType::UpdateRoster;

fn request(id: &str, stream: StreamId, offset: u64, types: &[EventType]) -> FetchRequest {
    FetchRequest {
        request_uuid: id.to_owned(),
        stream,
        sequence_number_offset: seq(offset),
        event_types: types.iter().copied().collect(),
    }
}

fn fetch(source: &VecSource, requests: Vec<FetchRequest>, max: u32) -> Vec<FetchResponse> {
    fetch_events(
        &FetchQuery {
            requests,
            max_num_events: max,
        },
        source,
    )
    .unwrap()
}

fn numbers(response: &FetchResponse) -> Vec<u64> {
    response
        .events
        .iter()
        .map(|e| e.sequence_number.get())
        .collect()
}

fn flags(response: &FetchResponse) -> (Vec<u64>, bool, bool) {
    (numbers(response), response.is_gap, response.is_end)
}

fn run(stream: StreamId, numbers: &[u64]) -> Vec<Event> {
    numbers.iter().map(|n| ev(stream, *n, R)).collect()
}

#[test]
fn empty_request_list_gives_empty_answer() {
    assert!(fetch(&VecSource::default(), vec![], 10).is_empty());
}

#[test]
fn unknown_stream_is_inactive_and_at_end() {
    let source = VecSource::with(run(course(1), &[0, 1]));
    let got = fetch(&source, vec![request("a", course(2), 0, &[R])], 10);
    assert_eq!(got[0].request_uuid, "a");
    assert_eq!(got[0].stream, course(2));
    assert_eq!(flags(&got[0]), (vec![], false, true));
}

#[test]
fn offset_at_or_past_high_water_mark_is_inactive() {
    let source = VecSource::with(run(course(1), &[0, 1, 2]));
    assert_eq!(
        flags(&fetch(&source, vec![request("a", course(1), 3, &[R])], 10)[0]),
        (vec![], false, true)
    );
    assert_eq!(
        flags(&fetch(&source, vec![request("a", course(1), 9, &[R])], 10)[0]),
        (vec![], false, true)
    );
}

#[test]
fn caught_up_with_inclusive_offset() {
    let source = VecSource::with(run(course(1), &[0, 1, 2, 3]));
    let got = fetch(&source, vec![request("a", course(1), 2, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![2, 3], false, true));
    assert_eq!(got[0].events[0], ev(course(1), 2, R));
}

#[test]
fn type_filter_and_placeholder_row() {
    let mut events = run(course(1), &[0, 2]);
    events.push(ev(course(1), 1, U));
    events.push(ev(course(1), 3, U));
    let source = VecSource::with(events);
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![0, 2], false, true));
    // Active (high-water mark 4 > 3), but nothing of the requested type: placeholder.
    let got = fetch(&source, vec![request("a", course(1), 3, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![], false, true));
}

#[test]
fn truncated_by_call_wide_cap() {
    let source = VecSource::with(run(course(1), &[0, 1, 2, 3, 4]));
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 3);
    assert_eq!(flags(&got[0]), (vec![0, 1, 2], false, false));
    // Exactly the cap: is_end still decided correctly.
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 5);
    assert_eq!(flags(&got[0]), (vec![0, 1, 2, 3, 4], false, true));
    assert_eq!(*source.limits_seen.borrow(), vec![4, 6]);
}

#[test]
fn starved_sub_request_is_neither_gap_nor_end() {
    let mut events = run(course(1), &[0, 1, 2]);
    events.extend(run(course(2), &[5, 6]));
    let source = VecSource::with(events);
    // Distances: course 1 rows 0,1,2; course 2 rows 0,1 — max 1 keeps only the first request's.
    let got = fetch(
        &source,
        vec![
            request("a", course(1), 0, &[R]),
            request("b", course(2), 5, &[R]),
        ],
        1,
    );
    assert_eq!(flags(&got[0]), (vec![0], false, false));
    assert_eq!(flags(&got[1]), (vec![], false, false));
}

#[test]
fn fair_order_by_distance_across_streams() {
    let mut events = run(course(1), &[0, 1, 2, 3, 4, 5]);
    events.extend(run(course(2), &[10, 11, 12]));
    events.extend((0..10).map(|n| ev(course(2), n, U)));
    events.extend(run(course(3), &[0]));
    let source = VecSource::with(events);
    let got = fetch(
        &source,
        vec![
            request("a", course(1), 0, &[R]),
            request("b", course(2), 10, &[R]),
            request("c", course(3), 0, &[R]),
        ],
        5,
    );
    // Order: a0 b10 c0 | a1 b11 | a2 ... → the first five rows.
    assert_eq!(flags(&got[0]), (vec![0, 1], false, false));
    assert_eq!(flags(&got[1]), (vec![10, 11], false, false));
    assert_eq!(flags(&got[2]), (vec![0], false, true));
}

#[test]
fn placeholders_come_first_and_count_against_the_cap() {
    let mut events = run(course(1), &[0, 1]);
    events.push(ev(course(2), 0, U));
    let source = VecSource::with(events);
    let got = fetch(
        &source,
        vec![
            request("a", course(1), 0, &[R]),
            request("b", course(2), 0, &[R]),
        ],
        1,
    );
    // The placeholder of b takes the only row: a starves.
    assert_eq!(flags(&got[0]), (vec![], false, false));
    assert_eq!(flags(&got[1]), (vec![], false, true));
}

#[test]
fn stops_at_gap() {
    let source = VecSource::with(run(course(1), &[0, 1, 2, 4, 5]));
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![0, 1, 2], true, false));
}

#[test]
fn offset_at_missing_number_reports_gap_without_events() {
    let source = VecSource::with(run(course(1), &[0, 1, 2, 4, 5]));
    let got = fetch(&source, vec![request("a", course(1), 3, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![], true, false));
    // An offset right after the missing number sees it too (the number
    // before the first candidate is checked like any other).
    let got = fetch(&source, vec![request("a", course(1), 4, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![], true, false));
    let got = fetch(&source, vec![request("a", course(1), 5, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![5], false, true));
}

#[test]
fn gap_before_zero_is_not_a_gap_but_missing_zero_is() {
    let source = VecSource::with(run(course(1), &[1, 2]));
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![], true, false));
}

#[test]
fn gap_checks_any_type_before_each_event() {
    // 0:R 1:U 3:R — the number before 3 is missing → gap after 0 (1 is not requested).
    let source = VecSource::with(vec![
        ev(course(1), 0, R),
        ev(course(1), 1, U),
        ev(course(1), 3, R),
    ]);
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![0], true, false));
}

#[test]
fn gap_followed_by_unrequested_type_goes_unnoticed() {
    // 0:R, 1 missing, 2:U, 3:R — 3's predecessor 2 exists, so no gap is seen (§4.7 subtlety).
    let source = VecSource::with(vec![
        ev(course(1), 0, R),
        ev(course(1), 2, U),
        ev(course(1), 3, R),
    ]);
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![0, 3], false, true));
}

#[test]
fn gap_is_reported_even_when_cap_cuts_before_it() {
    let source = VecSource::with(run(course(1), &[0, 1, 3]));
    // The cap keeps rows 0 and 1 only: no gap visible yet, not the end.
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 2);
    assert_eq!(flags(&got[0]), (vec![0, 1], false, false));
}

fn big(stream: StreamId, number: u64, bytes: usize) -> Event {
    Event {
        data: EventData::from_json_text(format!(r#"{{"pad":"{}"}}"#, "x".repeat(bytes))),
        ..ev(stream, number, R)
    }
}

#[test]
fn oversized_first_row_is_kept_alone() {
    let per = (FETCH_BIT_CAP / 8) as usize; // one event alone exceeds the cap
    let source = VecSource::with(vec![big(course(1), 0, per), ev(course(1), 1, R)]);
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![0], false, false));
}

#[test]
fn byte_cap_cuts_the_running_total() {
    let quarter = (FETCH_BIT_CAP / 8 / 4) as usize; // just over a quarter with the JSON wrapper
    let events = vec![
        big(course(1), 0, quarter),
        big(course(1), 1, quarter),
        big(course(1), 2, quarter),
        big(course(1), 3, quarter),
        ev(course(1), 4, R),
    ];
    let source = VecSource::with(events);
    let got = fetch(&source, vec![request("a", course(1), 0, &[R])], 10);
    assert_eq!(flags(&got[0]), (vec![0, 1, 2], false, false));
    // Small events after the cut are dropped too: survivors are a prefix.
    let mut events = vec![
        big(course(1), 0, quarter * 3),
        big(course(1), 1, quarter * 2),
    ];
    events.extend(run(course(2), &[0]));
    let source = VecSource::with(events);
    let got = fetch(
        &source,
        vec![
            request("a", course(1), 0, &[R]),
            request("b", course(2), 0, &[R]),
        ],
        10,
    );
    // Order: a0 b0 a1 — a1 pushes the total over the cap.
    assert_eq!(flags(&got[0]), (vec![0], false, false));
    assert_eq!(flags(&got[1]), (vec![0], false, true));
}

#[test]
fn responses_follow_request_order_and_echo_uuids() {
    let source = VecSource::with(run(course(1), &[0]));
    let got = fetch(
        &source,
        vec![
            request("Z-Upper", course(9), 0, &[R]),
            request("a", course(1), 0, &[R]),
        ],
        10,
    );
    assert_eq!(
        got.iter()
            .map(|r| r.request_uuid.as_str())
            .collect::<Vec<_>>(),
        vec!["Z-Upper", "a"]
    );
    assert_eq!(flags(&got[1]), (vec![0], false, true));
}

#[test]
fn two_sub_requests_on_one_stream_are_independent() {
    let source = VecSource::with(run(course(1), &[0, 1, 2]));
    let got = fetch(
        &source,
        vec![
            request("a", course(1), 0, &[R]),
            request("b", course(1), 2, &[R]),
        ],
        10,
    );
    assert_eq!(flags(&got[0]), (vec![0, 1, 2], false, true));
    assert_eq!(flags(&got[1]), (vec![2], false, true));
}

/// §4.7 by brute force: every candidate row without a limit, flags computed
/// from the full event list.
fn naive_fetch(events: &[Event], query: &FetchQuery) -> Vec<FetchResponse> {
    struct NaiveRow {
        request: usize,
        event: Option<Event>,
        distance: u64,
    }
    let mut rows = Vec::new();
    let mut active = Vec::new();
    for (index, r) in query.requests.iter().enumerate() {
        let in_stream: Vec<&Event> = events.iter().filter(|e| e.stream == r.stream).collect();
        let hwm = in_stream.iter().map(|e| e.sequence_number.get() + 1).max();
        let is_active = hwm.is_some_and(|h| h > r.sequence_number_offset.get());
        active.push(is_active);
        if !is_active {
            continue;
        }
        let mut candidates: Vec<&Event> = in_stream
            .into_iter()
            .filter(|e| {
                e.sequence_number >= r.sequence_number_offset
                    && r.event_types.contains(&e.event_type)
            })
            .collect();
        candidates.sort_by_key(|e| e.sequence_number);
        if candidates.is_empty() {
            rows.push(NaiveRow {
                request: index,
                event: None,
                distance: 0,
            });
        }
        for e in candidates {
            rows.push(NaiveRow {
                request: index,
                distance: e.sequence_number.get() - r.sequence_number_offset.get(),
                event: Some(e.clone()),
            });
        }
    }
    rows.sort_by_key(|r| (r.event.is_some(), r.distance, r.request));
    rows.truncate(query.max_num_events as usize);
    let mut total = 0;
    let mut kept = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        total += row.event.as_ref().map_or(0, |e| e.data.bit_len());
        if i > 0 && total >= FETCH_BIT_CAP {
            break;
        }
        kept.push(row);
    }
    let stored = |stream: StreamId, n: u64| {
        events
            .iter()
            .any(|e| e.stream == stream && e.sequence_number.get() == n)
    };
    query
        .requests
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let mut response = FetchResponse {
                request_uuid: r.request_uuid.clone(),
                stream: r.stream,
                events: vec![],
                is_gap: false,
                is_end: !active[index],
            };
            let mut mine: Vec<&NaiveRow> = kept.iter().filter(|row| row.request == index).collect();
            if !active[index] || mine.is_empty() {
                return response;
            }
            mine.sort_by_key(|row| row.distance);
            let mut last_end = false;
            for row in mine {
                let Some(e) = &row.event else {
                    last_end = true;
                    continue;
                };
                let n = e.sequence_number.get();
                if n > 0 && !stored(r.stream, n - 1) {
                    response.is_gap = true;
                    break;
                }
                last_end = !events.iter().any(|x| {
                    x.stream == r.stream
                        && x.sequence_number.get() > n
                        && r.event_types.contains(&x.event_type)
                });
                response.events.push(e.clone());
            }
            response.is_end = !response.is_gap && last_end;
            response
        })
        .collect()
}

mod against_naive {
    use proptest::prelude::*;

    use super::*;

    fn arb_events() -> impl Strategy<Value = Vec<Event>> {
        prop::collection::btree_map((1u128..4, 0u64..12), (any::<bool>(), 0usize..3), 0..30)
            .prop_map(|cells| {
                cells
                    .into_iter()
                    .map(|((c, n), (roster, big))| {
                        let mut e = ev(course(c), n, if roster { U } else { R });
                        if big == 2 {
                            e.data = EventData::from_json_text(format!(
                                r#"{{"pad":"{}"}}"#,
                                "x".repeat(1_500_000)
                            ));
                        }
                        e
                    })
                    .collect()
            })
    }

    fn arb_query() -> impl Strategy<Value = FetchQuery> {
        let one = (1u128..5, 0u64..13, 0usize..3).prop_map(|(c, offset, t)| {
            let types: &[EventType] = [&[R][..], &[U][..], &[R, U][..]][t];
            request(&format!("q{c}-{offset}-{t}"), course(c), offset, types)
        });
        (prop::collection::vec(one, 0..5), 0u32..15).prop_map(|(requests, max_num_events)| {
            FetchQuery {
                requests,
                max_num_events,
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn matches_the_brute_force_reading_of_the_spec(events in arb_events(), query in arb_query()) {
            let source = VecSource::with(events.clone());
            let got = fetch_events(&query, &source).unwrap();
            prop_assert_eq!(got, naive_fetch(&events, &query));
        }
    }
}
