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
        /// When the stream's current gap was first seen (Unix µs); NULL
        /// without a gap (O3).
        gap_seen_at -> Nullable<BigInt>,
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

diesel::table! {
    /// The id registry (`biglearn_core::log::registry`, migration
    /// `*_id_registry`): the owner of every id the stored events introduce.
    id_owners (id_kind, id_uuid) {
        /// `IdKind::code`: 0 student, 1 assignment, 2 course container,
        /// 3 book container.
        id_kind -> SmallInt,
        /// The id, 16 bytes.
        id_uuid -> Binary,
        /// The owning course (ecosystem for book containers), 16 bytes.
        owner_uuid -> Binary,
    }
}

diesel::allow_tables_to_appear_in_same_query!(events, streams, consumer_watermarks, id_owners);

// Engine storage (`src/engine_store/`, migration `*_engine_state`).

diesel::table! {
    /// The parts of each consumer's course states (migration
    /// `*_engine_course_parts`).
    engine_course_parts (consumer, course_uuid, part_kind, part_uuid) {
        /// The consumer's name.
        consumer -> Text,
        /// The course uuid, 16 bytes.
        course_uuid -> Binary,
        /// Which part: 0 course, 1 roster, 2 student, 3 assignment.
        part_kind -> SmallInt,
        /// The student or assignment uuid (nil for kinds 0 and 1).
        part_uuid -> Binary,
        /// The part's format version.
        format_version -> BigInt,
        /// The encoded part, verbatim.
        part -> Binary,
    }
}

diesel::table! {
    /// The head of the course state each consumer committed last (or, at
    /// format version 1, the whole state of an earlier version).
    engine_course_states (consumer, course_uuid) {
        /// The consumer's name.
        consumer -> Text,
        /// The course uuid, 16 bytes.
        course_uuid -> Binary,
        /// The last sequence number applied to the state.
        applied_through -> BigInt,
        /// The blob's format version.
        format_version -> BigInt,
        /// The serialized state, verbatim.
        state -> Binary,
    }
}

diesel::table! {
    /// The state of each ecosystem.
    engine_ecosystem_states (ecosystem_uuid) {
        /// The ecosystem uuid, 16 bytes.
        ecosystem_uuid -> Binary,
        /// The last sequence number applied to the state.
        applied_through -> BigInt,
        /// The blob's format version.
        format_version -> BigInt,
        /// The serialized state, verbatim.
        state -> Binary,
    }
}

diesel::table! {
    /// The fitted SPARFA matrix of each ecosystem (F4).
    engine_matrices (ecosystem_uuid) {
        /// The ecosystem uuid, 16 bytes.
        ecosystem_uuid -> Binary,
        /// The matrix uuid results carry, 16 bytes.
        matrix_uuid -> Binary,
        /// Refit at this real-response count.
        response_count_threshold -> BigInt,
        /// The model blob's format version.
        format_version -> BigInt,
        /// The serialized model, verbatim.
        model -> Binary,
    }
}

diesel::table! {
    /// PE, SPE and practice-worst-areas results per (target, algorithm).
    engine_exercise_results (kind, target_uuid, algorithm_name) {
        /// `ResultKind::code`.
        kind -> SmallInt,
        /// The assignment or student uuid, 16 bytes.
        target_uuid -> Binary,
        /// Lower-case algorithm name.
        algorithm_name -> Text,
        /// The uuid of the external update that wrote the row, if any.
        request_uuid -> Nullable<Binary>,
        /// The calculation uuid, 16 bytes.
        calculation_uuid -> Binary,
        /// The ecosystem matrix uuid, 16 bytes.
        ecosystem_matrix_uuid -> Binary,
        /// The exercise uuids, concatenated 16-byte uuids.
        exercise_uuids -> Binary,
        /// The spy info, compact JSON object text.
        spy_info -> Text,
    }
}

diesel::table! {
    /// Student and teacher CLUEs per (owner, book container, algorithm).
    engine_clue_results (kind, owner_uuid, book_container_uuid, algorithm_name) {
        /// `ResultKind::code`.
        kind -> SmallInt,
        /// The student or course-container uuid, 16 bytes.
        owner_uuid -> Binary,
        /// The book container uuid, 16 bytes.
        book_container_uuid -> Binary,
        /// Lower-case algorithm name.
        algorithm_name -> Text,
        /// The uuid of the external update that wrote the row, if any.
        request_uuid -> Nullable<Binary>,
        /// The calculation uuid, 16 bytes.
        calculation_uuid -> Binary,
        /// The ecosystem matrix uuid, if any.
        ecosystem_matrix_uuid -> Nullable<Binary>,
        /// clue_data.minimum.
        minimum -> Double,
        /// clue_data.most_likely.
        most_likely -> Double,
        /// clue_data.maximum.
        maximum -> Double,
        /// clue_data.is_real.
        is_real -> Bool,
        /// clue_data.ecosystem_uuid, if any.
        clue_ecosystem_uuid -> Nullable<Binary>,
        /// The spy info, compact JSON object text.
        spy_info -> Text,
    }
}

diesel::table! {
    /// Problems found while applying course events, in recording order.
    engine_problems (id) {
        /// Recording order.
        id -> BigInt,
        /// The course uuid, 16 bytes.
        course_uuid -> Binary,
        /// The event's sequence number.
        sequence_number -> BigInt,
        /// The event's type (wire name).
        event_type -> Text,
        /// The problem kind.
        kind -> Text,
        /// The message.
        message -> Text,
    }
}
