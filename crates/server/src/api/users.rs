//! `/api/v1/users`: the caller's profile, password change, other users' public profiles.

use crate::auth::credentials;
use crate::chat;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::parse_id;
use crate::http::extract::{ApiJson, Auth};
use crate::media::avatar::AvatarChange;
use crate::state::AppState;
use crate::wire::{Me, PublicUser, double_option};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use justus_core::user::{DisplayName, Email, Password, UserPatch};
use justus_core::{StoreError, UserId};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMe {
    /// 1–64 characters once trimmed; no control characters.
    #[schema(min_length = 1, pattern = r"\S")]
    pub display_name: Option<String>,
    /// A new address, or `null` to remove it. Needs `current_password`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// The account's password: required to change `email` (a stolen session must not be
    /// enough to take the account over through password recovery).
    pub current_password: Option<String>,
    /// AI: preferred language (BCP-47, e.g. `de`, `pt-BR`), or `null` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub preferred_language: Option<Option<String>>,
    /// AI: translate incoming messages into the preferred language automatically.
    pub auto_translate: Option<bool>,
    /// The id of one of your own image uploads to make your avatar from (cropped, scaled to a
    /// 512×512 WebP), or `null` to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub avatar: Option<Option<String>>,
    /// Pixels of the uploaded image to use; default: the centred largest square.
    pub avatar_crop: Option<justus_core::avatar::Crop>,
    /// Who may add you to a group without asking: `anyone`, `shared_room` (people you already
    /// share a room with) or `nobody`; everyone else's add becomes an invitation.
    pub group_adds: Option<justus_core::user::GroupAdds>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[schema(max_length = 256)]
    pub current_password: String,
    /// 8–256 characters; common passwords are refused.
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// The caller's account.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Me>> {
    let user = app.store.user_by_id(auth.user_id).await?;
    let mut me = Me::from(&user);
    me.ai = Some(app.store.ai_prefs(auth.user_id).await?.into());
    me.instance_admin = Some(crate::chat::reports::is_admin(&app, &user));
    me.group_adds = Some(app.store.group_adds(auth.user_id).await?);
    Ok(Json(me))
}

/// Update display name, e-mail and/or avatar.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])), request_body = PatchMe,
    responses((status = 200, body = Me), (status = 409, description = "`email_taken`", body = ErrorBody),
              (status = 403, description = "`invalid_credentials`: `current_password` missing or wrong (needed for `email`)", body = ErrorBody),
              (status = 429, description = "`too_many_attempts` (password checks) or `rate_limited` (e-mail changes)", body = ErrorBody),
              (status = 403, description = "`media_not_owned`: the avatar is not your upload", body = ErrorBody),
              (status = 422, description = "Validation; `avatar_not_image`, `invalid_crop`, `invalid_image`", body = ErrorBody),
              (status = 429, description = "`rate_limited`: a new avatar counts as an upload (`MEDIA_UPLOADS_PER_MINUTE`)", body = ErrorBody),
              (status = 503, description = "`media_busy`: too many images are being decoded; retry after `Retry-After`", body = ErrorBody),
              (status = 401, body = ErrorBody)))]
pub async fn patch_me(
    State(app): State<AppState>,
    auth: Auth,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PatchMe>,
) -> ApiResult<Json<Me>> {
    // Validated before anything is written, so a bad tag changes nothing.
    if let Some(Some(lang)) = &req.preferred_language
        && !lang.trim().is_empty()
    {
        justus_core::ai::parse_language_tag(lang)?;
    }
    let patch = UserPatch {
        display_name: req
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        email: match req.email {
            None => None,
            Some(None) => Some(None),
            Some(Some(e)) if e.trim().is_empty() => Some(None),
            Some(Some(e)) => Some(Some(Email::parse(&e)?)),
        },
    };
    let avatar = AvatarChange::from_request(req.avatar, req.avatar_crop)?;
    if patch.email.is_some() {
        // Each change tells whether an address is taken: re-authenticated and rate-limited.
        reauthenticate(&app, &auth, ip, &headers, req.current_password.as_deref()).await?;
        app.limits
            .email_change(auth.user_id)
            .await
            .map_err(|wait| ApiError::rate_limited("too many e-mail changes; try later", wait))?;
    }
    let avatar_changed = avatar.is_some();
    if let Some(change) = avatar {
        crate::media::avatar::set_for_user(&app, auth.user_id, change).await?;
    }
    let user = app
        .store
        .update_user(auth.user_id, &patch, app.now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict("email") => {
                ApiError::conflict("email_taken", "this e-mail address is already registered")
                    .with_field("email")
            }
            other => other.into(),
        })?;
    if patch.display_name.is_some() || avatar_changed {
        crate::chat::presence::profile_changed(&app, &user).await;
    }
    let prefs = if req.preferred_language.is_some() || req.auto_translate.is_some() {
        crate::ai::features::update_prefs(
            &app,
            auth.user_id,
            req.preferred_language,
            req.auto_translate,
        )
        .await?
    } else {
        app.store.ai_prefs(auth.user_id).await?
    };
    if let Some(policy) = req.group_adds {
        app.store.set_group_adds(auth.user_id, policy).await?;
    }
    let mut me = Me::from(&user);
    me.ai = Some(prefs.into());
    me.group_adds = Some(app.store.group_adds(auth.user_id).await?);
    Ok(Json(me))
}

