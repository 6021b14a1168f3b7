-- Result rows are written many times per second (an answer rewrites the
-- PEs and SPEs of the student's assignments and the CLUEs it counts for),
-- so each upsert should touch as few b-trees as possible. Before this
-- migration an upsert touched three: the table's rowid tree, the primary
-- key index and the request-uuid index (which held an entry for every
-- engine row, all with a NULL request uuid). Now the tables are stored in
-- their primary key order (WITHOUT ROWID: one tree), and the request-uuid
-- index covers only the rows an external algorithm pushed (a partial
-- index; lookups by request uuid imply it is not NULL, so they still use
-- it). Rows are copied unchanged.

CREATE TABLE engine_exercise_results_lean (
    kind SMALLINT NOT NULL,
    target_uuid BLOB NOT NULL,
    algorithm_name TEXT NOT NULL,
    request_uuid BLOB,
    calculation_uuid BLOB NOT NULL,
    ecosystem_matrix_uuid BLOB NOT NULL,
    exercise_uuids BLOB NOT NULL,
    spy_info TEXT NOT NULL,
    PRIMARY KEY (kind, target_uuid, algorithm_name)
) WITHOUT ROWID;
INSERT INTO engine_exercise_results_lean
    SELECT kind, target_uuid, algorithm_name, request_uuid, calculation_uuid,
           ecosystem_matrix_uuid, exercise_uuids, spy_info
    FROM engine_exercise_results;
DROP TABLE engine_exercise_results;
ALTER TABLE engine_exercise_results_lean RENAME TO engine_exercise_results;
CREATE UNIQUE INDEX engine_exercise_results_request
    ON engine_exercise_results (kind, request_uuid) WHERE request_uuid IS NOT NULL;

CREATE TABLE engine_clue_results_lean (
    kind SMALLINT NOT NULL,
    owner_uuid BLOB NOT NULL,
    book_container_uuid BLOB NOT NULL,
    algorithm_name TEXT NOT NULL,
    request_uuid BLOB,
    calculation_uuid BLOB NOT NULL,
    ecosystem_matrix_uuid BLOB,
    minimum DOUBLE PRECISION NOT NULL,
    most_likely DOUBLE PRECISION NOT NULL,
    maximum DOUBLE PRECISION NOT NULL,
    is_real BOOLEAN NOT NULL,
    clue_ecosystem_uuid BLOB,
    spy_info TEXT NOT NULL,
    PRIMARY KEY (kind, owner_uuid, book_container_uuid, algorithm_name)
) WITHOUT ROWID;
INSERT INTO engine_clue_results_lean
    SELECT kind, owner_uuid, book_container_uuid, algorithm_name, request_uuid,
           calculation_uuid, ecosystem_matrix_uuid, minimum, most_likely, maximum,
           is_real, clue_ecosystem_uuid, spy_info
    FROM engine_clue_results;
DROP TABLE engine_clue_results;
ALTER TABLE engine_clue_results_lean RENAME TO engine_clue_results;
CREATE UNIQUE INDEX engine_clue_results_request
    ON engine_clue_results (kind, request_uuid) WHERE request_uuid IS NOT NULL;
