//! `/api/v1/reports`, a room's reports, and the instance admins' queue and audit log.

use crate::chat;
use crate::chat::reports::Subject;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::parse_id;
use crate::http::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use justus_core::audit::{AuditEntry, AuditId};
use justus_core::report::{Report, parse_report_text};
use justus_core::{MessageId, ReportId, RoomId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReport {
    /// The room it happened in (you must be a member).
    pub room_id: Uuid,
    /// The message to report; or give `user_id` to report a member. Exactly one of the two.
    pub message_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// What is wrong (1–1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveReport {
    /// `true`: you acted on it (removed the message, muted, kicked, banned…); `false`: dismissed.
    pub action_taken: bool,
    /// A note the reporter reads (up to 1000 characters).
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only open reports (default `true`; `false` includes resolved ones).
    pub open: Option<bool>,
    /// Reports older than this report id (the last `id` of the previous page).
    pub before: Option<Uuid>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items older than this id (the last `id` of the previous page).
    pub before: Option<Uuid>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ReportList {
    /// Newest first.
    pub reports: Vec<Report>,
}

#[derive(Serialize, ToSchema)]
pub struct InstanceReportList {
    /// Newest first.
    pub reports: Vec<Report>,
    /// The rooms the reports are about (an instance admin need not be a member to know what
    /// they are called); a deleted room is left out.
    pub rooms: Vec<ReportRoom>,
}

#[derive(Serialize, ToSchema)]
pub struct ReportRoom {
    pub id: Uuid,
    pub kind: justus_core::room::RoomKind,
    /// Groups only.
    #[schema(required = true)]
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InstanceAuditLog {
    /// Newest first, every room's.
    pub entries: Vec<AuditEntry>,
}

fn limit(raw: Option<u32>) -> Result<u32, ApiError> {
    let limit = raw.unwrap_or(50);
    if (1..=chat::reports::MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1–200",
        ))
    }
}

/// Report a message or a member to the room's admins (and the instance's; a DM's reports go to
/// the instance's admins only). One open report per thing per reporter.
#[utoipa::path(post, path = "/api/v1/reports", tag = "moderation", security(("bearer" = [])), request_body = CreateReport,
    responses((status = 201, body = Report),
              (status = 404, description = "No such room (or you are not in it), message or member", body = ErrorBody),
              (status = 409, description = "`report_open`: you already reported this", body = ErrorBody),
              (status = 422, description = "Validation; `invalid_target`: yourself, or not exactly one of `message_id` and `user_id`", body = ErrorBody)))]
pub async fn create_report(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateReport>,
) -> ApiResult<(StatusCode, Json<Report>)> {
    let reason = parse_report_text("reason", &req.reason)?;
    if reason.is_empty() {
        return Err(
            crate::error::Error::unprocessable("required", "say what is wrong")
                .with_field("reason")
                .into(),
        );
    }
    let subject = match (req.message_id, req.user_id) {
        (Some(m), None) => Subject::Message(MessageId(m)),
        (None, Some(u)) => Subject::User(UserId(u)),
        _ => {
            return Err(crate::error::Error::unprocessable(
                "invalid_target",
                "report either a message (message_id) or a member (user_id)",
            )
            .into());
        }
    };
    let report =
        chat::reports::create(&app, auth.user_id, RoomId(req.room_id), subject, reason).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// The reports you made, with their outcome (`status`, `resolution_note`).
#[utoipa::path(get, path = "/api/v1/reports/mine", tag = "moderation", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = ReportList), (status = 400, body = ErrorBody)))]
pub async fn my_reports(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<ReportList>> {
    let reports =
        chat::reports::mine(&app, auth.user_id, q.before.map(ReportId), limit(q.limit)?).await?;
    Ok(Json(ReportList { reports }))
}

/// A group's reports (its admins), open ones by default; reports about you are not shown to
/// you.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/reports", tag = "moderation", security(("bearer" = [])),
    params(("id" = Uuid, Path), ReportQuery),
    responses((status = 200, body = ReportList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn room_reports(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<ReportList>> {
    let reports = chat::reports::for_room(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        q.open.unwrap_or(true),
        q.before.map(ReportId),
        limit(q.limit)?,
    )
    .await?;
    Ok(Json(ReportList { reports }))
}

/// Resolve a report (the room's admins, or the instance's): acted on, or dismissed, with a note
/// for the reporter. Audited.
#[utoipa::path(post, path = "/api/v1/reports/{id}/resolve", tag = "moderation", security(("bearer" = [])), request_body = ResolveReport,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Report), (status = 404, body = ErrorBody),
              (status = 409, description = "`report_resolved`: already resolved", body = ErrorBody)))]
pub async fn resolve_report(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResolveReport>,
) -> ApiResult<Json<Report>> {
    let note = req
        .note
        .as_deref()
        .map(|n| parse_report_text("note", n))
        .transpose()?
        .filter(|n| !n.is_empty());
    let report = chat::reports::resolve(
        &app,
        auth.user_id,
        parse_id(&id, "report")?,
        req.action_taken,
        note,
    )
    .await?;
    Ok(Json(report))
}

/// Every room's reports (the instance's admins, `ADMIN_USERS`), open ones by default.
#[utoipa::path(get, path = "/api/v1/admin/reports", tag = "moderation", security(("bearer" = [])),
    params(ReportQuery),
    responses((status = 200, body = InstanceReportList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn admin_reports(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<InstanceReportList>> {
    let reports = chat::reports::all(
        &app,
        auth.user_id,
        q.open.unwrap_or(true),
        q.before.map(ReportId),
        limit(q.limit)?,
    )
    .await?;
    let rooms = chat::reports::rooms_of(&app, &reports)
        .await?
        .into_iter()
        .map(|r| ReportRoom {
            id: r.id.0,
            kind: r.kind,
            name: r.name,
        })
        .collect();
    Ok(Json(InstanceReportList { reports, rooms }))
}

/// The whole instance's audit log (the instance's admins), newest first; the JSON is the export.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "moderation", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = InstanceAuditLog), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn admin_audit(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<InstanceAuditLog>> {
    let entries = chat::reports::instance_audit_log(
        &app,
        auth.user_id,
        q.before.map(AuditId),
        limit(q.limit)?,
    )
    .await?;
    Ok(Json(InstanceAuditLog { entries }))
}
