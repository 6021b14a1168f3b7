// The position lookup of an append snapshot as one statement per chunk with
// an `OR` of `(stream AND number IN (...))` per stream: the SQLite version of
// `load_positions`, included next to `log.rs` (see there).

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
