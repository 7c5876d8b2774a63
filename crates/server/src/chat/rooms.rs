//! Rooms, membership, invites and blocks.

use super::{forbidden, member_access, not_found, require};
use crate::error::{Error, Result};
use crate::state::App;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use justus_core::audit::{AuditEntry, AuditId};
use justus_core::bus::{BusMessage, Ephemeral};
use justus_core::room::{
    Action, Invitation, Invite, Member, NewGroup, Role, Room, RoomKind, RoomPatch, RoomSummary,
    can, can_manage, can_set_role,
};
use justus_core::user::GroupAdds;
use justus_core::{RoomId, StoreError, UserId};
use rand::RngCore;

/// Tells the gateway a user joined or left (their sockets adjust their subscriptions).
pub(crate) fn publish_membership(app: &App, room_id: RoomId, user_id: UserId, joined: bool) {
    membership(app, room_id, user_id, joined);
}

fn membership(app: &App, room_id: RoomId, user_id: UserId, joined: bool) {
    app.bus.publish(BusMessage::Membership {
        room_id,
        user_id,
        joined,
    });
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.create_group",
    skip_all
)]
pub async fn create_group(
    app: &App,
    user: UserId,
    name: String,
    topic: Option<String>,
) -> Result<Room> {
    super::abuse::check_new_group(app, user).await?;
    let (room, ev) = app
        .store
        .create_group(&NewGroup {
            id: RoomId::new(),
            name,
            topic,
            owner: user,
            now: app.now(),
        })
        .await?;
    membership(app, room.id, user, true);
    app.publish_events([ev]);
    Ok(room)
}

/// Opens (or returns) the DM with `peer`. `bool` = newly created.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.open_dm",
    skip_all
)]
pub async fn open_dm(app: &App, user: UserId, peer: UserId) -> Result<(Room, bool)> {
    if user == peer {
        return Err(
            Error::unprocessable("invalid_peer", "you cannot open a DM with yourself")
                .with_field("user_id"),
        );
    }
    app.store
        .user_by_id(peer)
        .await
        .map_err(not_found("user"))?;
    super::abuse::check_new_dm(app, user, peer).await?;
    if app.store.is_blocked_between(user, peer).await? {
        // An existing DM stays readable; only a new one is refused.
        let existing = app
            .store
            .rooms_for_user(user)
            .await?
            .into_iter()
            .find(|s| s.dm_peer == Some(peer));
        return match existing {
            Some(s) => Ok((s.room, false)),
            None => Err(Error::forbidden("blocked", "you cannot message this user")),
        };
    }
    let (room, created, events) = app
        .store
        .open_dm(RoomId::new(), user, peer, app.now())
        .await?;
    if created {
        membership(app, room.id, user, true);
        membership(app, room.id, peer, true);
        app.publish_events(events);
    }
    Ok((room, created))
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.list",
    skip_all
)]
pub async fn list(app: &App, user: UserId) -> Result<Vec<RoomSummary>> {
    Ok(app.store.rooms_for_user(user).await?)
}

/// The caller's summary of one room.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.get",
    skip_all
)]
pub async fn get(app: &App, user: UserId, room_id: RoomId) -> Result<RoomSummary> {
    member_access(app, room_id, user).await?;
    app.store
        .rooms_for_user(user)
        .await?
        .into_iter()
        .find(|s| s.room.id == room_id)
        .ok_or_else(|| Error::not_found("room"))
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.update",
    skip_all
)]
pub async fn update(app: &App, user: UserId, room_id: RoomId, patch: RoomPatch) -> Result<Room> {
    let (room, me) = require(app, room_id, user, Action::EditRoom).await?;
    if !patch.permissions.allowed_for(me.role, room.permissions) {
        return Err(Error::forbidden(
            "permission_above_role",
            "you cannot give or take back a permission above your own role",
        ));
    }
    if patch.is_empty() {
        return app.store.room(room_id).await.map_err(not_found("room"));
    }
    let (room, ev) = app
        .store
        .update_room(room_id, &patch, user, app.now())
        .await
        .map_err(not_found("room"))?;
    app.publish_events(ev);
    Ok(room)
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.delete",
    skip_all
)]
pub async fn delete(app: &App, user: UserId, room_id: RoomId) -> Result<()> {
    require(app, room_id, user, Action::DeleteRoom).await?;
    let members = app.store.members(room_id).await?;
    let ev = app
        .store
        .delete_room(room_id, user, app.now())
        .await
        .map_err(not_found("room"))?;
    app.publish_events([ev]);
    for m in members {
        membership(app, room_id, m.user_id, false);
    }
    Ok(())
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.members",
    skip_all
)]
pub async fn members(app: &App, user: UserId, room_id: RoomId) -> Result<Vec<Member>> {
    member_access(app, room_id, user).await?;
    Ok(app.store.members(room_id).await?)
}

