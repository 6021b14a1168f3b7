// The position lookup of an append snapshot for PostgreSQL, included next to
// `log.rs` (see there): one fixed-shape statement joining the events primary
// key against the wanted positions passed as three parallel arrays, so the
// plan is a nested loop of primary-key probes whatever the group holds (an
// `OR` chain of per-stream conditions was planned as a sequential scan).

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
