//! The rooms aggregate: groups and DMs, their membership and roles, bans and invites.

use crate::error::StoreResult;
use crate::event::RoomEvent;
use crate::ids::{RoomId, UserId};
use crate::room::{Invitation, Invite, Member, NewGroup, Role, Room, RoomPatch, RoomSummary};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Rooms: Send + Sync {
    // --- rooms -------------------------------------------------------------------------------

    /// Creates a group with its owner as first member; returns the room and the owner's
    /// `member.joined` event (seq 1).
    async fn create_group(&self, new: &NewGroup) -> StoreResult<(Room, RoomEvent)>;
    /// Returns the DM between `a` and `b`, creating it (both members, seq 1 and 2 their
    /// `member.joined`) if there is none. `bool` = created. Concurrent calls create one room.
    async fn open_dm(
        &self,
        id: RoomId,
        a: UserId,
        b: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, bool, Vec<RoomEvent>)>;
    /// A live (not deleted) room; `NotFound` otherwise.
    async fn room(&self, id: RoomId) -> StoreResult<Room>;
    /// Applies the whole patch in one transaction and records one `room.updated` event with
    /// the fields members see (`RoomPatch::changes`; none when only `ai_enabled` changes).
    /// `NotFound` for an unknown or deleted room, before anything is written.
    async fn update_room(
        &self,
        id: RoomId,
        patch: &RoomPatch,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, Option<RoomEvent>)>;
    /// Soft-deletes the room (it disappears for everyone) and records `room.deleted`.
    async fn delete_room(
        &self,
        id: RoomId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// The user's live rooms with unread state and last message, most recent activity first.
    async fn rooms_for_user(&self, user: UserId) -> StoreResult<Vec<RoomSummary>>;

    // --- membership --------------------------------------------------------------------------

    /// The membership of `user` in a live room, if any.
    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>>;
    /// The members of `room` whose usernames are among `usernames` (lowercase, as stored), in
    /// no particular order: mention resolution in one round trip. Unknown names and
    /// non-members are left out.
    async fn members_named(&self, room: RoomId, usernames: &[String]) -> StoreResult<Vec<UserId>>;
    /// [`Rooms::room`] and [`Rooms::member`] together: every room-scoped request asks both, so
    /// an adapter may answer in one round trip (SQLite: one reader job).
    async fn room_and_member(
        &self,
        room: RoomId,
        user: UserId,
    ) -> StoreResult<(Room, Option<Member>)> {
        let r = self.room(room).await?;
        Ok((r, self.member(room, user).await?))
    }
    /// All members of a room, owner first then by join time.
    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>>;
    /// Adds `user` with `role`; records `member.joined` (actor = who added them, or themselves).
    /// `Conflict("member")` if already a member, `Conflict("banned")` if banned,
    /// `Conflict("room_full")` if the room has `max_members` already. The new member's read
    /// marker starts at the join event, so history before it is not unread.
    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)>;
    /// Changes a member's role; records `member.role_changed`. `NotFound` if not a member.
    async fn set_role(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// Makes `to` the owner and `from` an admin, atomically; two `member.role_changed` events.
    /// `Conflict("owner")` when `from == to` (see [`crate::room::check_ownership_transfer`]).
    async fn transfer_ownership(
        &self,
        room: RoomId,
        from: UserId,
        to: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RoomEvent>>;
    /// Removes a member: `member.left` when actor == user, else `member.kicked` (audited with
    /// `reason`). `NotFound` if not a member.
    async fn remove_member(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// Bans `user` (removing them if a member) and records `member.banned` (audited with
    /// `reason`). Idempotent ban of a non-member still records the ban (and the event).
    async fn ban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// Lifts a ban (audited); `NotFound` if there was none. Not history (no seq).
    async fn unban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Mutes a member until `until` (`member.muted`), or lifts a mute when `until` is `None`
    /// (`member.unmuted`); audited with `reason`. `NotFound` if not a member.
    async fn mute(
        &self,
        room: RoomId,
        user: UserId,
        until: Option<DateTime<Utc>>,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    async fn bans(&self, room: RoomId) -> StoreResult<Vec<UserId>>;
    async fn is_banned(&self, room: RoomId, user: UserId) -> StoreResult<bool>;

    // --- invitations (consent to be added) ---------------------------------------------------

    /// Whether `a` and `b` are both members of some live room.
    async fn share_a_room(&self, a: UserId, b: UserId) -> StoreResult<bool>;
    /// Invites `user` to `room` on behalf of `by`. `NotFound` for a missing or deleted room,
    /// `Conflict("member")` if already a member, `Conflict("banned")` if banned,
    /// `Conflict("invited")` if an invitation is already pending.
    async fn invite_member(
        &self,
        room: RoomId,
        user: UserId,
        by: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Invitation>;
    /// `user`'s pending invitations to live rooms, newest first.
    async fn invitations(&self, user: UserId) -> StoreResult<Vec<Invitation>>;
    /// Accepts: the invitation goes and `user` joins (`member.joined` by the inviter), in one
    /// transaction. `NotFound` if there is no such invitation (or the room is gone); the join's
    /// errors as in `add_member` (then the invitation stays).
    async fn accept_invitation(
        &self,
        room: RoomId,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)>;
    /// Declines (removes) an invitation; `NotFound` if there is none.
    async fn decline_invitation(&self, room: RoomId, user: UserId) -> StoreResult<()>;

    // --- invites -----------------------------------------------------------------------------

    async fn create_invite(&self, invite: &Invite) -> StoreResult<()>;
    async fn invite(&self, code: &str) -> StoreResult<Invite>;
    /// Atomically checks the invite is usable at `now`, joins `user` as a member (same errors as
    /// `add_member`, plus `Conflict("invite_expired")` when expired or used up) and counts the
    /// use. Joining a room one is already in is `Conflict("member")` and uses nothing.
    async fn accept_invite(
        &self,
        code: &str,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)>;
}
