-- Background refits (F4) and time-driven recalculation (issue 4).

-- The first real response per (ecosystem, student, exercise): the gradebook
-- a refit fits on. Upserted with each course commit; an earlier response
-- (responded_at, then response_uuid) replaces a later one.
CREATE TABLE engine_fit_responses (
    ecosystem_uuid BLOB NOT NULL,
    student_uuid BLOB NOT NULL,
    exercise_uuid BLOB NOT NULL,
    responded_at BIGINT NOT NULL,
    response_uuid BLOB NOT NULL,
    is_correct BOOLEAN NOT NULL,
    PRIMARY KEY (ecosystem_uuid, student_uuid, exercise_uuid)
);

-- Real-response count per exercise group: distinct trials across courses
-- and versions (S1 fix 14), raised with each course commit.
CREATE TABLE engine_group_counts (
    group_uuid BLOB NOT NULL PRIMARY KEY,
    response_count BIGINT NOT NULL CHECK (response_count >= 0)
);

-- The per-group thresholds an ecosystem's last refit set, saved with its
-- matrix (an opaque versioned blob).
CREATE TABLE engine_refit_thresholds (
    ecosystem_uuid BLOB NOT NULL PRIMARY KEY,
    format_version BIGINT NOT NULL,
    thresholds BLOB NOT NULL
);

-- Per (consumer, course): the next instant (unix microseconds) at which a
-- result changes without a new event; NULL = none.
CREATE TABLE engine_course_schedules (
    consumer TEXT NOT NULL,
    course_uuid BLOB NOT NULL,
    wake_at BIGINT,
    PRIMARY KEY (consumer, course_uuid)
);
CREATE INDEX engine_course_schedules_due ON engine_course_schedules (consumer, wake_at);

-- The ecosystems each course's results depend on, so a new matrix wakes
-- the courses it affects (S1 fix 10).
CREATE TABLE engine_course_ecosystems (
    ecosystem_uuid BLOB NOT NULL,
    consumer TEXT NOT NULL,
    course_uuid BLOB NOT NULL,
    PRIMARY KEY (ecosystem_uuid, consumer, course_uuid)
);
CREATE INDEX engine_course_ecosystems_course ON engine_course_ecosystems (consumer, course_uuid);
