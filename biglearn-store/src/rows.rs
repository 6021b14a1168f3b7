//! diesel row structs, private to the crate, and their conversions to and from
//! the core types at the trait boundary. Every conversion of stored data is
//! checked: a bad uuid length, a negative number or an unknown code is
//! reported as [`StoreError::Corrupt`] naming the table and column.

use biglearn_core::ids::{EcosystemId, EventId};
use biglearn_core::log::{
    Event, EventData, EventType, SequenceNumber, StoreError, StreamHead, StreamId, StreamKind,
    StreamMetadata,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{events, streams};

/// Stored code of a stream kind.
pub(crate) fn kind_code(kind: StreamKind) -> i16 {
    match kind {
        StreamKind::Course => 0,
        StreamKind::Ecosystem => 1,
    }
}

/// Inverse of [`kind_code`].
pub(crate) fn kind_from_code(code: i16, table: &str) -> Result<StreamKind, StoreError> {
    match code {
        0 => Ok(StreamKind::Course),
        1 => Ok(StreamKind::Ecosystem),
        other => Err(StoreError::Corrupt(format!(
            "{table}.stream_kind holds unknown code {other}"
        ))),
    }
}

/// A stored 16-byte uuid.
pub(crate) fn uuid_from_bytes(bytes: &[u8], column: &str) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|_| {
        StoreError::Corrupt(format!(
            "{column} holds {} bytes, not a 16-byte uuid",
            bytes.len()
        ))
    })
}

/// A stored non-negative `BIGINT` sequence number.
pub(crate) fn seq_from_i64(value: i64, column: &str) -> Result<SequenceNumber, StoreError> {
    SequenceNumber::from_i64(value)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} holds negative number {value}")))
}

/// A stored non-negative `BIGINT` counter.
pub(crate) fn u64_from_i64(value: i64, column: &str) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("{column} holds negative number {value}")))
}

/// The head of a stream as stored.
pub(crate) fn head_from_parts(
    high_water_mark: i64,
    contiguous_through: Option<i64>,
) -> Result<StreamHead, StoreError> {
    Ok(StreamHead {
        high_water_mark: u64_from_i64(high_water_mark, "streams.high_water_mark")?,
        contiguous_through: contiguous_through
            .map(|value| seq_from_i64(value, "streams.contiguous_through"))
            .transpose()?,
    })
}

/// One stored event.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = events)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct EventRow {
    pub stream_kind: i16,
    pub stream_uuid: Vec<u8>,
    pub sequence_number: i64,
    pub event_uuid: Vec<u8>,
    pub event_type: i16,
    pub data: String,
}

impl EventRow {
    /// Converts to the core event, checking every column.
    pub(crate) fn into_event(self) -> Result<Event, StoreError> {
        let kind = kind_from_code(self.stream_kind, "events")?;
        let stream = StreamId::from_parts(
            kind,
            uuid_from_bytes(&self.stream_uuid, "events.stream_uuid")?,
        );
        let event_type = EventType::from_code(self.event_type).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "events.event_type holds unknown code {} at {stream}",
                self.event_type
            ))
        })?;
        Ok(Event {
            stream,
            sequence_number: seq_from_i64(self.sequence_number, "events.sequence_number")?,
            event_id: EventId::from_uuid(uuid_from_bytes(&self.event_uuid, "events.event_uuid")?),
            event_type,
            data: EventData::from_json_text(self.data),
        })
    }
}

/// An event's JSON text as a `Text` bind value that shares the event's
/// buffer (no copy), so that [`NewEventRow`] owns its fields.
#[derive(Debug, Clone, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub(crate) struct DataText(EventData);

impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for DataText
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, DB>,
    ) -> diesel::serialize::Result {
        <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.0.as_str(), out)
    }
}

/// One event to insert. The row owns its fields (uuids as arrays, the data
/// by a shared handle) because diesel caches a batch INSERT of a fixed-size
/// array only for `'static` row types. `treat_none_as_default_value = false`
/// makes diesel render a batch as one multi-row statement on SQLite; with the default, every field may be
/// DEFAULT and diesel inserts row by row.
#[derive(Debug, Insertable)]
#[diesel(table_name = events)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct NewEventRow {
    pub stream_kind: i16,
    pub stream_uuid: [u8; 16],
    pub sequence_number: i64,
    pub event_uuid: [u8; 16],
    pub event_type: i16,
    pub data: DataText,
}

impl NewEventRow {
    /// The columns of a core event.
    pub(crate) fn from_event(event: &Event) -> Self {
        NewEventRow {
            stream_kind: kind_code(event.stream.kind()),
            stream_uuid: event.stream.uuid().into_bytes(),
            sequence_number: event.sequence_number.as_i64(),
            event_uuid: event.event_id.as_uuid().into_bytes(),
            event_type: event.event_type.code(),
            data: DataText(event.data.clone()),
        }
    }
}

/// A stream head to insert or update (each backend's `upsert_heads` binds
/// its fields).
#[derive(Debug)]
pub(crate) struct NewHeadRow {
    pub stream_kind: i16,
    pub stream_uuid: Vec<u8>,
    pub high_water_mark: i64,
    pub contiguous_through: Option<i64>,
    /// `now` if the head is blocked by a gap, else `None` (the upsert keeps
    /// an older stored time for a stream that stays blocked).
    pub gap_seen_at: Option<i64>,
}

