//! `/api/v1/rooms`, `/dms`, members, bans and invites.

use crate::chat;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::parse_id;
use crate::http::extract::{ApiJson, Auth};
use crate::media::avatar::AvatarChange;
use crate::state::AppState;
use crate::wire::{PublicUser, RoomView, double_option};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use justus_core::room::{Role, RoomPatch, RoomSummary, parse_room_name, parse_topic};
use justus_core::{RoomId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    /// 1–100 characters once trimmed; no control characters.
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
    pub topic: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRoom {
    /// 1–100 characters once trimmed; no control characters.
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: Option<String>,
    /// A new topic, or `null` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Option<String>>,
    pub only_admins_post: Option<bool>,
    /// Opt-in AI for this room (admins; 404 `ai_disabled` when the server has no provider).
    pub ai_enabled: Option<bool>,
    /// Groups: the id of one of your own image uploads to make the room avatar from (cropped,
    /// scaled to a 512×512 WebP), or `null` to remove it. DMs have none (422).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub avatar: Option<Option<String>>,
    /// Pixels of the uploaded image to use; default: the centred largest square.
    pub avatar_crop: Option<justus_core::avatar::Crop>,
    /// Days to keep messages (1–36500; the server's `retention_days`, from `/api/v1/config`,
    /// still applies when shorter), or `null` to follow the server's policy.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 36500)]
    pub retention_days: Option<Option<i64>>,
    /// Slow mode: seconds a member must wait between two messages (0 turns it off; at most
    /// 21600). Admins and the owner are exempt.
    #[schema(minimum = 0, maximum = 21600)]
    pub slow_mode_seconds: Option<i64>,
    /// Groups: who may invite, pin and mention `@room` (`member`, `admin` or `owner`: that
    /// role and above). Only what is given changes; nobody sets or changes a permission
    /// above their own role (403 `permission_above_role`).
    pub permissions: Option<justus_core::room::PermissionsPatch>,
}

/// Why a moderator acted: kept in the room's audit log, never shown to the member.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReasonQuery {
    /// Up to 500 characters.
    #[param(max_length = 500)]
    pub reason: Option<String>,
}

impl ReasonQuery {
    pub fn parse(&self) -> Result<Option<String>, ApiError> {
        parse_reason_text(self.reason.as_deref())
    }
}

pub(crate) fn parse_reason_text(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    Ok(raw
        .map(justus_core::audit::parse_reason)
        .transpose()?
        .flatten())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    pub user_id: Uuid,
    /// Why (up to 500 characters), for the audit log.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    /// How long: 1 minute to 365 days (525600).
    #[schema(minimum = 1, maximum = 525600)]
    pub minutes: i64,
    /// Why (up to 500 characters), for the audit log.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MuteView {
    /// When the mute ends.
    pub muted_until: DateTime<Utc>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this entry id (the last `id` of the previous page).
    pub before: Option<Uuid>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    /// Newest first.
    pub entries: Vec<justus_core::audit::AuditEntry>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    pub user_id: Uuid,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    /// `member`, `admin`, or `owner` (transfers ownership; the old owner becomes an admin).
    pub role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<RoomView>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub user: PublicUser,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// Read receipt: the highest seq this member has read.
    pub read_seq: i64,
    /// Muted by an admin until then (no posting, reacting or editing); `null` when not muted.
    #[schema(required = true)]
    pub muted_until: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub members: Vec<MemberView>,
}

#[derive(Serialize, ToSchema)]
pub struct BanList {
    pub user_ids: Vec<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    /// Seconds until the code stops working (60 s – 30 days); none = no expiry.
    #[schema(minimum = 60, maximum = 2592000)]
    pub expires_in: Option<i64>,
    /// How many people may use it (1–100000); none = unlimited.
    #[schema(minimum = 1, maximum = 100000)]
    pub max_uses: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct InviteView {
    pub code: String,
    pub room_id: Uuid,
    #[schema(required = true)]
    pub room_name: Option<String>,
    pub member_count: i64,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub max_uses: Option<i64>,
    pub uses: i64,
}

async fn summary_view(app: &AppState, s: RoomSummary) -> RoomView {
    let peer = match s.dm_peer {
        Some(p) => app.store.user_by_id(p).await.ok(),
        None => None,
    };
    RoomView::summary(s, peer.as_ref())
}

/// The caller's rooms, most recent activity first, with unread and mention counts.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms", security(("bearer" = [])),
    responses((status = 200, body = RoomList), (status = 401, body = ErrorBody)))]
