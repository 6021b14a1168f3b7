DROP TABLE consumer_watermarks;
DROP TABLE streams;
DROP TABLE events;
DROP FUNCTION biglearn_events_immutable();