impl NewHeadRow {
    /// The row for one planned head, written at `now` (Unix µs). The
    /// high-water mark is at most `i64::MAX` because sequence numbers are.
    pub(crate) fn new(stream: StreamId, head: &StreamHead, now: i64) -> Self {
        let blocked = head.high_water_mark > head.contiguous_through.map_or(0, |c| c.get() + 1);
        NewHeadRow {
            stream_kind: kind_code(stream.kind()),
            stream_uuid: stream.uuid().as_bytes().to_vec(),
            high_water_mark: i64::try_from(head.high_water_mark).unwrap_or(i64::MAX),
            contiguous_through: head.contiguous_through.map(|s| s.as_i64()),
            gap_seen_at: blocked.then_some(now),
        }
    }
}

/// One created stream's metadata as stored.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = streams)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct MetadataRow {
    pub stream_kind: i16,
    pub stream_uuid: Vec<u8>,
    pub metadata_sequence_number: Option<i64>,
    pub initial_ecosystem_uuid: Option<Vec<u8>>,
}

impl MetadataRow {
    /// Converts to core metadata; the row must have a metadata number.
    pub(crate) fn into_metadata(self) -> Result<StreamMetadata, StoreError> {
        let kind = kind_from_code(self.stream_kind, "streams")?;
        let stream = StreamId::from_parts(
            kind,
            uuid_from_bytes(&self.stream_uuid, "streams.stream_uuid")?,
        );
        let number = self.metadata_sequence_number.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "streams.metadata_sequence_number of {stream} is NULL"
            ))
        })?;
        Ok(StreamMetadata {
            stream,
            metadata_sequence_number: u64_from_i64(number, "streams.metadata_sequence_number")?,
            initial_ecosystem: self
                .initial_ecosystem_uuid
                .map(|bytes| {
                    uuid_from_bytes(&bytes, "streams.initial_ecosystem_uuid")
                        .map(EcosystemId::from_uuid)
                })
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use biglearn_core::log::{SequenceNumber, StreamId};
    use diesel::sqlite::Sqlite;

    use super::*;

    fn event(n: u128) -> Event {
        Event {
            stream: StreamId::Course(biglearn_core::ids::CourseId::from_uuid(Uuid::from_u128(7))),
            sequence_number: SequenceNumber::new(n as u64).expect("small"),
            event_id: EventId::from_uuid(Uuid::from_u128(n)),
            event_type: EventType::RecordResponse,
            data: EventData::from_json_text("{}"),
        }
    }

    /// SQLite runs a batch insert row by row when a row may hold a DEFAULT;
    /// the event rows must render as one multi-row statement.
    #[test]
    fn batch_inserts_are_single_statements_on_sqlite() {
        let events: Vec<Event> = (1..=3).map(event).collect();
        let rows: Vec<NewEventRow> = events.iter().map(NewEventRow::from_event).collect();
        let sql =
            diesel::debug_query::<Sqlite, _>(&diesel::insert_into(events::table).values(&rows))
                .to_string();
        assert_eq!(sql.matches("INSERT").count(), 1, "{sql}");
        // So does the fixed-size array form the append path uses.
        let array: &[NewEventRow; 3] = rows.as_slice().try_into().expect("three rows");
        let sql =
            diesel::debug_query::<Sqlite, _>(&diesel::insert_into(events::table).values(array))
                .to_string();
        assert_eq!(sql.matches("INSERT").count(), 1, "{sql}");
    }

    /// Only a head with a stored number beyond its first missing one is
    /// blocked and carries the time it was written (O3).
    #[test]
    fn head_rows_carry_a_gap_time_only_when_blocked() {
        let stream = event(1).stream;
        let head = |high_water_mark, contiguous: Option<u64>| StreamHead {
            high_water_mark,
            contiguous_through: contiguous.map(|c| SequenceNumber::new(c).expect("small")),
        };
        assert_eq!(
            NewHeadRow::new(stream, &head(3, Some(2)), 7).gap_seen_at,
            None
        );
        assert_eq!(
            NewHeadRow::new(stream, &head(1, Some(0)), 7).gap_seen_at,
            None
        );
        assert_eq!(
            NewHeadRow::new(stream, &head(4, Some(1)), 7).gap_seen_at,
            Some(7)
        );
        assert_eq!(
            NewHeadRow::new(stream, &head(2, None), 7).gap_seen_at,
            Some(7)
        );
    }

    #[test]
    fn stored_values_are_checked() {
        assert!(matches!(
            kind_from_code(7, "streams"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            uuid_from_bytes(&[1, 2], "events.event_uuid"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            seq_from_i64(-1, "events.sequence_number"),
            Err(StoreError::Corrupt(_))
        ));
        let row = EventRow {
            stream_kind: 0,
            stream_uuid: vec![0; 16],
            sequence_number: 0,
            event_uuid: vec![1; 16],
            event_type: 99,
            data: "{}".into(),
        };
        assert!(matches!(row.into_event(), Err(StoreError::Corrupt(_))));
    }
}