pub async fn list_rooms(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<RoomList>> {
    let mut rooms = Vec::new();
    for s in chat::rooms::list(&app, auth.user_id).await? {
        rooms.push(summary_view(&app, s).await);
    }
    Ok(Json(RoomList { rooms }))
}

/// Create a group; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v1/rooms", tag = "rooms", security(("bearer" = [])), request_body = CreateRoom,
    responses((status = 201, body = RoomView), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn create_room(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateRoom>,
) -> ApiResult<Response> {
    let name = parse_room_name(&req.name)?;
    let topic = req.topic.as_deref().map(parse_topic).transpose()?.flatten();
    let room = chat::rooms::create_group(&app, auth.user_id, name, topic).await?;
    let view = summary_view(&app, chat::rooms::get(&app, auth.user_id, room.id).await?).await;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Open the DM with a user (201 when created, 200 when it already existed).
#[utoipa::path(post, path = "/api/v1/dms", tag = "rooms", security(("bearer" = [])), request_body = UserRef,
    responses((status = 201, body = RoomView), (status = 200, body = RoomView),
              (status = 403, description = "`blocked`", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn open_dm(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<UserRef>,
) -> ApiResult<Response> {
    let (room, created) = chat::rooms::open_dm(&app, auth.user_id, UserId(req.user_id)).await?;
    let view = summary_view(&app, chat::rooms::get(&app, auth.user_id, room.id).await?).await;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(view),
    )
        .into_response())
}

/// One room, with the caller's unread state.
#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = RoomView), (status = 404, body = ErrorBody)))]
pub async fn get_room(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RoomView>> {
    let id: RoomId = parse_id(&id, "room")?;
    Ok(Json(
        summary_view(&app, chat::rooms::get(&app, auth.user_id, id).await?).await,
    ))
}

/// Rename, change the topic, the only-admins-post mode, the avatar, the retention or the slow
/// mode (admins). Audited.
#[utoipa::path(patch, path = "/api/v1/rooms/{id}", tag = "rooms", security(("bearer" = [])), request_body = PatchRoom,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RoomView),
              (status = 403, description = "Not an admin; `media_not_owned`: the avatar is not your upload", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 422, description = "Validation; `dm_has_no_avatar`, `avatar_not_image`, `invalid_crop`, `invalid_image`", body = ErrorBody),
              (status = 429, description = "`rate_limited`: a new avatar counts as an upload (`MEDIA_UPLOADS_PER_MINUTE`)", body = ErrorBody),
              (status = 503, description = "`media_busy`: too many images are being decoded; retry after `Retry-After`", body = ErrorBody)))]
pub async fn patch_room(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PatchRoom>,
) -> ApiResult<Json<RoomView>> {
    let id: RoomId = parse_id(&id, "room")?;
    let name = req.name.as_deref().map(parse_room_name).transpose()?;
    let topic = match req.topic {
        None => None,
        Some(None) => Some(None),
        Some(Some(t)) => Some(parse_topic(&t)?),
    };
    // Everything is checked (and a new avatar made) first; then one commit applies it all, so
    // a refused part changes nothing.
    let ai_was = match req.ai_enabled {
        Some(_) => Some(crate::ai::features::check_switch(&app, auth.user_id, id).await?),
        None => None,
    };
    let avatar = match AvatarChange::from_request(req.avatar, req.avatar_crop)? {
        Some(change) => {
            Some(crate::media::avatar::prepare_for_room(&app, auth.user_id, id, change).await?)
        }
        None => None,
    };
    let retention_days = match req.retention_days {
        None => None,
        Some(None) => Some(None),
        Some(Some(days)) => Some(Some(justus_core::room::parse_retention_days(days)?)),
    };
    let slow_mode_seconds = req
        .slow_mode_seconds
        .map(justus_core::room::parse_slow_mode)
        .transpose()?;
    let patch = RoomPatch {
        name,
        topic,
        only_admins_post: req.only_admins_post,
        avatar,
        ai_enabled: req.ai_enabled,
        retention_days,
        slow_mode_seconds,
        permissions: req.permissions.unwrap_or_default(),
    };
    chat::rooms::update(&app, auth.user_id, id, patch).await?;
    if let (Some(was), Some(on)) = (ai_was, req.ai_enabled) {
        crate::ai::features::after_switch(&app, auth.user_id, id, was, on).await?;
    }
    Ok(Json(
        summary_view(&app, chat::rooms::get(&app, auth.user_id, id).await?).await,
    ))
}

/// Delete a group (owner).
#[utoipa::path(delete, path = "/api/v1/rooms/{id}", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_room(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    chat::rooms::delete(&app, auth.user_id, parse_id(&id, "room")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Members with roles and read receipts.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/members", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = MemberList), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<MemberList>> {
    let members = chat::rooms::members(&app, auth.user_id, parse_id(&id, "room")?).await?;
    // One query for every profile, not one per member.
    let ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
    let users: std::collections::HashMap<UserId, justus_core::user::User> = app
        .store
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let out = members
        .into_iter()
        .filter_map(|m| {
            users.get(&m.user_id).map(|user| MemberView {
                user: PublicUser::from(user),
                role: m.role,
                joined_at: m.joined_at,
                read_seq: m.read_seq,
                muted_until: m.muted_until.filter(|until| *until > app.now()),
            })
        })
        .collect();
    Ok(Json(MemberList { members: out }))
}

