-- Conversations: rooms (DMs and groups), membership, bans, blocks, invites, messages and their
-- history. Shapes and names follow docs/schema.md (shared with the PostgreSQL adapter).
-- Timestamps: INTEGER microseconds since the Unix epoch (UTC); ids: 16-byte UUID BLOBs.

CREATE TABLE rooms (
    id               BLOB PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('dm', 'group')),
    name             TEXT,
    topic            TEXT,
    created_by       BLOB NOT NULL REFERENCES users (id),
    created_at       INTEGER NOT NULL,
    last_seq         INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL,
    only_admins_post INTEGER NOT NULL DEFAULT 0,
    member_count     INTEGER NOT NULL DEFAULT 0,
    deleted_at       INTEGER,
    -- DMs: "<smaller uuid>:<larger uuid>"; NULL for groups (and for deleted DMs).
    dm_key           TEXT,
    CONSTRAINT rooms_dm_key_key UNIQUE (dm_key)
) STRICT;

CREATE TABLE room_members (
    room_id   BLOB NOT NULL REFERENCES rooms (id),
    user_id   BLOB NOT NULL REFERENCES users (id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at INTEGER NOT NULL,
    read_seq  INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX room_members_by_user ON room_members (user_id);

CREATE TABLE room_bans (
    room_id    BLOB NOT NULL REFERENCES rooms (id),
    user_id    BLOB NOT NULL,
    banned_by  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE user_blocks (
    blocker_id BLOB NOT NULL REFERENCES users (id),
    blocked_id BLOB NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_blocks_by_blocked ON user_blocks (blocked_id);

CREATE TABLE invites (
    code       TEXT PRIMARY KEY NOT NULL,
    room_id    BLOB NOT NULL REFERENCES rooms (id),
    created_by BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    max_uses   INTEGER,
    uses       INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A rowid table (not WITHOUT ROWID): the FTS5 index refers to messages by rowid.
CREATE TABLE messages (
    id            BLOB PRIMARY KEY NOT NULL,
    room_id       BLOB NOT NULL REFERENCES rooms (id),
    seq           INTEGER NOT NULL,
    sender_id     BLOB NOT NULL REFERENCES users (id),
    client_id     TEXT NOT NULL,
    body          TEXT NOT NULL,
    reply_to      BLOB,
    fwd_sender_id BLOB,
    fwd_sent_at   INTEGER,
    mentions_room INTEGER NOT NULL DEFAULT 0,
    pinned_at     INTEGER,
    created_at    INTEGER NOT NULL,
    edited_at     INTEGER,
    deleted_at    INTEGER,
    CONSTRAINT messages_room_seq_key UNIQUE (room_id, seq),
    CONSTRAINT messages_sender_client_key UNIQUE (sender_id, client_id)
) STRICT;
CREATE INDEX messages_pinned ON messages (room_id, seq) WHERE pinned_at IS NOT NULL;
-- Unread `@room` mentions are counted through this (see rooms_for_user).
CREATE INDEX messages_room_mentions ON messages (room_id, seq) WHERE mentions_room <> 0;

CREATE TABLE message_mentions (
    message_id BLOB NOT NULL,
    user_id    BLOB NOT NULL,
    room_id    BLOB NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX message_mentions_by_user ON message_mentions (user_id, room_id, seq);

-- A rowid table: reactions with equal timestamps keep their insertion order.
CREATE TABLE message_reactions (
    message_id BLOB NOT NULL,
    user_id    BLOB NOT NULL,
    emoji      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
) STRICT;

CREATE TABLE message_edits (
    message_id  BLOB NOT NULL,
    body        TEXT NOT NULL,
    replaced_at INTEGER NOT NULL
) STRICT;
CREATE INDEX message_edits_by_message ON message_edits (message_id, replaced_at);

CREATE TABLE room_events (
    room_id    BLOB NOT NULL,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    actor_id   BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    message_id BLOB,
    user_id    BLOB,
    emoji      TEXT,
    role       TEXT,
    changes    TEXT,
    PRIMARY KEY (room_id, seq)
) STRICT, WITHOUT ROWID;

-- Full-text search over message bodies (external content: the text lives in `messages`).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The triggers do not write to `messages_fts` directly: FTS5 flushes its pending index to disk
-- at every SAVEPOINT, and the writer opens one per job, which would cost a segment (and
-- merging) per message. They queue the exact index changes instead, in order, and the writer
-- applies the queue to `messages_fts` once per group, just before COMMIT (see `conn.rs`), so
-- the index is in sync in every committed state. A job rolled back to its savepoint takes its
-- queue rows with it. `cmd` is NULL for an insert and 'delete' for a removal (FTS5's command
-- column); removals carry the indexed text, as external-content tables require.
CREATE TABLE messages_fts_queue (
    id        INTEGER PRIMARY KEY,
    cmd       TEXT,
    msg_rowid INTEGER NOT NULL,
    body      TEXT NOT NULL
) STRICT;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts_queue (cmd, msg_rowid, body) VALUES (NULL, new.rowid, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts_queue (cmd, msg_rowid, body) VALUES ('delete', old.rowid, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts_queue (cmd, msg_rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts_queue (cmd, msg_rowid, body) VALUES (NULL, new.rowid, new.body);
END;
