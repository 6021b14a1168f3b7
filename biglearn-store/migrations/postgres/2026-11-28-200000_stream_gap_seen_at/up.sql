-- O3: when a stream's current gap was first seen (Unix microseconds), so the
-- age of the oldest unresolved gap can be exported. NULL while the stream
-- has no gap. Streams already gapped get the migration time: the first
-- sighting this schema can vouch for.
ALTER TABLE streams ADD COLUMN gap_seen_at BIGINT;
UPDATE streams
SET gap_seen_at = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT
WHERE high_water_mark > COALESCE(contiguous_through, -1) + 1;
