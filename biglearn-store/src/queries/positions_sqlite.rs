// The SQLite versions of the backend-specific append statements, included
// next to `log.rs` (see there): the position lookup of an append snapshot as
// one statement per chunk with an `OR` of `(stream AND number IN (...))` per
// stream, and the bulk writes as multi-row statements in fixed-size chunks
// (`fixed_chunks!`), so that each is prepared once per connection.

use crate::fixed_sql::fixed_chunks;
use crate::rows::NewEventRow;

/// Inserts `events` in order.
fn insert_events(conn: &mut Conn, events: &[Event]) -> Result<(), TxError> {
    let rows: Vec<NewEventRow> = events.iter().map(NewEventRow::from_event).collect();
    fixed_chunks!(rows, |chunk| diesel::insert_into(events::table)
        .values(chunk)
        .execute(conn)?);
    Ok(())
}

/// Upserts the heads in cached fixed-size chunks; a blocked head keeps an
/// older stored `gap_seen_at`, an unblocked one clears it.
fn upsert_heads(conn: &mut Conn, heads: Vec<NewHeadRow>) -> Result<(), TxError> {
    fixed_chunks!(heads, |chunk| UpsertHeads { rows: chunk }.execute(conn)?);
    Ok(())
}

/// The heads upsert for exactly `N` rows. diesel never caches an `ON
/// CONFLICT … DO UPDATE` statement it builds, so this one is written out:
/// its text depends only on `N`, and its static query id lets the statement
/// cache keep it prepared.
struct UpsertHeads<'a, const N: usize> {
    rows: &'a [NewHeadRow; N],
}

impl<const N: usize> diesel::query_builder::QueryId for UpsertHeads<'_, N> {
    type QueryId = UpsertHeads<'static, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const N: usize> diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite>
    for UpsertHeads<'_, N>
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{BigInt, Binary, Nullable, SmallInt};

        out.push_sql(
            "INSERT INTO streams (stream_kind, stream_uuid, high_water_mark, \
             contiguous_through, gap_seen_at) VALUES ",
        );
        for (i, row) in self.rows.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            out.push_bind_param::<SmallInt, _>(&row.stream_kind)?;
            out.push_sql(", ");
            out.push_bind_param::<Binary, _>(&row.stream_uuid)?;
            out.push_sql(", ");
            out.push_bind_param::<BigInt, _>(&row.high_water_mark)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<BigInt>, _>(&row.contiguous_through)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<BigInt>, _>(&row.gap_seen_at)?;
            out.push_sql(")");
        }
        out.push_sql(
            " ON CONFLICT (stream_kind, stream_uuid) DO UPDATE SET \
             high_water_mark = excluded.high_water_mark, \
             contiguous_through = excluded.contiguous_through, \
             gap_seen_at = CASE WHEN excluded.gap_seen_at IS NULL THEN NULL \
             ELSE COALESCE(streams.gap_seen_at, excluded.gap_seen_at) END",
        );
        Ok(())
    }
}

impl<const N: usize> RunQueryDsl<Conn> for UpsertHeads<'_, N> {}

/// Sequence numbers per stream in one `IN (...)` list.
const NUMBERS_PER_PIECE: usize = 1_000;

/// Fills `ids_by_position` for every (stream, number) the group names: one
/// statement with an `OR` of `(stream AND number IN (...))` per stream,
/// split when it would bind too many parameters.
fn load_positions(
    conn: &mut Conn,
    numbers_by_stream: &BTreeMap<StreamId, Vec<i64>>,
    snapshot: &mut AppendSnapshot,
) -> Result<(), TxError> {
    let pieces: Vec<(StreamId, &[i64])> = numbers_by_stream
        .iter()
        .flat_map(|(stream, numbers)| {
            numbers
                .chunks(NUMBERS_PER_PIECE)
                .map(move |piece| (*stream, piece))
        })
        .collect();
    let mut start = 0;
    while start < pieces.len() {
        let mut end = start;
        let mut params = 0;
        while end < pieces.len() && (end == start || params + pieces[end].1.len() + 2 <= MAX_PARAMS)
        {
            params += pieces[end].1.len() + 2;
            end += 1;
        }
        let mut query = events::table
            .select((
                events::stream_kind,
                events::stream_uuid,
                events::sequence_number,
                events::event_uuid,
            ))
            .into_boxed();
        for (stream, numbers) in &pieces[start..end] {
            query = query.or_filter(
                events::stream_kind
                    .eq(kind_code(stream.kind()))
                    .and(events::stream_uuid.eq(bytes(stream.uuid())))
                    .and(events::sequence_number.eq_any(numbers.to_vec())),
            );
        }
        let rows: Vec<(i16, Vec<u8>, i64, Vec<u8>)> = query.load(conn)?;
        for (kind, stream_uuid, number, event_uuid) in rows {
            let stream = StreamId::from_parts(
                kind_from_code(kind, "events")?,
                uuid_from_bytes(&stream_uuid, "events.stream_uuid")?,
            );
            let number = seq_from_i64(number, "events.sequence_number")?;
            let event_id = EventId::from_uuid(uuid_from_bytes(&event_uuid, "events.event_uuid")?);
            snapshot.ids_by_position.insert((stream, number), event_id);
        }
        start = end;
    }
    Ok(())
}
