-- Moderation: slow mode per room, mutes per member, the mute's end on its event, and the audit
-- log (append-only: triggers refuse every UPDATE and DELETE, so not even a bug can rewrite it).
ALTER TABLE rooms ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE room_members ADD COLUMN muted_until INTEGER;
ALTER TABLE room_events ADD COLUMN muted_until INTEGER;

CREATE TABLE audit_log (
    id                BLOB NOT NULL PRIMARY KEY,
    room_id           BLOB,
    actor_id          BLOB NOT NULL,
    action            TEXT NOT NULL,
    target_user_id    BLOB,
    target_message_id BLOB,
    reason            TEXT,
    details           TEXT,
    created_at        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX audit_log_by_room ON audit_log (room_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
