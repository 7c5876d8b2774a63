-- Accounts and sessions. Timestamps are INTEGER microseconds since the Unix epoch (UTC);
-- ids are 16-byte UUIDv7 BLOBs; usernames and e-mails are stored lower-cased by the domain.
CREATE TABLE users (
    id           BLOB PRIMARY KEY NOT NULL,
    username     TEXT NOT NULL,
    email        TEXT,
    display_name TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
) STRICT;

CREATE TABLE credentials (
    user_id       BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    user_agent   TEXT,
    ip           TEXT,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC);

CREATE TABLE refresh_tokens (
    hash        BLOB PRIMARY KEY NOT NULL,
    session_id  BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    replaced_at INTEGER,
    replaced_by BLOB
) STRICT;
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
