// The PostgreSQL versions of the backend-specific append statements,
// included next to `log.rs` (see there). Each is one fixed-shape statement
// whatever the group holds, with the rows passed as parallel arrays and
// expanded by `unnest`: one round trip per table per group. The position
// lookup joins the events primary key against the wanted positions, so the
// plan is a nested loop of primary-key probes (an `OR` chain of per-stream
// conditions was planned as a sequential scan).

/// Inserts `events` in order (`unnest` yields array order, so `ord`
/// follows it).
fn insert_events(conn: &mut Conn, events: &[Event]) -> Result<(), TxError> {
    use diesel::sql_types::{Array, BigInt, Binary, SmallInt, Text};

    if events.is_empty() {
        return Ok(());
    }
    let n = events.len();
    let (mut kinds, mut streams, mut numbers) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut ids, mut types, mut data) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for event in events {
        kinds.push(kind_code(event.stream.kind()));
        streams.push(event.stream.uuid().into_bytes());
        numbers.push(event.sequence_number.as_i64());
        ids.push(event.event_id.as_uuid().as_bytes().as_slice());
        types.push(event.event_type.code());
        data.push(event.data.as_str());
    }
    let streams: Vec<&[u8]> = streams.iter().map(|s| s.as_slice()).collect();
    diesel::sql_query(
        "INSERT INTO events \
         (stream_kind, stream_uuid, sequence_number, event_uuid, event_type, data) \
         SELECT * FROM unnest($1::int2[], $2::bytea[], $3::int8[], $4::bytea[], \
         $5::int2[], $6::text[])",
    )
    .bind::<Array<SmallInt>, _>(&kinds)
    .bind::<Array<Binary>, _>(&streams)
    .bind::<Array<BigInt>, _>(&numbers)
    .bind::<Array<Binary>, _>(&ids)
    .bind::<Array<SmallInt>, _>(&types)
    .bind::<Array<Text>, _>(&data)
    .execute(conn)?;
    Ok(())
}

/// Upserts the heads in one statement; a blocked head keeps an older stored
/// `gap_seen_at`, an unblocked one clears it.
fn upsert_heads(conn: &mut Conn, heads: Vec<NewHeadRow>) -> Result<(), TxError> {
    use diesel::sql_types::{Array, BigInt, Binary, Nullable, SmallInt};

    if heads.is_empty() {
        return Ok(());
    }
    let kinds: Vec<i16> = heads.iter().map(|h| h.stream_kind).collect();
    let uuids: Vec<&[u8]> = heads.iter().map(|h| h.stream_uuid.as_slice()).collect();
    let marks: Vec<i64> = heads.iter().map(|h| h.high_water_mark).collect();
    let contiguous: Vec<Option<i64>> = heads.iter().map(|h| h.contiguous_through).collect();
    let seen: Vec<Option<i64>> = heads.iter().map(|h| h.gap_seen_at).collect();
    diesel::sql_query(
        "INSERT INTO streams \
         (stream_kind, stream_uuid, high_water_mark, contiguous_through, gap_seen_at) \
         SELECT * FROM unnest($1::int2[], $2::bytea[], $3::int8[], $4::int8[], $5::int8[]) \
         ON CONFLICT (stream_kind, stream_uuid) DO UPDATE SET \
         high_water_mark = excluded.high_water_mark, \
         contiguous_through = excluded.contiguous_through, \
         gap_seen_at = CASE WHEN excluded.gap_seen_at IS NULL THEN NULL \
         ELSE COALESCE(streams.gap_seen_at, excluded.gap_seen_at) END",
    )
    .bind::<Array<SmallInt>, _>(&kinds)
    .bind::<Array<Binary>, _>(&uuids)
    .bind::<Array<BigInt>, _>(&marks)
    .bind::<Array<Nullable<BigInt>>, _>(&contiguous)
    .bind::<Array<Nullable<BigInt>>, _>(&seen)
    .execute(conn)?;
    Ok(())
}

/// One stored position found by [`load_positions`].
#[derive(diesel::QueryableByName)]
struct PositionRow {
    #[diesel(sql_type = diesel::sql_types::SmallInt)]
    stream_kind: i16,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    stream_uuid: Vec<u8>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    sequence_number: i64,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    event_uuid: Vec<u8>,
}

/// Fills `ids_by_position` for every (stream, number) in `numbers_by_stream`.
fn load_positions(
    conn: &mut Conn,
    numbers_by_stream: &BTreeMap<StreamId, Vec<i64>>,
    snapshot: &mut AppendSnapshot,
) -> Result<(), TxError> {
    use diesel::sql_types::{Array, BigInt, Binary, SmallInt};

    let total: usize = numbers_by_stream.values().map(Vec::len).sum();
    if total == 0 {
        return Ok(());
    }
    let mut kinds: Vec<i16> = Vec::with_capacity(total);
    let mut uuids: Vec<Vec<u8>> = Vec::with_capacity(total);
    let mut numbers: Vec<i64> = Vec::with_capacity(total);
    for (stream, wanted) in numbers_by_stream {
        for number in wanted {
            kinds.push(kind_code(stream.kind()));
            uuids.push(bytes(stream.uuid()));
            numbers.push(*number);
        }
    }
    let rows: Vec<PositionRow> = diesel::sql_query(
        "SELECT e.stream_kind, e.stream_uuid, e.sequence_number, e.event_uuid \
         FROM unnest($1::int2[], $2::bytea[], $3::int8[]) AS k(kind, uuid, num) \
         JOIN events e ON e.stream_kind = k.kind AND e.stream_uuid = k.uuid \
         AND e.sequence_number = k.num",
    )
    .bind::<Array<SmallInt>, _>(&kinds)
    .bind::<Array<Binary>, _>(&uuids)
    .bind::<Array<BigInt>, _>(&numbers)
    .load(conn)?;
    for row in rows {
        let stream = StreamId::from_parts(
            kind_from_code(row.stream_kind, "events")?,
            uuid_from_bytes(&row.stream_uuid, "events.stream_uuid")?,
        );
        let number = seq_from_i64(row.sequence_number, "events.sequence_number")?;
        let event_id = EventId::from_uuid(uuid_from_bytes(&row.event_uuid, "events.event_uuid")?);
        snapshot.ids_by_position.insert((stream, number), event_id);
    }
    Ok(())
}
