-- Moderation: slow mode per room, mutes per member, the mute's end on its event, reports, and
-- the audit log (append-only: triggers refuse every UPDATE and DELETE, so not even a bug can rewrite it).
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

-- Reports: one open report per reporter and thing (a message, or a person in a room).
CREATE TABLE reports (
    id              BLOB NOT NULL PRIMARY KEY,
    reporter_id     BLOB NOT NULL,
    room_id         BLOB NOT NULL,
    message_id      BLOB,
    target_user_id  BLOB NOT NULL,
    reason          TEXT NOT NULL,
    excerpt         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'action_taken', 'dismissed')),
    created_at      INTEGER NOT NULL,
    resolved_by     BLOB,
    resolved_at     INTEGER,
    resolution_note TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX reports_by_room ON reports (room_id, id);
CREATE INDEX reports_by_reporter ON reports (reporter_id, id);
CREATE INDEX reports_by_message ON reports (message_id);
CREATE UNIQUE INDEX reports_one_open ON reports (reporter_id, room_id, target_user_id, ifnull(message_id, x''))
    WHERE status = 'open';

-- Consent to be added: who may add a user without asking; the others' adds wait as
-- invitations the user accepts or declines.
ALTER TABLE users ADD COLUMN group_adds TEXT NOT NULL DEFAULT 'anyone'
    CHECK (group_adds IN ('anyone', 'shared_room', 'nobody'));
CREATE TABLE room_invitations (
    room_id    BLOB NOT NULL,
    user_id    BLOB NOT NULL,
    invited_by BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX room_invitations_by_user ON room_invitations (user_id);