fn join_error(e: StoreError) -> Error {
    match e {
        StoreError::Conflict("member") => {
            Error::conflict("already_member", "already a member of this room")
        }
        StoreError::Conflict("banned") => Error::forbidden("banned", "banned from this room"),
        StoreError::Conflict("room_full") => {
            Error::conflict("room_full", "this room has reached its member limit")
        }
        StoreError::Conflict("invite_expired") => Error::new(
            crate::error::ErrorKind::Gone,
            "invite_expired",
            "this invite has expired or been used up",
        ),
        StoreError::NotFound => Error::not_found("room"),
        other => other.into(),
    }
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.add_member",
    skip_all
)]
pub async fn add_member(app: &App, user: UserId, room_id: RoomId, target: UserId) -> Result<Added> {
    require(app, room_id, user, Action::AddMember).await?;
    app.store
        .user_by_id(target)
        .await
        .map_err(not_found("user"))?;
    if app.store.is_blocked_between(user, target).await? {
        return Err(Error::forbidden("blocked", "you cannot add this user"));
    }
    // Their consent: an add they did not allow becomes an invitation they accept or decline.
    let policy = app.store.group_adds(target).await?;
    let allowed = match policy {
        GroupAdds::SharedRoom => app.store.share_a_room(user, target).await?,
        other => other.allows(|| false),
    };
    if !allowed {
        let invitation = app
            .store
            .invite_member(room_id, target, user, app.now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict("invited") => Error::conflict(
                    "already_invited",
                    "this person has already been invited to this room",
                ),
                other => join_error(other),
            })?;
        app.bus.publish(BusMessage::Ephemeral(Ephemeral::Invited {
            user_id: target,
            room_id,
            invited_by: user,
        }));
        return Ok(Added::Invited(invitation));
    }
    let (member, ev) = app
        .store
        .add_member(
            room_id,
            target,
            Role::Member,
            user,
            app.config.limits.room_max_members,
            app.now(),
        )
        .await
        .map_err(join_error)?;
    membership(app, room_id, target, true);
    app.publish_events([ev]);
    Ok(Added::Member(member))
}

/// What adding someone did: they joined, or (their consent setting) were invited.
#[derive(Debug)]
pub enum Added {
    Member(Member),
    Invited(Invitation),
}

/// The caller's pending invitations, newest first.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.invitations",
    skip_all
)]
pub async fn invitations(app: &App, user: UserId) -> Result<Vec<(Invitation, Room)>> {
    let mut out = Vec::new();
    for inv in app.store.invitations(user).await? {
        // A room deleted since is left out (the store already skips deleted rooms; this is the
        // race with a deletion in between).
        if let Ok(room) = app.store.room(inv.room_id).await {
            out.push((inv, room));
        }
    }
    Ok(out)
}

/// Accepts an invitation: the caller joins (added by the inviter). Already a member: the
/// invitation is dropped and the room returned.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.accept_invitation",
    skip_all
)]
pub async fn accept_invitation(app: &App, user: UserId, room_id: RoomId) -> Result<Room> {
    match app
        .store
        .accept_invitation(room_id, user, app.config.limits.room_max_members, app.now())
        .await
    {
        Ok((_, ev)) => {
            membership(app, room_id, user, true);
            app.publish_events([ev]);
        }
        Err(StoreError::Conflict("member")) => {
            let _ = app.store.decline_invitation(room_id, user).await;
        }
        Err(StoreError::NotFound) => return Err(Error::not_found("invitation")),
        Err(e) => return Err(join_error(e)),
    }
    app.store.room(room_id).await.map_err(not_found("room"))
}

/// Declines an invitation.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.decline_invitation",
    skip_all
)]
pub async fn decline_invitation(app: &App, user: UserId, room_id: RoomId) -> Result<()> {
    app.store
        .decline_invitation(room_id, user)
        .await
        .map_err(not_found("invitation"))
}

