// The event-log queries, written once and compiled once per backend.
//
// `sqlite.rs` and `postgres.rs` each include this file inside a private
// `queries` module that defines `Conn` (the diesel connection type) and
// `BACKEND` (its name for errors), and `bundles.rs` in its child module
// `bundles`. diesel's query DSL is typed per backend, and
// generic bounds covering both backends would drown every query in trait
// bounds; compiling the same text twice keeps a single copy of each query.
//
// Every function runs inside a transaction the caller opened and issues bulk
// statements: one statement per kind of lookup, chunked below the bound
// parameter limits, never one round trip per event.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use biglearn_core::ids::EventId;
use biglearn_core::log::append::number_after;
use biglearn_core::log::bundle::open_gap;
use biglearn_core::ids::CourseId;
use biglearn_core::log::{
    introduced_ids, AppendPlan, AppendRequest, AppendSnapshot, Event, EventType, FetchSource,
    IdKind, IdOwners, IdQuery, OpenGap, SequenceNumber, StoreError, StreamHead, StreamId,
    StreamKind, StreamMetadata,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::error::TxError;
use crate::fixed_sql::{in_list, in_pieces};
use crate::rows::{
    head_from_parts, kind_code, kind_from_code, seq_from_i64, u64_from_i64, uuid_from_bytes,
    EventRow, MetadataRow, NewHeadRow,
};
use crate::schema::{events, id_owners, streams};

/// Most bound parameters per statement: below SQLite's default limit of
/// 32,766 (PostgreSQL allows 65,535).
const MAX_PARAMS: usize = 30_000;

diesel::define_sql_function! {
    /// `COALESCE(x, y)` for a nullable `BIGINT` and a fallback.
    #[sql_name = "COALESCE"]
    fn coalesce_bigint(x: diesel::sql_types::Nullable<diesel::sql_types::BigInt>, y: diesel::sql_types::BigInt) -> diesel::sql_types::BigInt;
}

/// Now, in microseconds since the Unix epoch (0 if the clock is before it).
fn unix_micros_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The 16 bytes of a uuid, owned (a bind value).
fn bytes(uuid: Uuid) -> Vec<u8> {
    uuid.as_bytes().to_vec()
}

/// A count or limit as a `BIGINT` bind value, saturating.
fn as_i64(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Stream kinds that get a metadata number if the group's create events are
/// stored: these need the next free number (and, on PostgreSQL, the kind's
/// lock).
pub(crate) fn create_kinds(group: &[AppendRequest]) -> BTreeSet<StreamKind> {
    group
        .iter()
        .flat_map(|request| request.events.iter())
        .filter(|event| event.event_type.is_create())
        .map(|event| event.stream.kind())
        .collect()
}

/// Loads everything `group` could collide with (see [`AppendSnapshot`]).
///
/// Heads come first: a position at or above its stream's high-water mark
/// cannot be stored, so only positions below it (in practice: replays, whose
/// positions the uuid lookup already answers, and conflicts) are looked up.
/// An in-order append of new events thus reads with two kinds of
/// fixed-shape, cached statements (heads, events by uuid) and nothing else.
pub(crate) fn load_snapshot(
    conn: &mut Conn,
    group: &[AppendRequest],
) -> Result<AppendSnapshot, TxError> {
    let keys = AppendSnapshot::keys_of(group);
    let mut snapshot = AppendSnapshot {
        heads: load_heads(conn, &keys.streams)?,
        ..AppendSnapshot::default()
    };

    let ids: Vec<&[u8]> = keys
        .event_ids
        .iter()
        .map(|id| id.as_uuid().as_bytes().as_slice())
        .collect();
    for piece in in_pieces(&ids) {
        let rows: Vec<EventRow> = events::table
            .filter(in_list(events::event_uuid, piece))
            .select(EventRow::as_select())
            .load(conn)?;
        for row in rows {
            let event = row.into_event()?;
            snapshot.events_by_id.insert(event.event_id, event);
        }
    }

    // A stored event found by uuid holds its own position (the primary key
    // admits one event per position), so positions named by such events
    // (replays) are known without a lookup.
    let mut numbers_by_stream: BTreeMap<StreamId, Vec<i64>> = BTreeMap::new();
    let mut to_look_up: BTreeMap<StreamId, Vec<i64>> = BTreeMap::new();
    let known: HashMap<(StreamId, SequenceNumber), EventId> = snapshot
        .events_by_id
        .values()
        .map(|event| ((event.stream, event.sequence_number), event.event_id))
        .collect();
    for position in &keys.positions {
        let (stream, number) = *position;
        numbers_by_stream
            .entry(stream)
            .or_default()
            .push(number.as_i64());
        if let Some(event_id) = known.get(position) {
            snapshot.ids_by_position.insert(*position, *event_id);
            continue;
        }
        let below_head = snapshot
            .heads
            .get(&stream)
            .is_some_and(|head| number.get() < head.high_water_mark);
        if below_head {
            to_look_up.entry(stream).or_default().push(number.as_i64());
        }
    }
    load_positions(conn, &to_look_up, &mut snapshot)?;

    // Numbers above the contiguous head matter only where the group names
    // the missing number and something is stored beyond it (a gap): in the
    // common in-order case no query runs at all.
    let gapped: Vec<(StreamId, Option<SequenceNumber>)> = keys
        .streams
        .iter()
        .filter_map(|stream| {
            let head = snapshot.heads.get(stream)?;
            let missing = number_after(head.contiguous_through)?;
            let named = numbers_by_stream
                .get(stream)
                .is_some_and(|numbers| numbers.contains(&missing.as_i64()));
            (named && head.high_water_mark > missing.get())
                .then_some((*stream, head.contiguous_through))
        })
        .collect();
    load_above_contiguous(conn, &gapped, &mut snapshot)?;

    for kind in create_kinds(group) {
        let max: Option<i64> = streams::table
            .filter(streams::stream_kind.eq(kind_code(kind)))
            .select(diesel::dsl::max(streams::metadata_sequence_number))
            .first(conn)?;
        let next = match max {
            None => 0,
            Some(max) => u64_from_i64(max, "streams.metadata_sequence_number")? + 1,
        };
        snapshot.next_metadata_number.insert(kind, next);
    }
    Ok(snapshot)
}

/// The heads of `streams` that exist.
fn load_heads(
    conn: &mut Conn,
    stream_ids: &[StreamId],
) -> Result<HashMap<StreamId, StreamHead>, TxError> {
    let mut heads = HashMap::with_capacity(stream_ids.len());
    for kind in [StreamKind::Course, StreamKind::Ecosystem] {
        let uuids: Vec<Uuid> = stream_ids
            .iter()
            .filter(|stream| stream.kind() == kind)
            .map(|stream| stream.uuid())
            .collect();
        let uuids: Vec<&[u8]> = uuids.iter().map(|u| u.as_bytes().as_slice()).collect();
        for piece in in_pieces(&uuids) {
            let rows: Vec<(Vec<u8>, i64, Option<i64>)> = streams::table
                .filter(streams::stream_kind.eq(kind_code(kind)))
                .filter(in_list(streams::stream_uuid, piece))
                .select((
                    streams::stream_uuid,
                    streams::high_water_mark,
                    streams::contiguous_through,
                ))
                .load(conn)?;
            for (uuid, high_water_mark, contiguous_through) in rows {
                let stream =
                    StreamId::from_parts(kind, uuid_from_bytes(&uuid, "streams.stream_uuid")?);
                heads.insert(
                    stream,
                    head_from_parts(high_water_mark, contiguous_through)?,
                );
            }
        }
    }
    Ok(heads)
}

/// Fills `stored_above_contiguous` for `gapped` streams (with their
/// contiguous heads) in one statement per chunk.
fn load_above_contiguous(
    conn: &mut Conn,
    gapped: &[(StreamId, Option<SequenceNumber>)],
    snapshot: &mut AppendSnapshot,
) -> Result<(), TxError> {
    for chunk in gapped.chunks(MAX_PARAMS / 3) {
        let mut query = events::table
            .select((
                events::stream_kind,
                events::stream_uuid,
                events::sequence_number,
            ))
            .order((
                events::stream_kind,
                events::stream_uuid,
                events::sequence_number,
            ))
            .into_boxed();
        for (stream, contiguous_through) in chunk {
            let floor = contiguous_through.map_or(-1, |c| c.as_i64());
            query = query.or_filter(
                events::stream_kind
                    .eq(kind_code(stream.kind()))
                    .and(events::stream_uuid.eq(bytes(stream.uuid())))
                    .and(events::sequence_number.gt(floor)),
            );
        }
        let rows: Vec<(i16, Vec<u8>, i64)> = query.load(conn)?;
        for (kind, uuid, number) in rows {
            let stream = StreamId::from_parts(
                kind_from_code(kind, "events")?,
                uuid_from_bytes(&uuid, "events.stream_uuid")?,
            );
            snapshot
                .stored_above_contiguous
                .entry(stream)
                .or_default()
                .push(seq_from_i64(number, "events.sequence_number")?);
        }
    }
    Ok(())
}

/// Writes a plan: the new events (in plan order, which is the insertion
/// order), the ids they introduce (the id registry, first owner kept), the
/// heads, and the metadata numbers of created streams, with the backend's
/// bulk statements (`insert_events`, `upsert_heads`). Event rows are only
/// ever inserted (O2). A plan holds only events that were not stored yet,
/// so a replay writes no registry row either.
///
/// A head left blocked by a gap keeps the `gap_seen_at` of the append that
/// first blocked it (`COALESCE` with the stored value) or gets now; an
/// unblocked head clears it (O3).
pub(crate) fn write_plan(conn: &mut Conn, plan: &AppendPlan) -> Result<(), TxError> {
    insert_events(conn, &plan.inserts)?;
    insert_id_owners(conn, &plan.inserts)?;
    let now = unix_micros_now();
    let heads: Vec<NewHeadRow> = plan
        .heads
        .iter()
        .map(|(stream, head)| NewHeadRow::new(*stream, head, now))
        .collect();
    upsert_heads(conn, heads)?;

    for assignment in &plan.metadata {
        let number = i64::try_from(assignment.metadata_sequence_number).map_err(|_| {
            StoreError::Corrupt(format!(
                "metadata sequence number {} of {} exceeds BIGINT",
                assignment.metadata_sequence_number, assignment.stream
            ))
        })?;
        let stream = assignment.stream;
        diesel::update(streams::table.find((kind_code(stream.kind()), bytes(stream.uuid()))))
            .set((
                streams::metadata_sequence_number.eq(Some(number)),
                streams::initial_ecosystem_uuid
                    .eq(assignment.initial_ecosystem.map(|e| bytes(*e.as_uuid()))),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The head of one stream.
pub(crate) fn stream_head(
    conn: &mut Conn,
    stream: StreamId,
) -> Result<Option<StreamHead>, TxError> {
    let row: Option<(i64, Option<i64>)> = streams::table
        .find((kind_code(stream.kind()), bytes(stream.uuid())))
        .select((streams::high_water_mark, streams::contiguous_through))
        .first(conn)
        .optional()?;
    Ok(row
        .map(|(high_water_mark, contiguous_through)| {
            head_from_parts(high_water_mark, contiguous_through)
        })
        .transpose()?)
}

/// A stored event by uuid.
pub(crate) fn event_by_id(conn: &mut Conn, event_id: EventId) -> Result<Option<Event>, TxError> {
    let row: Option<EventRow> = events::table
        .filter(events::event_uuid.eq(bytes(*event_id.as_uuid())))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(EventRow::into_event).transpose()?)
}

/// Stored events of one stream with numbers in `from..=through` whose type
/// is in `types` (all types when `None`), ascending, at most `limit`.
fn events_in_range(
    conn: &mut Conn,
    stream: StreamId,
    from: SequenceNumber,
    through: Option<SequenceNumber>,
    types: Option<&BTreeSet<EventType>>,
    limit: usize,
) -> Result<Vec<Event>, TxError> {
    let mut query = events::table
        .filter(events::stream_kind.eq(kind_code(stream.kind())))
        .filter(events::stream_uuid.eq(bytes(stream.uuid())))
        .filter(events::sequence_number.ge(from.as_i64()))
        .select(EventRow::as_select())
        .order(events::sequence_number)
        .limit(as_i64(limit))
        .into_boxed();
    if let Some(through) = through {
        query = query.filter(events::sequence_number.le(through.as_i64()));
    }
    if let Some(types) = types {
        let codes: Vec<i16> = types.iter().map(EventType::code).collect();
        query = query.filter(events::event_type.eq_any(codes));
    }
    let rows: Vec<EventRow> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(EventRow::into_event)
        .collect::<Result<_, _>>()?)
}

/// The primitive reads of the fetch algorithm over one connection that is
/// inside a read transaction (one consistent snapshot).
pub(crate) struct Source<'c> {
    conn: RefCell<&'c mut Conn>,
}

impl<'c> Source<'c> {
    /// Wraps a connection inside a read transaction.
    pub(crate) fn new(conn: &'c mut Conn) -> Self {
        Source {
            conn: RefCell::new(conn),
        }
    }
}

impl FetchSource for Source<'_> {
    fn head(&self, stream: StreamId) -> Result<Option<StreamHead>, StoreError> {
        let mut conn = self.conn.borrow_mut();
        stream_head(&mut conn, stream).map_err(|e| e.into_store(BACKEND, "fetching a stream head"))
    }

    fn events_from(
        &self,
        stream: StreamId,
        offset: SequenceNumber,
        types: &BTreeSet<EventType>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let mut conn = self.conn.borrow_mut();
        events_in_range(&mut conn, stream, offset, None, Some(types), limit)
            .map_err(|e| e.into_store(BACKEND, "fetching events"))
    }

    fn stored_numbers(
        &self,
        stream: StreamId,
        numbers: &[SequenceNumber],
    ) -> Result<HashSet<SequenceNumber>, StoreError> {
        let mut conn = self.conn.borrow_mut();
        let mut found = HashSet::new();
        for chunk in numbers.chunks(MAX_PARAMS) {
            let wanted: Vec<i64> = chunk.iter().map(|n| n.as_i64()).collect();
            let rows: Vec<i64> = events::table
                .filter(events::stream_kind.eq(kind_code(stream.kind())))
                .filter(events::stream_uuid.eq(bytes(stream.uuid())))
                .filter(events::sequence_number.eq_any(wanted))
                .select(events::sequence_number)
                .load(&mut **conn)
                .map_err(|e| TxError::from(e).into_store(BACKEND, "checking stored numbers"))?;
            for number in rows {
                found.insert(seq_from_i64(number, "events.sequence_number")?);
            }
        }
        Ok(found)
    }
}

/// Created streams of `kind` with metadata number ≥ `offset`, ascending.
pub(crate) fn fetch_metadatas(
    conn: &mut Conn,
    kind: StreamKind,
    offset: u64,
    max: u32,
) -> Result<Vec<StreamMetadata>, TxError> {
    let rows: Vec<MetadataRow> = streams::table
        .filter(streams::stream_kind.eq(kind_code(kind)))
        .filter(streams::metadata_sequence_number.ge(i64::try_from(offset).unwrap_or(i64::MAX)))
        .order(streams::metadata_sequence_number)
        .limit(i64::from(max))
        .select(MetadataRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(MetadataRow::into_metadata)
        .collect::<Result<_, _>>()?)
}

/// A gapped stream as `open_gaps` reads it: kind, uuid, high-water mark,
/// contiguous head and `gap_seen_at`.
type GapRow = (i16, Vec<u8>, i64, Option<i64>, Option<i64>);

/// Streams with a stored number beyond their first missing one (O3),
/// ordered by stream, at most `max`.
pub(crate) fn open_gaps(conn: &mut Conn, max: usize) -> Result<Vec<OpenGap>, TxError> {
    let rows: Vec<GapRow> = streams::table
        .filter(streams::high_water_mark.gt(coalesce_bigint(streams::contiguous_through, -1) + 1))
        .order((streams::stream_kind, streams::stream_uuid))
        .limit(as_i64(max))
        .select((
            streams::stream_kind,
            streams::stream_uuid,
            streams::high_water_mark,
            streams::contiguous_through,
            streams::gap_seen_at,
        ))
        .load(conn)?;
    let mut gaps = Vec::with_capacity(rows.len());
    for (kind, uuid, high_water_mark, contiguous_through, gap_seen_at) in rows {
        let stream = StreamId::from_parts(
            kind_from_code(kind, "streams")?,
            uuid_from_bytes(&uuid, "streams.stream_uuid")?,
        );
        let head = head_from_parts(high_water_mark, contiguous_through)?;
        let stored: i64 = events::table
            .filter(events::stream_kind.eq(kind))
            .filter(events::stream_uuid.eq(&uuid))
            .count()
            .get_result(conn)?;
        if let Some(gap) = open_gap(stream, head, u64_from_i64(stored, "count(events)")?) {
            gaps.push(OpenGap {
                first_seen_unix_micros: gap_seen_at,
                ..gap
            });
        }
    }
    Ok(gaps)
}

/// Registers the ids `events` introduce (`introduced_ids`), in event order:
/// an id already registered, or named twice here, keeps its first owner
/// (`ON CONFLICT DO NOTHING`). Only roster, assignment and create_ecosystem
/// events carry ids, so an append of responses runs no statement.
fn insert_id_owners(conn: &mut Conn, events: &[Event]) -> Result<(), TxError> {
    let mut seen: HashSet<(IdKind, Uuid)> = HashSet::new();
    let mut rows: Vec<(i16, Vec<u8>, Vec<u8>)> = Vec::new();
    for event in events {
        for entry in introduced_ids(event) {
            if seen.insert((entry.kind, entry.id)) {
                rows.push((entry.kind.code(), bytes(entry.id), bytes(entry.owner)));
            }
        }
    }
    for chunk in rows.chunks(MAX_PARAMS / 3) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(kind, id, owner)| {
                (
                    id_owners::id_kind.eq(*kind),
                    id_owners::id_uuid.eq(id.as_slice()),
                    id_owners::owner_uuid.eq(owner.as_slice()),
                )
            })
            .collect();
        diesel::insert_into(id_owners::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// The owners of the registered ids among `query`: one statement per kind
/// and piece of ids.
pub(crate) fn id_owners_of(conn: &mut Conn, query: &IdQuery) -> Result<IdOwners, TxError> {
    let mut owners = IdOwners::default();
    let mut by_kind: BTreeMap<IdKind, Vec<Uuid>> = BTreeMap::new();
    for (kind, id) in query.keys() {
        by_kind.entry(kind).or_default().push(id);
    }
    for (kind, ids) in by_kind {
        let ids: Vec<&[u8]> = ids.iter().map(|u| u.as_bytes().as_slice()).collect();
        for piece in in_pieces(&ids) {
            let rows: Vec<(Vec<u8>, Vec<u8>)> = id_owners::table
                .filter(id_owners::id_kind.eq(kind.code()))
                .filter(in_list(id_owners::id_uuid, piece))
                .select((id_owners::id_uuid, id_owners::owner_uuid))
                .load(conn)?;
            for (id, owner) in rows {
                owners.insert(
                    kind,
                    uuid_from_bytes(&id, "id_owners.id_uuid")?,
                    uuid_from_bytes(&owner, "id_owners.owner_uuid")?,
                );
            }
        }
    }
    Ok(owners)
}

/// Courses with a stream head (at least one stored event), ascending by
/// uuid, after `after`, at most `max`.
pub(crate) fn known_courses(
    conn: &mut Conn,
    after: Option<CourseId>,
    max: usize,
) -> Result<Vec<CourseId>, TxError> {
    let mut query = streams::table
        .filter(streams::stream_kind.eq(kind_code(StreamKind::Course)))
        .order(streams::stream_uuid)
        .limit(as_i64(max))
        .select(streams::stream_uuid)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(streams::stream_uuid.gt(bytes(*after.as_uuid())));
    }
    let rows: Vec<Vec<u8>> = query.load(conn)?;
    Ok(rows
        .iter()
        .map(|uuid| uuid_from_bytes(uuid, "streams.stream_uuid").map(CourseId::from_uuid))
        .collect::<Result<_, _>>()?)
}
