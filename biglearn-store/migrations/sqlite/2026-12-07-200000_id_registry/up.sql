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
-- introduces an id decides its owner; rows never change (triggers), so
-- readers may cache them. Stop processes of earlier builds before applying
-- this migration: they append events without registry rows.
CREATE TABLE id_owners (
    id_kind SMALLINT NOT NULL CHECK (id_kind BETWEEN 0 AND 3),
    id_uuid BLOB NOT NULL,
    owner_uuid BLOB NOT NULL,
    PRIMARY KEY (id_kind, id_uuid)
) WITHOUT ROWID;

CREATE TRIGGER id_owners_no_update BEFORE UPDATE ON id_owners
BEGIN
    SELECT RAISE(ABORT, 'id owners are immutable');
END;
CREATE TRIGGER id_owners_no_delete BEFORE DELETE ON id_owners
BEGIN
    SELECT RAISE(ABORT, 'id owners are immutable');
END;

-- Backfill from the events already stored, with the rules of
-- `introduced_ids` (owner = the event's stream; only well-formed entries
-- count; events in insertion order, so the first stored owner wins):
-- create_ecosystem (type 0, ecosystem streams) book.contents[].container_uuid,
-- update_roster (type 3, course streams) course_containers[].container_uuid
-- and students[].student_uuid, create_update_assignment (type 7, course
-- streams) assignment_uuid. Event data that is not valid JSON is skipped
-- (read as JSON null) instead of failing the migration.
INSERT INTO id_owners (id_kind, id_uuid, owner_uuid)
SELECT kind, unhex(replace(id, '-', '')), owner
FROM (
    SELECT e.ord AS ord, 3 AS kind, json_extract(item.value, '$.container_uuid') AS id,
           e.stream_uuid AS owner
    FROM (SELECT ord, stream_uuid,
                 CASE WHEN json_valid(data) THEN data ELSE 'null' END AS j
          FROM events WHERE event_type = 0 AND stream_kind = 1) AS e,
         json_each(e.j, '$.book.contents') AS item
    WHERE json_type(e.j, '$.book.contents') = 'array' AND item.type = 'object'
    UNION ALL
    SELECT e.ord, 2, json_extract(item.value, '$.container_uuid'), e.stream_uuid
    FROM (SELECT ord, stream_uuid,
                 CASE WHEN json_valid(data) THEN data ELSE 'null' END AS j
          FROM events WHERE event_type = 3 AND stream_kind = 0) AS e,
         json_each(e.j, '$.course_containers') AS item
    WHERE json_type(e.j, '$.course_containers') = 'array' AND item.type = 'object'
    UNION ALL
    SELECT e.ord, 0, json_extract(item.value, '$.student_uuid'), e.stream_uuid
    FROM (SELECT ord, stream_uuid,
                 CASE WHEN json_valid(data) THEN data ELSE 'null' END AS j
          FROM events WHERE event_type = 3 AND stream_kind = 0) AS e,
         json_each(e.j, '$.students') AS item
    WHERE json_type(e.j, '$.students') = 'array' AND item.type = 'object'
    UNION ALL
    SELECT e.ord, 1, json_extract(e.j, '$.assignment_uuid'), e.stream_uuid
    FROM (SELECT ord, stream_uuid,
                 CASE WHEN json_valid(data) THEN data ELSE 'null' END AS j
          FROM events WHERE event_type = 7 AND stream_kind = 0) AS e
    WHERE json_type(e.j) = 'object'
) AS found
WHERE typeof(id) = 'text'
  AND id GLOB '[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]'
ORDER BY ord
ON CONFLICT DO NOTHING;