/// Changes `target`'s role; `Role::Owner` transfers ownership (owner only).
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.set_role",
    skip_all
)]
pub async fn set_role(
    app: &App,
    user: UserId,
    room_id: RoomId,
    target: UserId,
    role: Role,
) -> Result<()> {
    let (room, me) = member_access(app, room_id, user).await?;
    let them = app
        .store
        .member(room_id, target)
        .await?
        .ok_or_else(|| Error::not_found("member"))?;
    if role == Role::Owner {
        if !can(&room, me.role, Action::TransferOwnership) {
            return Err(forbidden(Action::TransferOwnership));
        }
        if target == user {
            return Ok(());
        }
        let events = app
            .store
            .transfer_ownership(room_id, user, target, app.now())
            .await?;
        app.publish_events(events);
        return Ok(());
    }
    if !can(&room, me.role, Action::ChangeRoles) || !can_set_role(me.role, them.role, role) {
        return Err(forbidden(Action::ChangeRoles));
    }
    if them.role == role {
        return Ok(());
    }
    let ev = app
        .store
        .set_role(room_id, target, role, user, app.now())
        .await
        .map_err(not_found("member"))?;
    app.publish_events([ev]);
    Ok(())
}

/// Leave (target = caller) or kick (audited with `reason`).
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.remove_member",
    skip_all
)]
pub async fn remove_member(
    app: &App,
    user: UserId,
    room_id: RoomId,
    target: UserId,
    reason: Option<String>,
) -> Result<()> {
    let (room, me) = member_access(app, room_id, user).await?;
    if target == user {
        if room.kind == RoomKind::Dm {
            return Err(Error::forbidden(
                "forbidden",
                "you cannot leave a DM; block the user instead",
            ));
        }
        if me.role == Role::Owner {
            let others = app
                .store
                .members(room_id)
                .await?
                .into_iter()
                .filter(|m| m.user_id != user)
                .count();
            if others > 0 {
                return Err(Error::conflict(
                    "owner_must_transfer",
                    "transfer ownership before leaving",
                ));
            }
            // The last member leaving ends the room.
            let ev = app.store.delete_room(room_id, user, app.now()).await?;
            app.publish_events([ev]);
            membership(app, room_id, user, false);
            return Ok(());
        }
    } else {
        let them = app
            .store
            .member(room_id, target)
            .await?
            .ok_or_else(|| Error::not_found("member"))?;
        if !can(&room, me.role, Action::Kick) || !can_manage(me.role, them.role) {
            return Err(forbidden(Action::Kick));
        }
    }
    let ev = app
        .store
        .remove_member(room_id, target, user, reason, app.now())
        .await
        .map_err(not_found("member"))?;
    // The removal is the last event the removed user's sockets get from this room.
    app.publish_events([ev]);
    membership(app, room_id, target, false);
    Ok(())
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.ban",
    skip_all
)]
pub async fn ban(
    app: &App,
    user: UserId,
    room_id: RoomId,
    target: UserId,
    reason: Option<String>,
) -> Result<()> {
    let (_, me) = require(app, room_id, user, Action::Ban).await?;
    if target == user {
        return Err(Error::unprocessable(
            "invalid_target",
            "you cannot ban yourself",
        ));
    }
    if let Some(them) = app.store.member(room_id, target).await?
        && !can_manage(me.role, them.role)
    {
        return Err(forbidden(Action::Ban));
    }
    app.store
        .user_by_id(target)
        .await
        .map_err(not_found("user"))?;
    let ev = app
        .store
        .ban(room_id, target, user, reason, app.now())
        .await?;
    app.publish_events([ev]);
    membership(app, room_id, target, false);
    Ok(())
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.unban",
    skip_all
)]
pub async fn unban(
    app: &App,
    user: UserId,
    room_id: RoomId,
    target: UserId,
    reason: Option<String>,
) -> Result<()> {
    require(app, room_id, user, Action::Ban).await?;
    app.store
        .unban(room_id, target, user, reason, app.now())
        .await
        .map_err(not_found("ban"))
}

/// Mutes `target` for `length` (a timeout: no posting, reacting or editing), or lifts their
/// mute when `length` is `None`. Admins, on members they outrank; audited with `reason`.
/// Returns when the mute ends.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.mute",
    skip_all
)]
pub async fn mute(
    app: &App,
    user: UserId,
    room_id: RoomId,
    target: UserId,
    length: Option<Duration>,
    reason: Option<String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let (_, me) = require(app, room_id, user, Action::Mute).await?;
    let them = app
        .store
        .member(room_id, target)
        .await?
        .ok_or_else(|| Error::not_found("member"))?;
    if !can_manage(me.role, them.role) {
        return Err(forbidden(Action::Mute));
    }
    let now = app.now();
    // Microseconds, as both stores keep it, so the answer, the live event and every later
    // read agree.
    let until = length.map(|l| chrono::SubsecRound::trunc_subsecs(now + l, 6));
    if until.is_none() && !them.is_muted(now) {
        return Err(Error::not_found("mute"));
    }
    let ev = app
        .store
        .mute(room_id, target, until, user, reason, now)
        .await
        .map_err(not_found("member"))?;
    app.publish_events([ev]);
    Ok(until)
}

