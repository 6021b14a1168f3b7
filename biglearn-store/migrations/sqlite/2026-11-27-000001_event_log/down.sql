DROP TABLE consumer_watermarks;
DROP TABLE streams;
DROP TRIGGER events_no_delete;
DROP TRIGGER events_no_update;
DROP TABLE events;
