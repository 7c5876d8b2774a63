-- Media: uploaded files (the bytes live in the media store under keys derived from the id) and
-- which messages carry them. Shapes follow docs/schema.md (shared with the PostgreSQL adapter).
-- Timestamps: INTEGER microseconds since the Unix epoch (UTC); ids: 16-byte UUID BLOBs.

CREATE TABLE media (
    id          BLOB PRIMARY KEY NOT NULL,
    owner_id    BLOB NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('image', 'audio', 'video', 'file')),
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    name        TEXT NOT NULL,
    width       INTEGER,
    height      INTEGER,
    duration_ms INTEGER,
    blurhash    TEXT,
    has_thumbs  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    -- Set once used (message attachment, avatar); unattached uploads are swept after a day.
    attached_at INTEGER
) STRICT;
CREATE INDEX media_by_owner ON media (owner_id);
CREATE INDEX media_unattached ON media (created_at) WHERE attached_at IS NULL;

CREATE TABLE message_attachments (
    message_id BLOB NOT NULL REFERENCES messages (id),
    position   INTEGER NOT NULL,
    media_id   BLOB NOT NULL REFERENCES media (id),
    room_id    BLOB NOT NULL,
    PRIMARY KEY (message_id, position)
) STRICT, WITHOUT ROWID;
-- Authorisation: "is this media posted in a room the reader is a member of?"
CREATE INDEX message_attachments_by_media ON message_attachments (media_id, room_id);
