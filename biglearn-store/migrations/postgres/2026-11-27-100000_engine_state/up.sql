-- Engine storage (issue 4): projection snapshots, results per algorithm and
-- recorded problems. Written in the same transaction as the consumer
-- watermark (consumer_watermarks) by SqlStore's EngineStore implementation.

-- The course state a consumer committed last, with the sequence number it
-- reflects (equal to that consumer's watermark when it was committed).
CREATE TABLE engine_course_states (
    consumer TEXT NOT NULL,
    course_uuid BYTEA NOT NULL,
    applied_through BIGINT NOT NULL CHECK (applied_through >= 0),
    format_version BIGINT NOT NULL,
    state BYTEA NOT NULL,
    PRIMARY KEY (consumer, course_uuid)
);

CREATE TABLE engine_ecosystem_states (
    ecosystem_uuid BYTEA NOT NULL PRIMARY KEY,
    applied_through BIGINT NOT NULL CHECK (applied_through >= 0),
    format_version BIGINT NOT NULL,
    state BYTEA NOT NULL
);

-- The fitted SPARFA matrix of an ecosystem (F4).
CREATE TABLE engine_matrices (
    ecosystem_uuid BYTEA NOT NULL PRIMARY KEY,
    matrix_uuid BYTEA NOT NULL,
    response_count_threshold BIGINT NOT NULL CHECK (response_count_threshold >= 0),
    format_version BIGINT NOT NULL,
    model BYTEA NOT NULL
);

-- PEs (kind 0), SPEs (1) and practice worst areas (2) per (target,
-- algorithm). `request_uuid` is the uuid an external algorithm pushed the
-- row with (NULL for the engine's own rows); unique per kind (A4). NULLs
-- are distinct in a unique index. `exercise_uuids` is the list as
-- concatenated 16-byte uuids.
CREATE TABLE engine_exercise_results (
    kind SMALLINT NOT NULL,
    target_uuid BYTEA NOT NULL,
    algorithm_name TEXT NOT NULL,
    request_uuid BYTEA,
    calculation_uuid BYTEA NOT NULL,
    ecosystem_matrix_uuid BYTEA NOT NULL,
    exercise_uuids BYTEA NOT NULL,
    spy_info TEXT NOT NULL,
    PRIMARY KEY (kind, target_uuid, algorithm_name)
);
CREATE UNIQUE INDEX engine_exercise_results_request ON engine_exercise_results (kind, request_uuid);

-- Student (kind 3) and teacher (kind 4) CLUEs per (student or course
-- container, book container, algorithm).
CREATE TABLE engine_clue_results (
    kind SMALLINT NOT NULL,
    owner_uuid BYTEA NOT NULL,
    book_container_uuid BYTEA NOT NULL,
    algorithm_name TEXT NOT NULL,
    request_uuid BYTEA,
    calculation_uuid BYTEA NOT NULL,
    ecosystem_matrix_uuid BYTEA,
    minimum DOUBLE PRECISION NOT NULL,
    most_likely DOUBLE PRECISION NOT NULL,
    maximum DOUBLE PRECISION NOT NULL,
    is_real BOOLEAN NOT NULL,
    clue_ecosystem_uuid BYTEA,
    spy_info TEXT NOT NULL,
    PRIMARY KEY (kind, owner_uuid, book_container_uuid, algorithm_name)
);
CREATE UNIQUE INDEX engine_clue_results_request ON engine_clue_results (kind, request_uuid);

-- Problems found while applying course events, in recording order.
CREATE TABLE engine_problems (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_uuid BYTEA NOT NULL,
    sequence_number BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX engine_problems_course ON engine_problems (course_uuid, id);
