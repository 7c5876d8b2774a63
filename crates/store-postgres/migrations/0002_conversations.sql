-- Conversations: rooms (DMs and groups), membership, invites, messages, history, search.
-- The SQLite adapter uses the same shape (see /work/briefs/schema.md). Constraint names are
-- part of the contract: `errors.rs` maps unique violations of some of them to conflicts.
--
-- Every history change of a room takes the next per-room seq with
--   UPDATE rooms SET last_seq = last_seq + 1 ... RETURNING last_seq
-- inside its transaction (a row lock on that room only) and records one `room_events` row.

CREATE TABLE rooms (
    id               uuid        PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind IN ('dm', 'group')),
    name             text        NULL,
    topic            text        NULL,
    created_by       uuid        NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL,
    last_seq         bigint      NOT NULL DEFAULT 0,
    last_activity_at timestamptz NOT NULL,
    only_admins_post boolean     NOT NULL DEFAULT false,
    member_count     bigint      NOT NULL DEFAULT 0,
    deleted_at       timestamptz NULL,
    -- DMs: "<smaller uuid>:<larger uuid>"; NULL for groups (and for deleted DMs, so the pair
    -- can open a new one).
    dm_key           text        NULL,
    CONSTRAINT rooms_dm_key_key UNIQUE (dm_key)
);

CREATE TABLE room_members (
    room_id   uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at timestamptz NOT NULL,
    read_seq  bigint      NOT NULL,
    CONSTRAINT room_members_pkey PRIMARY KEY (room_id, user_id)
);

CREATE INDEX room_members_user_id_idx ON room_members (user_id);

CREATE TABLE room_bans (
    room_id    uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by  uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    CONSTRAINT room_bans_pkey PRIMARY KEY (room_id, user_id)
);

CREATE TABLE user_blocks (
    blocker_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    CONSTRAINT user_blocks_pkey PRIMARY KEY (blocker_id, blocked_id)
);

CREATE INDEX user_blocks_blocked_id_idx ON user_blocks (blocked_id);

CREATE TABLE invites (
    code       text        NOT NULL,
    room_id    uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    created_by uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NULL,
    max_uses   bigint      NULL,
    uses       bigint      NOT NULL DEFAULT 0,
    CONSTRAINT invites_pkey PRIMARY KEY (code)
);

CREATE INDEX invites_room_id_idx ON invites (room_id);

CREATE TABLE messages (
    id            uuid        PRIMARY KEY,
    room_id       uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq           bigint      NOT NULL,
    sender_id     uuid        NOT NULL REFERENCES users (id),
    client_id     text        NOT NULL,
    body          text        NOT NULL,
    reply_to      uuid        NULL REFERENCES messages (id),
    fwd_sender_id uuid        NULL,
    fwd_sent_at   timestamptz NULL,
    mentions_room boolean     NOT NULL DEFAULT false,
    pinned_at     timestamptz NULL,
    created_at    timestamptz NOT NULL,
    edited_at     timestamptz NULL,
    deleted_at    timestamptz NULL,
    search        tsvector    GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
    -- The history index: keyset pages by seq.
    CONSTRAINT messages_room_id_seq_key UNIQUE (room_id, seq),
    -- Idempotent sends.
    CONSTRAINT messages_sender_id_client_id_key UNIQUE (sender_id, client_id)
);

CREATE INDEX messages_search_idx ON messages USING GIN (search);
CREATE INDEX messages_pinned_idx ON messages (room_id) WHERE pinned_at IS NOT NULL;
-- Unread `@room` mentions (the personal ones come from message_mentions' index).
CREATE INDEX messages_mentions_room_idx ON messages (room_id, seq) WHERE mentions_room;
CREATE INDEX messages_reply_to_idx ON messages (reply_to) WHERE reply_to IS NOT NULL;

CREATE TABLE message_mentions (
    message_id uuid   NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id    uuid   NOT NULL,
    seq        bigint NOT NULL,
    CONSTRAINT message_mentions_pkey PRIMARY KEY (message_id, user_id)
);

CREATE INDEX message_mentions_user_id_room_id_seq_idx ON message_mentions (user_id, room_id, seq);

-- `ord` breaks ties between reactions made at the same instant (SQLite uses its rowid): the
-- insertion order, which the room's row lock makes the commit order.
CREATE TABLE message_reactions (
    message_id uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      text        NOT NULL,
    created_at timestamptz NOT NULL,
    ord        bigint      GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT message_reactions_pkey PRIMARY KEY (message_id, user_id, emoji)
);

-- `ord`: as for reactions, the order of edits made at the same instant.
CREATE TABLE message_edits (
    message_id  uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    body        text        NOT NULL,
    replaced_at timestamptz NOT NULL,
    ord         bigint      GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX message_edits_message_id_replaced_at_idx ON message_edits (message_id, replaced_at);

CREATE TABLE room_events (
    room_id    uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL,
    kind       text        NOT NULL,
    actor_id   uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    message_id uuid        NULL,
    user_id    uuid        NULL,
    emoji      text        NULL,
    role       text        NULL,
    changes    jsonb       NULL,
    CONSTRAINT room_events_pkey PRIMARY KEY (room_id, seq)
);

-- search_users: prefix search on usernames, whatever the database's collation.
CREATE INDEX users_username_pattern_idx ON users (username text_pattern_ops);
