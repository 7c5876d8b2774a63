//! Records of uploads (their bytes live in the [`crate::media::MediaStore`]): the quota, what
//! is attached, who may read them, the sweeper's queries, and the avatars that point at them.
//!
//! The trait is `MediaRecords`, not `Media`, so it never shadows [`crate::media::Media`].

use crate::error::StoreResult;
use crate::ids::{MediaId, UserId};
use crate::media::Media;
use crate::user::User;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait MediaRecords: Send + Sync {
    /// Records an upload (its bytes are already in the media store). `Conflict("media")` if the
    /// id exists.
    async fn create_media(&self, media: &Media) -> StoreResult<()>;
    /// Records an upload like [`MediaRecords::create_media`], but only if its owner's recorded
    /// uploads plus this one stay within `quota` bytes. The check and the insert are one atomic
    /// step, so parallel calls, from any number of processes, never together exceed the quota.
    /// `Conflict("media_quota")` (and nothing recorded) when it does not fit.
    async fn create_media_within_quota(&self, media: &Media, quota: i64) -> StoreResult<()>;
    /// `NotFound` if unknown (or swept).
    async fn media(&self, id: MediaId) -> StoreResult<Media>;
    /// Uploads of `owner` among `ids` (unknown or foreign ids are left out), in no order.
    async fn media_owned_by(&self, owner: UserId, ids: &[MediaId]) -> StoreResult<Vec<Media>>;
    /// Total bytes of `owner`'s recorded uploads, for the quota.
    async fn media_usage(&self, owner: UserId) -> StoreResult<i64>;
    /// Whether `user` may read the upload: they uploaded it, or they are a member of a live
    /// room where a live (not deleted) message carries it.
    async fn media_visible_to(&self, id: MediaId, user: UserId) -> StoreResult<bool>;
    /// Marks an upload as used (e.g. as an avatar) so the sweeper keeps it. Idempotent.
    async fn mark_media_attached(&self, id: MediaId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Uploads never attached and created before `cutoff`, oldest first, at most `limit`.
    async fn unattached_media(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Media>>;
    /// Forgets an upload if it is still unattached; `false` when it was attached meanwhile
    /// (or is gone), so the caller keeps its bytes.
    async fn delete_unattached_media(&self, id: MediaId) -> StoreResult<bool>;

    // --- avatars -----------------------------------------------------------------------------

    /// Sets (or with `None` removes) the user's avatar and bumps `updated_at`.
    async fn set_user_avatar(
        &self,
        user: UserId,
        avatar: Option<MediaId>,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
}
