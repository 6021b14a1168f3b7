-- The event log (api.md §4, ops.md §1.2): immutable events, one head row per
-- stream, and per-consumer confirmed watermarks for bundles (O2).

-- `ord` is the rowid: the insertion order, used for "oldest waiting first".
-- Rows append at the end of the table b-tree; the two unique indexes enforce
-- per-stream positions and globally unique event uuids (api.md §4.5).
CREATE TABLE events (
    ord INTEGER PRIMARY KEY,
    stream_kind SMALLINT NOT NULL,
    stream_uuid BLOB NOT NULL,
    sequence_number BIGINT NOT NULL CHECK (sequence_number >= 0),
    event_uuid BLOB NOT NULL,
    event_type SMALLINT NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX events_position ON events (stream_kind, stream_uuid, sequence_number);
CREATE UNIQUE INDEX events_event_uuid ON events (event_uuid);

-- Events are immutable once stored (O2).
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable');
END;

-- One row per stream that has at least one event. The metadata number is set
-- when the stream's create event is stored (A5); NULLs are distinct in a
-- unique index, so uncreated streams do not collide.
CREATE TABLE streams (
    stream_kind SMALLINT NOT NULL,
    stream_uuid BLOB NOT NULL,
    high_water_mark BIGINT NOT NULL,
    contiguous_through BIGINT,
    metadata_sequence_number BIGINT,
    initial_ecosystem_uuid BLOB,
    PRIMARY KEY (stream_kind, stream_uuid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX streams_metadata ON streams (stream_kind, metadata_sequence_number);

CREATE TABLE consumer_watermarks (
    consumer TEXT NOT NULL,
    course_uuid BLOB NOT NULL,
    confirmed BIGINT NOT NULL,
    PRIMARY KEY (consumer, course_uuid)
) WITHOUT ROWID;
