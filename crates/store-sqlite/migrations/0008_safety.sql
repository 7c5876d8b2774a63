-- Per-room permissions beyond the three roles: the least role that may invite, pin and
-- mention @room (admins, as before this migration).
ALTER TABLE rooms ADD COLUMN invite_role TEXT NOT NULL DEFAULT 'admin'
    CHECK (invite_role IN ('member', 'admin', 'owner'));
ALTER TABLE rooms ADD COLUMN pin_role TEXT NOT NULL DEFAULT 'admin'
    CHECK (pin_role IN ('member', 'admin', 'owner'));
ALTER TABLE rooms ADD COLUMN mention_room_role TEXT NOT NULL DEFAULT 'admin'
    CHECK (mention_room_role IN ('member', 'admin', 'owner'));

-- Who tombstoned a message (NULL: a retention purge), so history can say "removed by an
-- admin". Earlier tombstones learn it from their message.deleted event (the server's nil id
-- is a purge).
ALTER TABLE messages ADD COLUMN deleted_by BLOB;
UPDATE messages SET deleted_by = e.actor_id
  FROM room_events e
 WHERE messages.deleted_at IS NOT NULL
   AND e.room_id = messages.room_id AND e.message_id = messages.id
   AND e.kind = 'message.deleted'
   AND e.actor_id <> x'00000000000000000000000000000000';

-- Instance-wide bans: a suspended account cannot sign in; sign-ups from blocked ranges are
-- refused.
ALTER TABLE users ADD COLUMN suspended_at INTEGER;
CREATE INDEX users_suspended ON users (suspended_at) WHERE suspended_at IS NOT NULL;
CREATE TABLE signup_blocks (
    id         BLOB NOT NULL PRIMARY KEY,
    cidr       TEXT NOT NULL UNIQUE,
    reason     TEXT,
    created_by BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- When each person was last online ("last seen"), written when their last socket goes
-- offline; shown only to people who share a room with them.
ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
