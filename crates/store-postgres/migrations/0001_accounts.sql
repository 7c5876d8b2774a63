-- Accounts and sessions. The SQLite adapter uses the same shape.
-- Usernames and e-mail addresses are stored lower-cased by the domain, so the plain unique
-- constraints make them case-insensitively unique. The constraint names are part of the
-- contract: the adapter maps violations of them to Conflict("username") / Conflict("email").

CREATE TABLE users (
    id           uuid        PRIMARY KEY,
    username     text        NOT NULL,
    email        text        NULL,
    display_name text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE credentials (
    user_id       uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash text        NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- One row per login session (= one refresh-token family).
CREATE TABLE sessions (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    user_agent   text        NULL,
    ip           text        NULL,
    revoked_at   timestamptz NULL
);

CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at DESC);

-- SHA-256 hashes of refresh tokens; the tokens themselves are never stored.
CREATE TABLE refresh_tokens (
    hash        bytea       PRIMARY KEY,
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    replaced_at timestamptz NULL,
    replaced_by bytea       NULL
);

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
