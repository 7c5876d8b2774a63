-- Opt-in AI: the per-room switch, per-user preferences, and the translation cache.
-- Kept out of `rooms`/`users` so AI stays a separable feature.

CREATE TABLE room_ai (
    room_id    uuid        PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    enabled    boolean     NOT NULL,
    updated_by uuid        NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE user_ai_prefs (
    user_id            uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    preferred_language text        NULL,
    auto_translate     boolean     NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL
);

-- One row per (message, version, language); `version` changes with every edit, so an edit
-- simply misses the cache. Rows go with their message.
CREATE TABLE ai_translations (
    message_id uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    version    bigint      NOT NULL,
    lang       text        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (message_id, version, lang)
);
