//! Opt-in AI: the per-room switch, per-user preferences, the translation cache.

use crate::PgStore;
use crate::errors::MapErr;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::ai::AiPrefs;
use justus_core::store::Ai;
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};

#[async_trait]
impl Ai for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "room_ai_enabled", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "room_ai_enabled"))]
    async fn room_ai_enabled(&self, room: RoomId) -> StoreResult<bool> {
        let on: Option<bool> = sqlx::query_scalar(
            "SELECT a.enabled FROM room_ai a JOIN rooms r ON r.id = a.room_id \
             WHERE a.room_id = $1 AND r.deleted_at IS NULL",
        )
        .bind(room.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .store()?;
        Ok(on.unwrap_or(false))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_room_ai_enabled", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_room_ai_enabled"))]
    async fn set_room_ai_enabled(
        &self,
        room: RoomId,
        enabled: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.store()?;
        set_room_ai(&mut conn, room, enabled, actor, now).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "ai_prefs", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "ai_prefs"))]
    async fn ai_prefs(&self, user: UserId) -> StoreResult<AiPrefs> {
        let row: Option<(Option<String>, bool)> = sqlx::query_as(
            "SELECT preferred_language, auto_translate FROM user_ai_prefs WHERE user_id = $1",
        )
        .bind(user.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .store()?;
        Ok(row
            .map(|(preferred_language, auto_translate)| AiPrefs {
                preferred_language,
                auto_translate,
            })
            .unwrap_or_default())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_ai_prefs", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_ai_prefs"))]
    async fn set_ai_prefs(
        &self,
        user: UserId,
        prefs: &AiPrefs,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO user_ai_prefs (user_id, preferred_language, auto_translate, updated_at) \
             SELECT id, $2, $3, $4 FROM users WHERE id = $1 \
             ON CONFLICT (user_id) DO UPDATE SET preferred_language = EXCLUDED.preferred_language, \
             auto_translate = EXCLUDED.auto_translate, updated_at = EXCLUDED.updated_at",
        )
        .bind(user.as_uuid())
        .bind(prefs.preferred_language.as_deref())
        .bind(prefs.auto_translate)
        .bind(now)
        .execute(&self.pool)
        .await
        .store()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "translation", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "translation"))]
    async fn translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
    ) -> StoreResult<Option<String>> {
        sqlx::query_scalar(
            "SELECT body FROM ai_translations WHERE message_id = $1 AND version = $2 AND lang = $3",
        )
        .bind(message.as_uuid())
        .bind(version)
        .bind(lang)
        .fetch_optional(&self.pool)
        .await
        .store()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "put_translation", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "put_translation"))]
    async fn put_translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO ai_translations (message_id, version, lang, body, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(message.as_uuid())
        .bind(version)
        .bind(lang)
        .bind(text)
        .bind(now)
        .execute(&self.pool)
        .await
        .store()?;
        Ok(())
    }
}

/// Switches AI in a room, in one statement: the room must be live at the moment of the write
/// (`update_room` calls it inside its transaction, after locking the room row).
pub(crate) async fn set_room_ai(
    conn: &mut sqlx::PgConnection,
    room: RoomId,
    enabled: bool,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let done = sqlx::query(
        "INSERT INTO room_ai (room_id, enabled, updated_by, updated_at) \
         SELECT id, $2, $3, $4 FROM rooms WHERE id = $1 AND deleted_at IS NULL \
         ON CONFLICT (room_id) DO UPDATE SET enabled = EXCLUDED.enabled, \
         updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
    )
    .bind(room.as_uuid())
    .bind(enabled)
    .bind(actor.as_uuid())
    .bind(now)
    .execute(&mut *conn)
    .await
    .store()?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
