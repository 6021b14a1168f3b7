//! diesel table definitions, written by hand so that one definition serves
//! both backends: `Binary` is `BLOB` on SQLite and `BYTEA` on PostgreSQL, and
//! the integer widths agree with both migrations (`migrations/sqlite`,
//! `migrations/postgres`). Column order follows the tables' meaning, not the
//! physical layout; every query selects columns explicitly.

diesel::table! {
    /// Immutable events, one row each (O2).
    events (stream_kind, stream_uuid, sequence_number) {
        /// `0` course, `1` ecosystem.
        stream_kind -> SmallInt,
        /// The course or ecosystem uuid, 16 bytes.
        stream_uuid -> Binary,
        /// Client-assigned position in the stream.
        sequence_number -> BigInt,
        /// Globally unique event uuid, 16 bytes.
        event_uuid -> Binary,
        /// `EventType::code`.
        event_type -> SmallInt,
        /// The event data, compact JSON text, verbatim.
        data -> Text,
        /// Insertion order.
        ord -> BigInt,
    }
}

diesel::table! {
    /// One head row per stream with at least one event.
    streams (stream_kind, stream_uuid) {
        /// `0` course, `1` ecosystem.
        stream_kind -> SmallInt,
        /// The course or ecosystem uuid, 16 bytes.
        stream_uuid -> Binary,
        /// 1 + the highest stored sequence number.
        high_water_mark -> BigInt,
        /// Every number `0..=contiguous_through` is stored.
        contiguous_through -> Nullable<BigInt>,
        /// Set when the create event is stored (A5).
        metadata_sequence_number -> Nullable<BigInt>,
        /// For courses: the create_course event's ecosystem.
        initial_ecosystem_uuid -> Nullable<Binary>,
    }
}

diesel::table! {
    /// Per-consumer, per-course confirmed watermarks (O2b).
    consumer_watermarks (consumer, course_uuid) {
        /// The consumer's name.
        consumer -> Text,
        /// The course uuid, 16 bytes.
        course_uuid -> Binary,
        /// Highest confirmed sequence number.
        confirmed -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(events, streams, consumer_watermarks);
