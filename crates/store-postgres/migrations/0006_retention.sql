-- Retention: a room's own policy (NULL: the instance's) and where its last purge stopped, so
-- the next one reads only messages after it.
ALTER TABLE rooms ADD COLUMN retention_days integer;
ALTER TABLE rooms ADD COLUMN purged_seq bigint NOT NULL DEFAULT 0;
