-- Per-room permissions beyond the three roles: the least role that may invite, pin and
-- mention @room (admins, as before this migration).
ALTER TABLE rooms
    ADD COLUMN invite_role TEXT NOT NULL DEFAULT 'admin'
        CHECK (invite_role IN ('member', 'admin', 'owner')),
    ADD COLUMN pin_role TEXT NOT NULL DEFAULT 'admin'
        CHECK (pin_role IN ('member', 'admin', 'owner')),
    ADD COLUMN mention_room_role TEXT NOT NULL DEFAULT 'admin'
        CHECK (mention_room_role IN ('member', 'admin', 'owner'));

-- Who tombstoned a message (NULL: a retention purge), so history can say "removed by an
-- admin". Earlier tombstones learn it from their message.deleted event (the server's nil id
-- is a purge).
ALTER TABLE messages ADD COLUMN deleted_by UUID;
UPDATE messages m SET deleted_by = e.actor_id
  FROM room_events e
 WHERE m.deleted_at IS NOT NULL
   AND e.room_id = m.room_id AND e.message_id = m.id
   AND e.kind = 'message.deleted'
   AND e.actor_id <> '00000000-0000-0000-0000-000000000000';

-- Instance-wide bans: a suspended account cannot sign in; sign-ups from blocked ranges are
-- refused.
ALTER TABLE users ADD COLUMN suspended_at TIMESTAMPTZ;
CREATE INDEX users_suspended ON users (suspended_at) WHERE suspended_at IS NOT NULL;
CREATE TABLE signup_blocks (
    id         UUID PRIMARY KEY,
    cidr       TEXT NOT NULL UNIQUE,
    reason     TEXT,
    created_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- When each person was last online ("last seen"), written when their last socket goes
-- offline; shown only to people who share a room with them.
ALTER TABLE users ADD COLUMN last_seen_at TIMESTAMPTZ;