/// Change the password. Needs the current one; ends every other session.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users", security(("bearer" = [])), request_body = ChangePassword,
    responses((status = 204, description = "Changed; other sessions ended"),
              (status = 403, description = "`invalid_credentials`: current password wrong", body = ErrorBody),
              (status = 429, description = "`too_many_attempts`: too many wrong passwords", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn change_password(
    State(app): State<AppState>,
    auth: Auth,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangePassword>,
) -> ApiResult<StatusCode> {
    reauthenticate(&app, &auth, ip, &headers, Some(&req.current_password)).await?;
    let user = app.store.user_by_id(auth.user_id).await?;
    let email_local = user
        .email
        .as_ref()
        .and_then(|e| e.as_str().split('@').next())
        .unwrap_or_default();
    let new = Password::parse_new(
        &req.new_password,
        &[
            user.username.as_str(),
            user.display_name.as_str(),
            email_local,
        ],
    )
    .map_err(|e| ApiError::from(e).with_field("new_password"))?;
    let new_hash = app.passwords.hash(new.expose()).await?;
    app.store
        .set_password_hash(auth.user_id, &new_hash, app.now())
        .await?;
    let ended = app
        .store
        .revoke_sessions(auth.user_id, Some(auth.session_id), app.now())
        .await?;
    app.end_sessions(&ended);
    tracing::info!(user_id = %auth.user_id, "password changed; other sessions revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the caller's password before a sensitive change, throttled like a login.
async fn reauthenticate(
    app: &AppState,
    auth: &Auth,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    password: Option<&str>,
) -> ApiResult<()> {
    let wrong = || {
        ApiError::forbidden("invalid_credentials", "the current password is wrong")
            .with_field("current_password")
    };
    let password = password.ok_or_else(wrong)?;
    Password::check_length(password)
        .map_err(|e| ApiError::from(e).with_field("current_password"))?;
    let device = crate::api::auth::device_cookie(app, headers);
    let presented = credentials::Presented {
        password,
        ip,
        device_token: device.as_deref(),
    };
    match credentials::reauthenticate(app, auth.user_id, presented).await {
        Ok(()) => Ok(()),
        Err(credentials::Refused::Wrong) => Err(wrong()),
        Err(credentials::Refused::Throttled(wait)) => Err(ApiError::too_many(
            "too_many_attempts",
            "too many failed attempts; wait before trying again",
            wait.as_secs_f64().ceil() as u64,
        )),
        Err(credentials::Refused::Store(e)) => Err(e.into()),
    }
}

/// Another user's profile, as a profile card shows it.
#[derive(Serialize, ToSchema)]
pub struct UserProfile {
    #[serde(flatten)]
    pub user: PublicUser,
    /// When they were last online (their last socket closed): only for people who share a
    /// room with them, and `null` for others or if never recorded. While they are online the
    /// gateway's presence says so.
    #[schema(required = true)]
    pub last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Another user's public profile.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = UserProfile), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn get_user(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<UserProfile>> {
    let id: UserId = id
        .parse()
        .map_err(|_| ApiError::bad_request("invalid_id", "user id must be a UUID"))?;
    let user = app.store.user_by_id(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("user"),
        other => other.into(),
    })?;
    let last_seen_at = if id == auth.user_id || app.store.share_a_room(auth.user_id, id).await? {
        app.store.last_seen(id).await?
    } else {
        None
    };
    Ok(Json(UserProfile {
        user: PublicUser::from(&user),
        last_seen_at,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearch {
    /// Username prefix (case-insensitive).
    pub search: String,
    /// Default 20; values above 50 count as 50.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<PublicUser>,
}

/// Find users by username prefix (to start a DM).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(UserSearch),
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody),
              (status = 429, description = "`rate_limited`: too many searches", body = ErrorBody)))]
pub async fn search_users(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<UserSearch>,
) -> ApiResult<Json<UserList>> {
    app.limits
        .search(auth.user_id)
        .await
        .map_err(|wait| ApiError::rate_limited("too many searches; slow down", wait))?;
    let prefix = q.search.trim().to_ascii_lowercase();
    // Only username characters can match; anything else finds nobody, without a query.
    if prefix.is_empty()
        || prefix.len() > 32
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
    {
        return Ok(Json(UserList { users: Vec::new() }));
    }
    let users = app
        .store
        .search_users(&prefix, q.limit.unwrap_or(20).clamp(1, 50))
        .await?;
    Ok(Json(UserList {
        users: users.iter().map(PublicUser::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct BlockList {
    pub user_ids: Vec<Uuid>,
}

/// Users you have blocked.
#[utoipa::path(get, path = "/api/v1/users/me/blocks", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = BlockList), (status = 401, body = ErrorBody)))]
pub async fn list_blocks(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<BlockList>> {
    let ids = app.store.blocked_users(auth.user_id).await?;
    Ok(Json(BlockList {
        user_ids: ids.into_iter().map(|u| u.0).collect(),
    }))
}

/// Block a user: neither of you can open or write in a DM with the other.
#[utoipa::path(put, path = "/api/v1/users/{id}/block", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn block(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    chat::rooms::block(&app, auth.user_id, parse_id(&id, "user")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unblock a user.
#[utoipa::path(delete, path = "/api/v1/users/{id}/block", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 204), (status = 400, body = ErrorBody)))]
pub async fn unblock(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    chat::rooms::unblock(&app, auth.user_id, parse_id(&id, "user")?).await?;
    Ok(StatusCode::NO_CONTENT)
}
