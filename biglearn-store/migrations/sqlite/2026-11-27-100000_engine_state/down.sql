DROP TABLE engine_problems;
DROP TABLE engine_clue_results;
DROP TABLE engine_exercise_results;
DROP TABLE engine_matrices;
DROP TABLE engine_ecosystem_states;
DROP TABLE engine_course_states;
