//! Reports: members flag a message or a person; the room's admins (for a group) and the
//! instance's admins (`ADMIN_USERS`) see them and resolve them; the reporter sees the outcome.

use super::{forbidden, member_access, not_found};
use crate::error::{Error, Result};
use crate::state::App;
use justus_core::report::{Report, ReportStatus, can_handle, excerpt};
use justus_core::room::{Action, RoomKind, can};
use justus_core::store::ReportScope;
use justus_core::{MessageId, ReportId, RoomId, StoreError, UserId};

/// Most reports one page returns.
pub const MAX_PAGE: u32 = 200;

/// What is reported: a message, or a person in the room.
#[derive(Clone, Copy, Debug)]
pub enum Subject {
    Message(MessageId),
    User(UserId),
}

/// Whether `user` is one of the instance's admins (`ADMIN_USERS`).
pub async fn is_instance_admin(app: &App, user: UserId) -> Result<bool> {
    if app.config.auth.admin_users.is_empty() {
        return Ok(false);
    }
    let me = app
        .store
        .user_by_id(user)
        .await
        .map_err(not_found("user"))?;
    Ok(is_admin(app, &me))
}

/// [`is_instance_admin`] for an account already loaded.
pub fn is_admin(app: &App, user: &justus_core::user::User) -> bool {
    app.config.auth.is_instance_admin(user.username.as_str())
}

/// Files a report from a member of `room_id` about a message there or another member.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.reports.create",
    skip_all
)]
pub async fn create(
    app: &App,
    user: UserId,
    room_id: RoomId,
    subject: Subject,
    reason: String,
) -> Result<Report> {
    member_access(app, room_id, user).await?;
    let (message_id, target, text) = match subject {
        Subject::Message(id) => {
            let m = app
                .store
                .message(room_id, id)
                .await
                .map_err(not_found("message"))?;
            if m.deleted_at.is_some() {
                return Err(Error::not_found("message"));
            }
            (Some(id), m.sender_id, excerpt(&m.body))
        }
        Subject::User(target) => {
            app.store
                .member(room_id, target)
                .await?
                .ok_or_else(|| Error::not_found("member"))?;
            (None, target, String::new())
        }
    };
    if target == user {
        return Err(Error::unprocessable(
            "invalid_target",
            "you cannot report yourself",
        ));
    }
    if target == UserId::SERVER {
        return Err(Error::unprocessable(
            "invalid_target",
            "the server's own messages cannot be reported",
        ));
    }
    let report = Report {
        id: ReportId::new(),
        reporter_id: user,
        room_id,
        message_id,
        target_user_id: target,
        reason,
        excerpt: text,
        status: ReportStatus::Open,
        created_at: app.now(),
        resolved_by: None,
        resolved_at: None,
        resolution_note: None,
    };
    app.store
        .create_report(&report)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => Error::conflict(
                "report_open",
                "you already reported this; the moderators have it",
            ),
            other => other.into(),
        })?;
    metrics::counter!("reports_created_total").increment(1);
    Ok(report)
}

/// The reports `user` made, with their outcomes.
pub async fn mine(
    app: &App,
    user: UserId,
    before: Option<ReportId>,
    limit: u32,
) -> Result<Vec<Report>> {
    Ok(app
        .store
        .reports(
            ReportScope::ReportedBy(user),
            false,
            before,
            limit.clamp(1, MAX_PAGE),
        )
        .await?)
}

/// A group's reports, for its admins (never those about themselves).
pub async fn for_room(
    app: &App,
    user: UserId,
    room_id: RoomId,
    open_only: bool,
    before: Option<ReportId>,
    limit: u32,
) -> Result<Vec<Report>> {
    let (room, member) = member_access(app, room_id, user).await?;
    if !can(&room, member.role, Action::HandleReports) {
        return Err(forbidden(Action::HandleReports));
    }
    let reports = app
        .store
        .reports(
            ReportScope::Room(room_id),
            open_only,
            before,
            limit.clamp(1, MAX_PAGE),
        )
        .await?;
    Ok(reports
        .into_iter()
        .filter(|r| can_handle(room.kind, Some(member.role), false, r, user))
        .collect())
}

/// Every room's reports, for the instance's admins (never those about themselves).
pub async fn all(
    app: &App,
    user: UserId,
    open_only: bool,
    before: Option<ReportId>,
    limit: u32,
) -> Result<Vec<Report>> {
    if !is_instance_admin(app, user).await? {
        return Err(Error::instance_admins_only());
    }
    let reports = app
        .store
        .reports(
            ReportScope::All,
            open_only,
            before,
            limit.clamp(1, MAX_PAGE),
        )
        .await?;
    Ok(reports
        .into_iter()
        .filter(|r| r.target_user_id != user)
        .collect())
}

/// The whole instance's audit log, for its admins.
pub async fn instance_audit_log(
    app: &App,
    user: UserId,
    before: Option<justus_core::audit::AuditId>,
    limit: u32,
) -> Result<Vec<justus_core::audit::AuditEntry>> {
    if !is_instance_admin(app, user).await? {
        return Err(Error::instance_admins_only());
    }
    Ok(app
        .store
        .audit_log(None, before, limit.clamp(1, MAX_PAGE))
        .await?)
}

/// The rooms `reports` are about, once each (deleted rooms left out), for the instance's queue.
pub async fn rooms_of(app: &App, reports: &[Report]) -> Result<Vec<justus_core::room::Room>> {
    let mut ids: Vec<RoomId> = reports.iter().map(|r| r.room_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rooms = Vec::with_capacity(ids.len());
    for id in ids {
        match app.store.room(id).await {
            Ok(room) => rooms.push(room),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(rooms)
}

/// Resolves a report: `action_taken` (the moderator acted, e.g. removed the message) or
/// dismissed, with an optional note the reporter reads. Audited.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.reports.resolve",
    skip_all
)]
pub async fn resolve(
    app: &App,
    user: UserId,
    id: ReportId,
    action_taken: bool,
    note: Option<String>,
) -> Result<Report> {
    let report = app.store.report(id).await.map_err(not_found("report"))?;
    let admin = is_instance_admin(app, user).await?;
    // The room may be gone (deleted); its reports stay resolvable by instance admins.
    let (kind, role) = match app.store.room_and_member(report.room_id, user).await {
        Ok((room, member)) => (room.kind, member.map(|m| m.role)),
        Err(StoreError::NotFound) => (RoomKind::Dm, None),
        Err(e) => return Err(e.into()),
    };
    if !can_handle(kind, role, admin, &report, user) {
        // Someone who may not see the report does not learn it exists.
        return Err(Error::not_found("report"));
    }
    let outcome = if action_taken {
        ReportStatus::ActionTaken
    } else {
        ReportStatus::Dismissed
    };
    let resolved = app
        .store
        .resolve_report(id, outcome, user, note, app.now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                Error::conflict("report_resolved", "this report was already resolved")
            }
            StoreError::NotFound => Error::not_found("report"),
            other => other.into(),
        })?;
    metrics::counter!("reports_resolved_total", "outcome" => outcome.as_str()).increment(1);
    Ok(resolved)
}
