-- Opt-in AI: the per-room switch, per-user preferences, and the translation cache.
-- Kept out of `rooms`/`users` so AI stays a separable feature.

CREATE TABLE room_ai (
    room_id    BLOB PRIMARY KEY NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_by BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE user_ai_prefs (
    user_id            BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    preferred_language TEXT,
    auto_translate     INTEGER NOT NULL DEFAULT 0 CHECK (auto_translate IN (0, 1)),
    updated_at         INTEGER NOT NULL
);

-- One row per (message, version, language); `version` changes with every edit, so an edit
-- simply misses the cache. Rows go with their message.
CREATE TABLE ai_translations (
    message_id BLOB NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    lang       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, version, lang)
) WITHOUT ROWID;
