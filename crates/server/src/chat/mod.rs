//! Conversation use cases, shared by the REST handlers and the gateway: every rule about who
//! may do what runs here (calling `justus_core::room::can`), every committed change and every
//! ephemeral signal (typing, presence) is published here. Handlers only translate their
//! transport to these calls and back.

pub mod abuse;
pub mod access;
pub mod messages;
pub mod presence;
pub mod reports;
pub mod rooms;

use crate::error::{Error, Result};
use crate::state::App;
use justus_core::room::{Action, Member, Room, can};
use justus_core::{RoomId, UserId};

/// A room the caller is a member of. Non-members (never joined, left, kicked, banned) get the
/// same 404 as for a room that does not exist, so room ids leak nothing.
pub async fn member_access(app: &App, room_id: RoomId, user: UserId) -> Result<(Room, Member)> {
    let (room, member) = app
        .store
        .room_and_member(room_id, user)
        .await
        .map_err(not_found("room"))?;
    let member = member.ok_or_else(|| Error::not_found("room"))?;
    Ok((room, member))
}

/// `member_access` plus a permission.
pub async fn require(
    app: &App,
    room_id: RoomId,
    user: UserId,
    action: Action,
) -> Result<(Room, Member)> {
    let (room, member) = member_access(app, room_id, user).await?;
    permit(&room, &member, action)?;
    Ok((room, member))
}

/// The one permission check: `forbidden(action)` unless the member's role allows it here.
pub fn permit(room: &Room, member: &Member, action: Action) -> Result<()> {
    if can(room, member.role, action) {
        Ok(())
    } else {
        Err(forbidden(action))
    }
}

/// Refuses a muted member's posting, reacting and editing, saying until when.
pub fn not_muted(member: &Member, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    match member.muted_until {
        Some(until) if now < until => Err(Error::forbidden(
            "muted",
            format!(
                "you are muted in this room until {}",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )),
        _ => Ok(()),
    }
}

pub fn forbidden(action: Action) -> Error {
    let what = match action {
        Action::Post => "you may not post in this room",
        Action::Invite | Action::AddMember => "you may not add members to this room",
        Action::Kick => "you may not remove members from this room",
        Action::Ban => "you may not ban members of this room",
        Action::Mute => "you may not mute members of this room",
        Action::ViewAudit => "only admins may read this room's audit log",
        Action::HandleReports => "only admins may see this room's reports",
        Action::Pin => "you may not pin messages in this room",
        Action::DeleteOthersMessages => "you may not delete other people's messages",
        Action::EditRoom => "you may not change this room",
        Action::ChangeRoles | Action::TransferOwnership => "only the owner may change roles",
        Action::DeleteRoom => "only the owner may delete this room",
        _ => "not allowed",
    };
    Error::forbidden("forbidden", what)
}

pub use crate::error::not_found;
