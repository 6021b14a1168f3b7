DROP TABLE engine_course_parts;
