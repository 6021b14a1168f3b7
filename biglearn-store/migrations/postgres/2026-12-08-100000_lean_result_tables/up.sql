-- The request-uuid indexes cover only the rows an external algorithm
-- pushed (a partial index; lookups by request uuid imply it is not NULL):
-- before, every engine row, all with a NULL request uuid, had an entry, so
-- each of the many result upserts maintained an index no lookup reads.
DROP INDEX engine_exercise_results_request;
CREATE UNIQUE INDEX engine_exercise_results_request
    ON engine_exercise_results (kind, request_uuid) WHERE request_uuid IS NOT NULL;
DROP INDEX engine_clue_results_request;
CREATE UNIQUE INDEX engine_clue_results_request
    ON engine_clue_results (kind, request_uuid) WHERE request_uuid IS NOT NULL;
