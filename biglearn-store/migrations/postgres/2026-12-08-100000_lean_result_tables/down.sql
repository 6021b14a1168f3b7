DROP INDEX engine_exercise_results_request;
CREATE UNIQUE INDEX engine_exercise_results_request ON engine_exercise_results (kind, request_uuid);
DROP INDEX engine_clue_results_request;
CREATE UNIQUE INDEX engine_clue_results_request ON engine_clue_results (kind, request_uuid);
