-- Media: uploaded files (the bytes live in the media store under keys derived from the id) and
-- which messages carry them. Shapes follow docs/schema.md (shared with the SQLite adapter).

CREATE TABLE media (
    id          uuid        PRIMARY KEY,
    owner_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text        NOT NULL CHECK (kind IN ('image', 'audio', 'video', 'file')),
    mime        text        NOT NULL,
    size        bigint      NOT NULL,
    name        text        NOT NULL,
    width       integer     NULL,
    height      integer     NULL,
    duration_ms bigint      NULL,
    blurhash    text        NULL,
    has_thumbs  boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    -- Set once used (message attachment, avatar); unattached uploads are swept after a day.
    attached_at timestamptz NULL
);
CREATE INDEX media_by_owner ON media (owner_id);
CREATE INDEX media_unattached ON media (created_at) WHERE attached_at IS NULL;

CREATE TABLE message_attachments (
    message_id uuid    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    media_id   uuid    NOT NULL REFERENCES media (id),
    room_id    uuid    NOT NULL,
    CONSTRAINT message_attachments_pkey PRIMARY KEY (message_id, position)
);
-- Authorisation: "is this media posted in a room the reader is a member of?"
CREATE INDEX message_attachments_by_media ON message_attachments (media_id, room_id);
