-- Moderation: slow mode per room, mutes per member, the mute's end on its event, reports, and
-- the audit log (append-only: a trigger refuses every UPDATE, DELETE and TRUNCATE, so not even a bug can
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

-- Reports: one open report per reporter and thing (a message, or a person in a room).
CREATE TABLE reports (
    id              UUID PRIMARY KEY,
    reporter_id     UUID NOT NULL,
    room_id         UUID NOT NULL,
    message_id      UUID,
    target_user_id  UUID NOT NULL,
    reason          TEXT NOT NULL,
    excerpt         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'action_taken', 'dismissed')),
    created_at      TIMESTAMPTZ NOT NULL,
    resolved_by     UUID,
    resolved_at     TIMESTAMPTZ,
    resolution_note TEXT
);
CREATE INDEX reports_by_room ON reports (room_id, id);
CREATE INDEX reports_by_reporter ON reports (reporter_id, id);
CREATE INDEX reports_by_message ON reports (message_id);
CREATE UNIQUE INDEX reports_one_open
    ON reports (reporter_id, room_id, target_user_id, COALESCE(message_id, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE status = 'open';

-- Consent to be added: who may add a user without asking; the others' adds wait as
-- invitations the user accepts or declines.
ALTER TABLE users ADD COLUMN group_adds TEXT NOT NULL DEFAULT 'anyone'
    CHECK (group_adds IN ('anyone', 'shared_room', 'nobody'));
CREATE TABLE room_invitations (
    room_id    UUID NOT NULL,
    user_id    UUID NOT NULL,
    invited_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_invitations_by_user ON room_invitations (user_id);
