DROP TABLE engine_course_ecosystems;
DROP TABLE engine_course_schedules;
DROP TABLE engine_refit_thresholds;
DROP TABLE engine_group_counts;
DROP TABLE engine_fit_responses;
