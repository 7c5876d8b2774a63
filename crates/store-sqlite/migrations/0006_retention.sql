-- Retention: a room's own policy (NULL: the instance's) and where its last purge stopped, so
-- the next one reads only messages after it.
ALTER TABLE rooms ADD COLUMN retention_days INTEGER;
ALTER TABLE rooms ADD COLUMN purged_seq INTEGER NOT NULL DEFAULT 0;
