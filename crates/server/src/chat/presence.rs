//! Ephemeral signals about members, shared by every transport: typing in a room, and presence
//! (a user's status, recorded in this process's registry and announced to the members of the
//! user's rooms on every instance). The checks and the publishing happen here; the gateway only
//! parses and answers, and says when a user's first socket opened or the last one has been gone
//! for the grace period (sockets are the gateway's to count).

use super::member_access;
use crate::error::{Error, Result};
use crate::presence::{IDLE, OFFLINE, ONLINE};
use crate::state::App;
use justus_core::bus::{BusMessage, Ephemeral};
use justus_core::{RoomId, UserId};

/// `user` started (or stopped) typing in a room they are a member of.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.presence.typing",
    skip_all
)]
pub async fn typing(app: &App, user: UserId, room_id: RoomId, active: bool) -> Result<()> {
    member_access(app, room_id, user).await?;
    app.bus.publish(BusMessage::Ephemeral(Ephemeral::Typing {
        room_id,
        user_id: user,
        active,
    }));
    Ok(())
}

/// `user` chose a status, `online` or `idle`.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.presence.set_status",
    skip_all
)]
pub async fn set_status(app: &App, user: UserId, status: &str) -> Result<()> {
    if !matches!(status, ONLINE | IDLE) {
        return Err(Error::unprocessable(
            "invalid_status",
            "status must be online or idle",
        ));
    }
    app.presence.set_local(user, Some(status));
    announce(app, user, status).await;
    Ok(())
}

/// `user`'s first socket on this process opened, subscribed to `rooms`: online.
pub fn came_online(app: &App, user: UserId, rooms: Vec<RoomId>) {
    app.presence.set_local(user, Some(ONLINE));
    announce_in(app, user, ONLINE, rooms);
}

/// `user` has had no socket on this process for the grace period: offline.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.presence.went_offline",
    skip_all
)]
pub async fn went_offline(app: &App, user: UserId) {
    app.presence.set_local(user, None);
    // "Last seen" is when the last socket went; best-effort, like presence itself.
    if let Err(e) = app.store.set_last_seen(user, app.now()).await {
        tracing::debug!(error = %e, "last seen not recorded");
    }
    announce(app, user, OFFLINE).await;
}

/// Announces `status` to the members of all of `user`'s rooms. Best-effort, like presence
/// itself: if the rooms cannot be read, nothing is announced.
async fn announce(app: &App, user: UserId, status: &str) {
    match app.store.rooms_for_user(user).await {
        Ok(rooms) => announce_in(
            app,
            user,
            status,
            rooms.into_iter().map(|s| s.room.id).collect(),
        ),
        Err(e) => tracing::debug!(error = %e, "presence not published"),
    }
}

/// Announces `status` to the members of `rooms` on every instance.
fn announce_in(app: &App, user: UserId, status: &str, rooms: Vec<RoomId>) {
    app.bus.publish(BusMessage::Ephemeral(Ephemeral::Presence {
        user_id: user,
        status: status.to_owned(),
        rooms,
        origin: app.instance,
    }));
}

/// Tells everyone who shares a room with `user` (and `user`'s other devices) their new name
/// and picture. Best-effort like presence: clients also read profiles on every reconnect.
pub async fn profile_changed(app: &App, user: &justus_core::user::User) {
    match app.store.rooms_for_user(user.id).await {
        Ok(rooms) => app
            .bus
            .publish(BusMessage::Ephemeral(Ephemeral::UserUpdated {
                user_id: user.id,
                username: user.username.as_str().to_owned(),
                display_name: user.display_name.as_str().to_owned(),
                avatar: user.avatar,
                rooms: rooms.into_iter().map(|s| s.room.id).collect(),
            })),
        Err(e) => tracing::debug!(error = %e, "profile change not published"),
    }
}
