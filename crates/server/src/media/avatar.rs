//! Avatars: a square cut from one of the caller's own image uploads, scaled to a 512×512 WebP
//! and stored as a media record of its own (kind image, already attached so the sweeper keeps
//! it), then referenced from the user or the group. The source upload is marked attached too.

use super::images;
use crate::chat::{forbidden, member_access};
use crate::error::{Error, Result};
use crate::state::App;
use justus_core::avatar::{AVATAR_SIDE, Crop};
use justus_core::media::{Media, MediaKind, storage_key};
use justus_core::room::{Action, Room, RoomKind, can};
use justus_core::user::User;
use justus_core::{MediaId, RoomId, StoreError, UserId};

/// What a PATCH asked for: absent, `null` (remove), or a source upload with an optional crop.
pub enum AvatarChange {
    Remove,
    Set { source: MediaId, crop: Option<Crop> },
}

impl AvatarChange {
    /// From the PATCH fields `avatar` (absent / `null` / id) and `avatar_crop`.
    pub fn from_request(
        avatar: Option<Option<String>>,
        crop: Option<Crop>,
    ) -> Result<Option<Self>> {
        let bad_crop = || {
            Error::unprocessable("invalid_crop", "`avatar_crop` needs a new `avatar` with it")
                .with_field("avatar_crop")
        };
        match avatar {
            None if crop.is_some() => Err(bad_crop()),
            None => Ok(None),
            Some(None) if crop.is_some() => Err(bad_crop()),
            Some(None) => Ok(Some(Self::Remove)),
            Some(Some(id)) => {
                let source = id.parse().map_err(|_| {
                    Error::unprocessable("invalid_id", "avatar must be a media id (UUID)")
                        .with_field("avatar")
                })?;
                Ok(Some(Self::Set { source, crop }))
            }
        }
    }
}

/// Makes the avatar record from `source` (which must be `owner`'s own image upload) and
/// returns its id.
pub async fn create(
    app: &App,
    owner: UserId,
    source: MediaId,
    crop: Option<Crop>,
) -> Result<MediaId> {
    let not_yours = || {
        Error::forbidden(
            "media_not_owned",
            "the avatar must be one of your own uploads",
        )
        .with_field("avatar")
    };
    // Unknown and someone else's answer alike: ids cannot be probed.
    let src = match app.store.media(source).await {
        Ok(m) => m,
        Err(StoreError::NotFound) => return Err(not_yours()),
        Err(e) => return Err(e.into()),
    };
    if src.owner_id != owner {
        return Err(not_yours());
    }
    let (Some(w), Some(h)) = (src.width, src.height) else {
        return Err(not_image());
    };
    if src.kind != MediaKind::Image {
        return Err(not_image());
    }
    let crop = Crop::resolve(
        crop,
        u32::try_from(w).unwrap_or(0),
        u32::try_from(h).unwrap_or(0),
    )
    .map_err(|e| Error::from(e).with_field("avatar_crop"))?;
    // Each change decodes the whole source image: it counts as an upload.
    super::upload::rate_limit(app, owner).await?;

    let svc = &app.media;
    // Local stores hand out the file itself; others (S3) are copied into a temp file first.
    let _fetched: Option<tempfile::TempPath>;
    let path = match svc.store.local_path(&storage_key(src.id)) {
        Some(p) => p,
        None => {
            let tmp = tempfile::NamedTempFile::new_in(&svc.tmp_dir)
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot create an avatar temp file");
                    Error::internal()
                })?
                .into_temp_path();
            svc.store
                .fetch_to(&storage_key(src.id), &tmp)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot fetch an avatar source");
                    Error::unavailable("media storage is unavailable; retry shortly")
                })?;
            let p = tmp.to_path_buf();
            _fetched = Some(tmp);
            p
        }
    };
    let tmp_dir = svc.tmp_dir.clone();
    let file = svc
        .decode(
            path,
            &src.mime,
            images::Header::avatar_cost,
            move |path, header, granted| images::avatar(path, header, granted, crop, &tmp_dir),
        )
        .await?;
    let size = file
        .as_file()
        .metadata()
        .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
        .map_err(|e| {
            tracing::error!(error = %e, "cannot stat an avatar");
            Error::internal()
        })?;

    let now = app.now();
    let side = i32::try_from(AVATAR_SIDE).unwrap_or(i32::MAX);
    let media = Media {
        id: MediaId::new(),
        owner_id: owner,
        kind: MediaKind::Image,
        mime: "image/webp".into(),
        size,
        name: "avatar.webp".into(),
        width: Some(side),
        height: Some(side),
        duration_ms: None,
        blurhash: None,
        has_thumbs: false,
        created_at: now,
        attached_at: Some(now),
    };
    let key = storage_key(media.id);
    let headers = super::serve_headers(&media, super::Variant::Original);
    svc.store
        .put(&key, file.path(), &headers)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot store an avatar");
            Error::unavailable("media storage is unavailable; retry shortly")
        })?;
    if let Err(e) = app.store.create_media(&media).await {
        if let Err(e) = svc.store.delete(&key).await {
            tracing::warn!(error = %e, "cannot remove an orphaned avatar object");
        }
        return Err(e.into());
    }
    // The source was used: the sweeper must keep it (the user may crop it again later).
    app.store.mark_media_attached(src.id, now).await?;
    metrics::counter!("media_avatars_total").increment(1);
    Ok(media.id)
}

fn not_image() -> Error {
    Error::unprocessable(
        "avatar_not_image",
        "an avatar must be made from an image upload",
    )
    .with_field("avatar")
}

/// Applies `change` to the caller's profile.
pub async fn set_for_user(app: &App, user: UserId, change: AvatarChange) -> Result<User> {
    let avatar = match change {
        AvatarChange::Remove => None,
        AvatarChange::Set { source, crop } => Some(create(app, user, source, crop).await?),
    };
    Ok(app.store.set_user_avatar(user, avatar, app.now()).await?)
}

/// Checks that `user` may change the group avatar of `room_id` (members only, else 404; DMs
/// 422; admins and the owner, else 403).
pub async fn check_room(app: &App, user: UserId, room_id: RoomId) -> Result<Room> {
    let (room, member) = member_access(app, room_id, user).await?;
    if room.kind == RoomKind::Dm {
        return Err(Error::unprocessable(
            "dm_has_no_avatar",
            "direct messages have no group avatar",
        )
        .with_field("avatar"));
    }
    if !can(&room, member.role, Action::EditRoom) {
        return Err(forbidden(Action::EditRoom));
    }
    Ok(room)
}

/// Makes the group avatar `change` asks for, ready for `RoomPatch::avatar` (nothing about the
/// room is written here: the caller commits it with the rest of its patch). `None` removes it.
pub async fn prepare_for_room(
    app: &App,
    user: UserId,
    room_id: RoomId,
    change: AvatarChange,
) -> Result<Option<MediaId>> {
    check_room(app, user, room_id).await?;
    Ok(match change {
        AvatarChange::Remove => None,
        AvatarChange::Set { source, crop } => Some(create(app, user, source, crop).await?),
    })
}
