//! Opt-in AI: the per-room switch, per-user preferences, the translation cache.

use super::SqliteStore;
use crate::conn::map_err;
use crate::rows::ts;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::ai::AiPrefs;
use justus_core::store::Ai;
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, OptionalExtension, params};

#[async_trait]
impl Ai for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "room_ai_enabled", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "room_ai_enabled"))]
    async fn room_ai_enabled(&self, room: RoomId) -> StoreResult<bool> {
        self.threads
            .read(move |c| {
                let on: Option<bool> = c
                    .prepare_cached(
                        "SELECT a.enabled FROM room_ai a JOIN rooms r ON r.id = a.room_id \
                         WHERE a.room_id = ?1 AND r.deleted_at IS NULL",
                    )
                    .and_then(|mut st| st.query_row(params![room.0], |r| r.get(0)).optional())
                    .map_err(map_err)?;
                Ok(on.unwrap_or(false))
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_room_ai_enabled", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_room_ai_enabled"))]
    async fn set_room_ai_enabled(
        &self,
        room: RoomId,
        enabled: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                let live: Option<i64> = c
                    .prepare_cached("SELECT 1 FROM rooms WHERE id = ?1 AND deleted_at IS NULL")
                    .and_then(|mut st| st.query_row(params![room.0], |r| r.get(0)).optional())
                    .map_err(map_err)?;
                if live.is_none() {
                    return Err(StoreError::NotFound);
                }
                set_room_ai(c, room, enabled, actor, now)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "ai_prefs", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "ai_prefs"))]
    async fn ai_prefs(&self, user: UserId) -> StoreResult<AiPrefs> {
        self.threads
            .read(move |c| {
                let row: Option<(Option<String>, bool)> = c
                    .prepare_cached(
                        "SELECT preferred_language, auto_translate FROM user_ai_prefs WHERE user_id = ?1",
                    )
                    .and_then(|mut st| {
                        st.query_row(params![user.0], |r| Ok((r.get(0)?, r.get(1)?)))
                            .optional()
                    })
                    .map_err(map_err)?;
                Ok(row
                    .map(|(preferred_language, auto_translate)| AiPrefs {
                        preferred_language,
                        auto_translate,
                    })
                    .unwrap_or_default())
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_ai_prefs", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_ai_prefs"))]
    async fn set_ai_prefs(
        &self,
        user: UserId,
        prefs: &AiPrefs,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let prefs = prefs.clone();
        self.threads
            .write(move |c| {
                let exists: Option<i64> = c
                    .prepare_cached("SELECT 1 FROM users WHERE id = ?1")
                    .and_then(|mut st| st.query_row(params![user.0], |r| r.get(0)).optional())
                    .map_err(map_err)?;
                if exists.is_none() {
                    return Err(StoreError::NotFound);
                }
                c.prepare_cached(
                    "INSERT INTO user_ai_prefs (user_id, preferred_language, auto_translate, updated_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id) DO UPDATE SET \
                     preferred_language = excluded.preferred_language, \
                     auto_translate = excluded.auto_translate, updated_at = excluded.updated_at",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        user.0,
                        prefs.preferred_language,
                        prefs.auto_translate,
                        ts(now)
                    ])
                })
                .map_err(map_err)?;
                Ok(())
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "translation", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "translation"))]
    async fn translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
    ) -> StoreResult<Option<String>> {
        let lang = lang.to_owned();
        self.threads
            .read(move |c| {
                c.prepare_cached(
                    "SELECT body FROM ai_translations WHERE message_id = ?1 AND version = ?2 AND lang = ?3",
                )
                .and_then(|mut st| {
                    st.query_row(params![message.0, version, lang], |r| r.get(0))
                        .optional()
                })
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "put_translation", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "put_translation"))]
    async fn put_translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (lang, text) = (lang.to_owned(), text.to_owned());
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO ai_translations (message_id, version, lang, body, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                )
                .and_then(|mut st| st.execute(params![message.0, version, lang, text, ts(now)]))
                .map_err(map_err)?;
                Ok(())
            })
            .await
    }
}

/// Switches AI in a live room (inside the caller's write job; `update_room` uses it too).
pub(super) fn set_room_ai(
    c: &Connection,
    room: RoomId,
    enabled: bool,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO room_ai (room_id, enabled, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (room_id) DO UPDATE SET enabled = excluded.enabled, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .and_then(|mut st| st.execute(params![room.0, enabled, actor.0, ts(now)]))
    .map_err(map_err)?;
    Ok(())
}
