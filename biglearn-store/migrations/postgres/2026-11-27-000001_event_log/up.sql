-- The event log (api.md §4, ops.md §1.2): immutable events, one head row per
-- stream, and per-consumer confirmed watermarks for bundles (O2).

-- `ord` is the insertion order, used for "oldest waiting first". Identity
-- values follow insertion, not commit order; that only affects fairness.
CREATE TABLE events (
    stream_kind SMALLINT NOT NULL,
    stream_uuid BYTEA NOT NULL,
    sequence_number BIGINT NOT NULL CHECK (sequence_number >= 0),
    event_uuid BYTEA NOT NULL,
    event_type SMALLINT NOT NULL,
    data TEXT NOT NULL,
    ord BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (stream_kind, stream_uuid, sequence_number)
);
CREATE UNIQUE INDEX events_event_uuid ON events (event_uuid);

-- Events are immutable once stored (O2).
CREATE FUNCTION biglearn_events_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable';
END;
$$;
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION biglearn_events_immutable();

-- One row per stream that has at least one event. The metadata number is set
-- when the stream's create event is stored (A5), under a per-kind advisory
-- lock so numbers follow commit order.
CREATE TABLE streams (
    stream_kind SMALLINT NOT NULL,
    stream_uuid BYTEA NOT NULL,
    high_water_mark BIGINT NOT NULL,
    contiguous_through BIGINT,
    metadata_sequence_number BIGINT,
    initial_ecosystem_uuid BYTEA,
    PRIMARY KEY (stream_kind, stream_uuid)
);
CREATE UNIQUE INDEX streams_metadata ON streams (stream_kind, metadata_sequence_number);

CREATE TABLE consumer_watermarks (
    consumer TEXT NOT NULL,
    course_uuid BYTEA NOT NULL,
    confirmed BIGINT NOT NULL,
    PRIMARY KEY (consumer, course_uuid)
);