/// Add a user to a group (the room's `permissions.invite`: admins unless opened to members). If their setting does not let you add them without asking
/// (`group_adds`), they get an invitation instead (202) and join when they accept it.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/members", tag = "rooms", security(("bearer" = [])), request_body = UserRef,
    params(("id" = Uuid, Path)),
    responses((status = 201, description = "Added"),
              (status = 202, description = "Invited: they decide", body = AddOutcome),
              (status = 403, description = "`forbidden`, `blocked` or `banned`", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`already_member`, `already_invited` or `room_full`", body = ErrorBody)))]
pub async fn add_member(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UserRef>,
) -> ApiResult<Response> {
    let added = chat::rooms::add_member(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        UserId(req.user_id),
    )
    .await?;
    Ok(match added {
        chat::rooms::Added::Member(_) => StatusCode::CREATED.into_response(),
        chat::rooms::Added::Invited(_) => (
            StatusCode::ACCEPTED,
            Json(AddOutcome {
                status: "invited".into(),
            }),
        )
            .into_response(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct AddOutcome {
    /// `invited`: the person was sent an invitation to accept or decline.
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    pub room_id: Uuid,
    #[schema(required = true)]
    pub room_name: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    #[schema(required = true)]
    pub room_avatar: Option<Uuid>,
    pub member_count: i64,
    /// Who added you.
    #[schema(required = true)]
    pub invited_by: Option<PublicUser>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    /// Newest first.
    pub invitations: Vec<InvitationView>,
}

/// Your pending invitations to groups (adds your `group_adds` setting turned into questions).
#[utoipa::path(get, path = "/api/v1/invitations", tag = "rooms", security(("bearer" = [])),
    responses((status = 200, body = InvitationList)))]
pub async fn list_invitations(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<InvitationList>> {
    let pending = chat::rooms::invitations(&app, auth.user_id).await?;
    let ids: Vec<UserId> = pending.iter().map(|(i, _)| i.invited_by).collect();
    let users: std::collections::HashMap<UserId, justus_core::user::User> = app
        .store
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let invitations = pending
        .into_iter()
        .map(|(inv, room)| InvitationView {
            room_id: room.id.0,
            room_name: room.name.clone(),
            room_avatar: room.avatar.map(|a| a.0),
            member_count: room.member_count,
            invited_by: users.get(&inv.invited_by).map(PublicUser::from),
            created_at: inv.created_at,
        })
        .collect();
    Ok(Json(InvitationList { invitations }))
}

/// Accept an invitation: you join the group.
#[utoipa::path(post, path = "/api/v1/invitations/{room_id}/accept", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = Uuid, Path)),
    responses((status = 200, body = RoomView), (status = 403, description = "`banned`", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "`room_full`", body = ErrorBody)))]
pub async fn accept_invitation(
    State(app): State<AppState>,
    auth: Auth,
    Path(room_id): Path<String>,
) -> ApiResult<Json<RoomView>> {
    let room_id: RoomId = parse_id(&room_id, "room")?;
    chat::rooms::accept_invitation(&app, auth.user_id, room_id).await?;
    Ok(Json(
        summary_view(&app, chat::rooms::get(&app, auth.user_id, room_id).await?).await,
    ))
}

/// Decline an invitation.
#[utoipa::path(delete, path = "/api/v1/invitations/{room_id}", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn decline_invitation(
    State(app): State<AppState>,
    auth: Auth,
    Path(room_id): Path<String>,
) -> ApiResult<StatusCode> {
    chat::rooms::decline_invitation(&app, auth.user_id, parse_id(&room_id, "room")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a member's role (owner); `owner` transfers ownership.
#[utoipa::path(patch, path = "/api/v1/rooms/{id}/members/{user_id}", tag = "rooms", security(("bearer" = [])), request_body = SetRole,
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_role(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(String, String)>,
    ApiJson(req): ApiJson<SetRole>,
) -> ApiResult<StatusCode> {
    chat::rooms::set_role(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        parse_id(&user, "user")?,
        req.role,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Kick a member (admins; audited with the `reason`), or leave (your own id).
#[utoipa::path(delete, path = "/api/v1/rooms/{id}/members/{user_id}", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path), ReasonQuery),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`owner_must_transfer`", body = ErrorBody),
              (status = 422, description = "`too_long` or `invalid_characters`: the `reason`", body = ErrorBody)))]
pub async fn remove_member(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(String, String)>,
    Query(q): Query<ReasonQuery>,
) -> ApiResult<StatusCode> {
    chat::rooms::remove_member(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        parse_id(&user, "user")?,
        q.parse()?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ban a user (admins): removes them and keeps them out. Audited with the `reason`.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/bans", tag = "rooms", security(("bearer" = [])), request_body = BanRequest,
    params(("id" = Uuid, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn ban(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<BanRequest>,
) -> ApiResult<StatusCode> {
    chat::rooms::ban(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        UserId(req.user_id),
        parse_reason_text(req.reason.as_deref())?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Banned users (admins).
#[utoipa::path(get, path = "/api/v1/rooms/{id}/bans", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = BanList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_bans(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<BanList>> {
    let bans = chat::rooms::bans(&app, auth.user_id, parse_id(&id, "room")?).await?;
    Ok(Json(BanList {
        user_ids: bans.into_iter().map(|u| u.0).collect(),
    }))
}

/// Lift a ban (admins). Audited with the `reason`.
#[utoipa::path(delete, path = "/api/v1/rooms/{id}/bans/{user_id}", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path), ReasonQuery), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "`too_long` or `invalid_characters`: the `reason`", body = ErrorBody)))]
pub async fn unban(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(String, String)>,
    Query(q): Query<ReasonQuery>,
) -> ApiResult<StatusCode> {
    chat::rooms::unban(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        parse_id(&user, "user")?,
        q.parse()?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mute a member for a while (admins, on members they outrank): they can read but not post,
/// react or edit until it ends. Members see `member.muted`; audited with the `reason`.
#[utoipa::path(put, path = "/api/v1/rooms/{id}/members/{user_id}/mute", tag = "rooms", security(("bearer" = [])), request_body = MuteRequest,
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 200, body = MuteView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mute_member(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(String, String)>,
    ApiJson(req): ApiJson<MuteRequest>,
) -> ApiResult<Json<MuteView>> {
    let length = justus_core::room::parse_mute_minutes(req.minutes)?;
    let until = chat::rooms::mute(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        parse_id(&user, "user")?,
        Some(length),
        parse_reason_text(req.reason.as_deref())?,
    )
    .await?;
    let muted_until = until.ok_or_else(|| ApiError::from(crate::error::Error::internal()))?;
    Ok(Json(MuteView { muted_until }))
}

/// Lift a member's mute (admins). Audited with the `reason`; 404 `mute_not_found` when they
/// are not muted.
#[utoipa::path(delete, path = "/api/v1/rooms/{id}/members/{user_id}/mute", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path), ReasonQuery),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "`too_long` or `invalid_characters`: the `reason`", body = ErrorBody)))]
pub async fn unmute_member(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(String, String)>,
    Query(q): Query<ReasonQuery>,
) -> ApiResult<StatusCode> {
    chat::rooms::mute(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        parse_id(&user, "user")?,
        None,
        q.parse()?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The room's audit log (admins): every kick, ban, unban, mute, role change, settings change,
/// message removed by an admin, room deletion and retention purge, with who, whom, why and
/// when; newest first. Read-only: nothing in the API changes or deletes an entry. Page with
/// `before` = the last entry's `id`; the JSON is the export.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/audit", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path), AuditQuery),
    responses((status = 200, body = AuditLog), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn audit_log(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditLog>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=chat::rooms::MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1–200",
        ));
    }
    let entries = chat::rooms::audit_log(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        q.before.map(justus_core::audit::AuditId),
        limit,
    )
    .await?;
    Ok(Json(AuditLog { entries }))
}

fn invite_view(i: &justus_core::room::Invite, room: &justus_core::room::Room) -> InviteView {
    InviteView {
        code: i.code.clone(),
        room_id: i.room_id.0,
        room_name: room.name.clone(),
        member_count: room.member_count,
        expires_at: i.expires_at,
        max_uses: i.max_uses,
        uses: i.uses,
    }
}

/// Create an invite code (the room's `permissions.invite`: admins unless opened to members).
#[utoipa::path(post, path = "/api/v1/rooms/{id}/invites", tag = "rooms", security(("bearer" = [])), request_body = CreateInvite,
    params(("id" = Uuid, Path)), responses((status = 201, body = InviteView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_invite(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CreateInvite>,
) -> ApiResult<Response> {
    let room_id: RoomId = parse_id(&id, "room")?;
    let expires = chat::rooms::parse_invite_expiry(req.expires_in)?;
    if req.max_uses.is_some_and(|m| !(1..=100_000).contains(&m)) {
        return Err(
            ApiError::unprocessable("invalid_max_uses", "max_uses must be 1–100000")
                .with_field("max_uses"),
        );
    }
    let invite =
        chat::rooms::create_invite(&app, auth.user_id, room_id, expires, req.max_uses).await?;
    let room = app.store.room(room_id).await?;
    Ok((StatusCode::CREATED, Json(invite_view(&invite, &room))).into_response())
}

/// Preview an invite before accepting it. Public: someone not signed in (or without an account
/// yet) sees which group they are invited to; limited per network (`429`).
#[utoipa::path(get, path = "/api/v1/invites/{code}", tag = "rooms",
    params(("code" = String, Path)), responses((status = 200, body = InviteView), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn get_invite(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
) -> ApiResult<Json<InviteView>> {
    app.limits.invite_lookup(ip).await.map_err(|wait| {
        ApiError::rate_limited("too many invite lookups from this address; slow down", wait)
    })?;
    let (invite, room) = chat::rooms::invite_preview(&app, code.get(..64).unwrap_or(&code)).await?;
    Ok(Json(invite_view(&invite, &room)))
}

/// Join the room an invite leads to.
#[utoipa::path(post, path = "/api/v1/invites/{code}/accept", tag = "rooms", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 200, body = RoomView), (status = 403, description = "`banned`", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`room_full`", body = ErrorBody), (status = 410, description = "`invite_expired`", body = ErrorBody)))]
pub async fn accept_invite(
    State(app): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<RoomView>> {
    if code.len() > 64 {
        return Err(ApiError::not_found("invite"));
    }
    let room = chat::rooms::accept_invite(&app, auth.user_id, &code).await?;
    Ok(Json(
        summary_view(&app, chat::rooms::get(&app, auth.user_id, room.id).await?).await,
    ))
}
