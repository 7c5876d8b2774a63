//! `/api/v1/admin/…`: the instance admins' tools beyond any one room — suspending accounts
//! and blocking sign-ups from address ranges (`auth::instance_bans`). The instance's report
//! queue and audit log are in `api::reports`.

use super::rooms::{ReasonQuery, parse_reason_text};
use crate::auth::instance_bans;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, Auth, parse_id};
use crate::state::AppState;
use crate::wire::PublicUser;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use justus_core::instance_ban::SignupBlock;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// Why (up to 500 characters), for the instance's audit log.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// Also block sign-ups from this range (CIDR, or one address), in the same step.
    pub block_signups_from: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SuspendedUser {
    #[serde(flatten)]
    pub user: PublicUser,
    pub suspended_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct SuspendedUsers {
    pub users: Vec<SuspendedUser>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    /// A range in CIDR notation (`203.0.113.0/24`, `2001:db8::/48`) or one address; at most
    /// a /8 of IPv4 or a /16 of IPv6.
    pub cidr: String,
    /// Why (up to 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SignupBlocks {
    pub blocks: Vec<SignupBlock>,
}

/// The suspended accounts, most recently suspended first (instance admins).
#[utoipa::path(get, path = "/api/v1/admin/suspensions", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = SuspendedUsers), (status = 403, body = ErrorBody)))]
pub async fn list_suspended(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<SuspendedUsers>> {
    let users = instance_bans::suspended(&app, auth.user_id).await?;
    Ok(Json(SuspendedUsers {
        users: users
            .iter()
            .filter_map(|u| {
                Some(SuspendedUser {
                    user: PublicUser::from(u),
                    suspended_at: u.suspended_at?,
                })
            })
            .collect(),
    }))
}

/// Suspend an account (instance admins): its sessions end at once (tokens stop working,
/// sockets close) and it cannot sign in until reinstated. Idempotent.
#[utoipa::path(put, path = "/api/v1/admin/suspensions/{user_id}", tag = "admin", security(("bearer" = [])),
    params(("user_id" = Uuid, Path)), request_body = SuspendRequest,
    responses((status = 204, description = "Suspended"), (status = 403, description = "`forbidden` (not an instance admin) or `cannot_suspend_admin`", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 422, description = "`cannot_suspend_self`; an invalid `reason` or `cidr` (`field` says which)", body = ErrorBody)))]
pub async fn suspend(
    State(app): State<AppState>,
    auth: Auth,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<SuspendRequest>,
) -> ApiResult<StatusCode> {
    instance_bans::suspend(
        &app,
        auth.user_id,
        parse_id(&user, "user")?,
        parse_reason_text(req.reason.as_deref())?,
        req.block_signups_from.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reinstate a suspended account (instance admins). Idempotent.
#[utoipa::path(delete, path = "/api/v1/admin/suspensions/{user_id}", tag = "admin", security(("bearer" = [])),
    params(("user_id" = Uuid, Path), ReasonQuery),
    responses((status = 204, description = "Reinstated"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "`too_long` or `invalid_characters`: the `reason`", body = ErrorBody)))]
pub async fn reinstate(
    State(app): State<AppState>,
    auth: Auth,
    Path(user): Path<String>,
    Query(q): Query<ReasonQuery>,
) -> ApiResult<StatusCode> {
    instance_bans::reinstate(&app, auth.user_id, parse_id(&user, "user")?, q.parse()?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The address ranges sign-ups are refused from, newest first (instance admins).
#[utoipa::path(get, path = "/api/v1/admin/signup-blocks", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = SignupBlocks), (status = 403, body = ErrorBody)))]
pub async fn list_signup_blocks(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<SignupBlocks>> {
    Ok(Json(SignupBlocks {
        blocks: instance_bans::signup_blocks(&app, auth.user_id).await?,
    }))
}

/// Refuse sign-ups from an address range (instance admins); existing accounts are not
/// affected. Sign-ups from it get 403 `signup_blocked`.
#[utoipa::path(post, path = "/api/v1/admin/signup-blocks", tag = "admin", security(("bearer" = [])),
    request_body = BlockRequest,
    responses((status = 201, body = SignupBlock), (status = 403, body = ErrorBody),
              (status = 409, description = "`already_blocked`", body = ErrorBody),
              (status = 422, description = "`invalid` or `too_wide` range (`field`: `cidr`), or an invalid `reason`", body = ErrorBody)))]
pub async fn block_signups(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<BlockRequest>,
) -> ApiResult<(StatusCode, Json<SignupBlock>)> {
    let block = instance_bans::block_signups(
        &app,
        auth.user_id,
        &req.cidr,
        parse_reason_text(req.reason.as_deref())?,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(block)))
}

/// Lift a sign-up block (instance admins).
#[utoipa::path(delete, path = "/api/v1/admin/signup-blocks/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path), ReasonQuery),
    responses((status = 204, description = "Lifted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "`too_long` or `invalid_characters`: the `reason`", body = ErrorBody)))]
pub async fn unblock_signups(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<ReasonQuery>,
) -> ApiResult<StatusCode> {
    instance_bans::unblock_signups(
        &app,
        auth.user_id,
        parse_id(&id, "signup block")?,
        q.parse()?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
