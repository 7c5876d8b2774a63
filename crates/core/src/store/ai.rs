//! Opt-in AI: the per-room switch, per-user preferences, the translation cache.

use crate::ai::AiPrefs;
use crate::error::StoreResult;
use crate::ids::{MessageId, RoomId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Ai: Send + Sync {
    /// Whether AI is switched on for the room (default off; unknown rooms are off).
    async fn room_ai_enabled(&self, room: RoomId) -> StoreResult<bool>;
    /// Switches AI on or off for a live room; `NotFound` for an unknown or deleted room.
    async fn set_room_ai_enabled(
        &self,
        room: RoomId,
        enabled: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user's AI preferences (defaults when never set).
    async fn ai_prefs(&self, user: UserId) -> StoreResult<AiPrefs>;
    /// Replaces the user's AI preferences; `NotFound` for an unknown user.
    async fn set_ai_prefs(
        &self,
        user: UserId,
        prefs: &AiPrefs,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A cached translation of one version of a message (`version` changes with every edit).
    async fn translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
    ) -> StoreResult<Option<String>>;
    /// Caches a translation; a second write for the same key keeps the first (idempotent).
    async fn put_translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}
