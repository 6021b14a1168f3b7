-- The id registry (biglearn_core::log::registry): which course owns each
-- student, assignment and course container, and which ecosystem each book
-- container, as introduced by the stored events. Written by every append in
-- the same transaction as the events that introduce the ids, so it never
-- disagrees with the log; the server reads it instead of scanning the log.
--
-- One table for the four kinds rather than one per kind: every lookup and
-- every append touches several kinds at once, and one table answers them
-- with one statement, writes them with one statement and needs one index.
-- `id_kind`: 0 student, 1 assignment, 2 course container (owner: a course),
-- 3 book container (owner: an ecosystem). The first stored event that
-- introduces an id decides its owner; rows never change (trigger), so
-- readers may cache them. Stop processes of earlier builds before applying
-- this migration: they append events without registry rows.
CREATE TABLE id_owners (
    id_kind SMALLINT NOT NULL CHECK (id_kind BETWEEN 0 AND 3),
    id_uuid BYTEA NOT NULL,
    owner_uuid BYTEA NOT NULL,
    PRIMARY KEY (id_kind, id_uuid)
);

CREATE FUNCTION biglearn_id_owners_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'id owners are immutable';
END;
$$;
CREATE TRIGGER id_owners_immutable BEFORE UPDATE OR DELETE ON id_owners
    FOR EACH ROW EXECUTE FUNCTION biglearn_id_owners_immutable();

-- Backfill from the events already stored, with the rules of
-- `introduced_ids` (owner = the event's stream; only well-formed entries
-- count; events in insertion order, so the first stored owner wins):
-- create_ecosystem (type 0, ecosystem streams) book.contents[].container_uuid,
-- update_roster (type 3, course streams) course_containers[].container_uuid
-- and students[].student_uuid, create_update_assignment (type 7, course
-- streams) assignment_uuid. Event data that is not valid JSON is skipped
-- (read as NULL) instead of failing the migration; the helper is dropped
-- again below. This runs in the migration's transaction: a process that
-- sees the table sees it filled.
CREATE FUNCTION biglearn_registry_jsonb(data TEXT) RETURNS JSONB
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN data::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;

CREATE FUNCTION biglearn_registry_array(value JSONB) RETURNS JSONB
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(value) = 'array' THEN value ELSE '[]'::jsonb END
$$;

INSERT INTO id_owners (id_kind, id_uuid, owner_uuid)
SELECT kind, decode(replace(id ->> 0, '-', ''), 'hex'), owner
FROM (
    SELECT e.ord AS ord, 3 AS kind, jsonb_build_array(item -> 'container_uuid') AS id,
           e.stream_uuid AS owner
    FROM (SELECT ord, stream_uuid, biglearn_registry_jsonb(data) AS j
          FROM events WHERE event_type = 0 AND stream_kind = 1) AS e
    CROSS JOIN LATERAL jsonb_array_elements(
        biglearn_registry_array(e.j -> 'book' -> 'contents')) AS item
    WHERE jsonb_typeof(item) = 'object'
    UNION ALL
    SELECT e.ord, 2, jsonb_build_array(item -> 'container_uuid'), e.stream_uuid
    FROM (SELECT ord, stream_uuid, biglearn_registry_jsonb(data) AS j
          FROM events WHERE event_type = 3 AND stream_kind = 0) AS e
    CROSS JOIN LATERAL jsonb_array_elements(
        biglearn_registry_array(e.j -> 'course_containers')) AS item
    WHERE jsonb_typeof(item) = 'object'
    UNION ALL
    SELECT e.ord, 0, jsonb_build_array(item -> 'student_uuid'), e.stream_uuid
    FROM (SELECT ord, stream_uuid, biglearn_registry_jsonb(data) AS j
          FROM events WHERE event_type = 3 AND stream_kind = 0) AS e
    CROSS JOIN LATERAL jsonb_array_elements(
        biglearn_registry_array(e.j -> 'students')) AS item
    WHERE jsonb_typeof(item) = 'object'
    UNION ALL
    SELECT e.ord, 1, jsonb_build_array(e.j -> 'assignment_uuid'), e.stream_uuid
    FROM (SELECT ord, stream_uuid, biglearn_registry_jsonb(data) AS j
          FROM events WHERE event_type = 7 AND stream_kind = 0) AS e
    WHERE jsonb_typeof(e.j) = 'object'
) AS found
WHERE jsonb_typeof(id -> 0) = 'string'
  AND (id ->> 0) ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
ORDER BY ord
ON CONFLICT DO NOTHING;

DROP FUNCTION biglearn_registry_array(JSONB);
DROP FUNCTION biglearn_registry_jsonb(TEXT);