/// The room's audit log (admins), newest first, older than `before` when given.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.audit_log",
    skip_all
)]
pub async fn audit_log(
    app: &App,
    user: UserId,
    room_id: RoomId,
    before: Option<AuditId>,
    limit: u32,
) -> Result<Vec<AuditEntry>> {
    require(app, room_id, user, Action::ViewAudit).await?;
    Ok(app
        .store
        .audit_log(Some(room_id), before, limit.clamp(1, MAX_AUDIT_PAGE))
        .await?)
}

/// Most audit entries one page returns.
pub const MAX_AUDIT_PAGE: u32 = 200;

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.bans",
    skip_all
)]
pub async fn bans(app: &App, user: UserId, room_id: RoomId) -> Result<Vec<UserId>> {
    require(app, room_id, user, Action::Ban).await?;
    Ok(app.store.bans(room_id).await?)
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.create_invite",
    skip_all
)]
pub async fn create_invite(
    app: &App,
    user: UserId,
    room_id: RoomId,
    expires_in: Option<Duration>,
    max_uses: Option<i64>,
) -> Result<Invite> {
    require(app, room_id, user, Action::Invite).await?;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let now = app.now();
    let invite = Invite {
        code: URL_SAFE_NO_PAD.encode(bytes),
        room_id,
        created_by: user,
        created_at: now,
        expires_at: expires_in.map(|d| now + d),
        max_uses,
        uses: 0,
    };
    app.store.create_invite(&invite).await?;
    Ok(invite)
}

/// Anything that cannot be an invite code is "no such invite" before the store is asked.
fn invite_code(code: &str) -> Result<()> {
    if justus_core::room::is_invite_code(code) {
        Ok(())
    } else {
        Err(Error::not_found("invite"))
    }
}

/// What an invite leads to, for a preview before accepting.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.invite_preview",
    skip_all
)]
pub async fn invite_preview(app: &App, code: &str) -> Result<(Invite, Room)> {
    invite_code(code)?;
    let invite = app.store.invite(code).await.map_err(not_found("invite"))?;
    let room = app
        .store
        .room(invite.room_id)
        .await
        .map_err(not_found("invite"))?;
    if !invite.usable(app.now()) {
        return Err(join_error(StoreError::Conflict("invite_expired")));
    }
    Ok((invite, room))
}

/// Joins through an invite; joining a room one is already in just returns it.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.accept_invite",
    skip_all
)]
pub async fn accept_invite(app: &App, user: UserId, code: &str) -> Result<Room> {
    invite_code(code)?;
    let invite = app.store.invite(code).await.map_err(not_found("invite"))?;
    match app
        .store
        .accept_invite(code, user, app.config.limits.room_max_members, app.now())
        .await
    {
        Ok((_, ev)) => {
            membership(app, invite.room_id, user, true);
            app.publish_events([ev]);
        }
        Err(StoreError::Conflict("member")) => {}
        Err(StoreError::NotFound) => return Err(Error::not_found("invite")),
        Err(e) => return Err(join_error(e)),
    }
    app.store
        .room(invite.room_id)
        .await
        .map_err(not_found("room"))
}

pub fn parse_invite_expiry(seconds: Option<i64>) -> Result<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if (60..=30 * 86400).contains(&s) => Ok(Some(Duration::seconds(s))),
        Some(_) => Err(Error::unprocessable(
            "invalid_expiry",
            "expires_in must be 60 s to 30 days",
        )
        .with_field("expires_in")),
    }
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.block",
    skip_all
)]
pub async fn block(app: &App, user: UserId, target: UserId) -> Result<()> {
    if user == target {
        return Err(Error::unprocessable(
            "invalid_target",
            "you cannot block yourself",
        ));
    }
    app.store
        .user_by_id(target)
        .await
        .map_err(not_found("user"))?;
    Ok(app.store.block_user(user, target, app.now()).await?)
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.rooms.unblock",
    skip_all
)]
pub async fn unblock(app: &App, user: UserId, target: UserId) -> Result<()> {
    Ok(app.store.unblock_user(user, target).await?)
}
