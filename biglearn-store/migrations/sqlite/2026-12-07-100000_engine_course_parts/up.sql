-- Course states as parts (issue 10): engine_course_states keeps one small
-- head row per (consumer, course) — the last applied sequence number and the
-- clock, format version 2 — and the state itself lives here, one row per
-- part: the course-wide settings (kind 0), the roster (1), one per student
-- (2) and one per assignment (3). A commit rewrites only the parts it
-- changed. Rows of format version 1 in engine_course_states are whole states
-- written before this migration; the engine reads them and splits them into
-- parts at its next commit of that course.
CREATE TABLE engine_course_parts (
    consumer TEXT NOT NULL,
    course_uuid BLOB NOT NULL,
    part_kind SMALLINT NOT NULL CHECK (part_kind BETWEEN 0 AND 3),
    part_uuid BLOB NOT NULL,
    format_version BIGINT NOT NULL,
    part BLOB NOT NULL,
    PRIMARY KEY (consumer, course_uuid, part_kind, part_uuid)
);
