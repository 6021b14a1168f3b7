ALTER TABLE streams DROP COLUMN gap_seen_at;
