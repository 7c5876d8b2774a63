-- Moderation: slow mode per room, mutes per member, the mute's end on its event, and the audit
-- log (append-only: a trigger refuses every UPDATE, DELETE and TRUNCATE, so not even a bug can
-- rewrite it).
ALTER TABLE rooms ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE room_members ADD COLUMN muted_until TIMESTAMPTZ;
ALTER TABLE room_events ADD COLUMN muted_until TIMESTAMPTZ;

CREATE TABLE audit_log (
    id                UUID PRIMARY KEY,
    room_id           UUID,
    actor_id          UUID NOT NULL,
    action            TEXT NOT NULL,
    target_user_id    UUID,
    target_message_id UUID,
    reason            TEXT,
    details           JSONB,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_by_room ON audit_log (room_id, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
