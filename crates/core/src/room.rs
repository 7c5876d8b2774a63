//! Rooms (DMs and groups), membership, roles, invites, and the permission rules.
//!
//! Permissions are pure functions of (room, caller's role, action): the HTTP and gateway layers
//! ask [`can`] and [`can_manage`] before every operation, so the rules live in one place.

use crate::error::{StoreError, ValidationError};
use crate::event::RoomChanges;
use crate::ids::{MediaId, RoomId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    Dm,
    Group,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Dm => "dm",
            RoomKind::Group => "group",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dm" => Some(RoomKind::Dm),
            "group" => Some(RoomKind::Group),
            _ => None,
        }
    }
}

/// Ordered: `Member < Admin < Owner`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// A room as stored. `last_seq` is the seq of its latest history change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Room {
    pub id: RoomId,
    pub kind: RoomKind,
    /// Groups only.
    pub name: Option<String>,
    pub topic: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seq: i64,
    pub last_activity_at: DateTime<Utc>,
    /// Only admins and the owner may post.
    pub only_admins_post: bool,
    pub member_count: i64,
    /// Groups only: the room picture, a 512×512 WebP media record (see [`crate::avatar`]).
    pub avatar: Option<crate::ids::MediaId>,
    /// Messages older than this many days are purged; `None`: the instance's policy
    /// (see [`effective_retention_days`]).
    pub retention_days: Option<i32>,
    /// Seconds a member (not an admin) must wait between two messages; 0: no slow mode.
    pub slow_mode_seconds: i32,
    /// The least role that may invite, pin and mention `@room` (groups; admins by default).
    pub permissions: RoomPermissions,
}

/// Per-room permissions beyond the three roles: for each action, the least role that may do
/// it. Who may post stays [`Room::only_admins_post`]; managing members (kick, ban, mute) stays
/// with admins, since it needs rank over the target.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPermissions {
    /// Add people and create invite links.
    pub invite: Role,
    /// Pin and unpin messages.
    pub pin: Role,
    /// Mention `@room` (notifies everyone).
    pub mention_room: Role,
}

impl Default for RoomPermissions {
    /// Today's rules: admins and the owner.
    fn default() -> Self {
        Self {
            invite: Role::Admin,
            pin: Role::Admin,
            mention_room: Role::Admin,
        }
    }
}

/// A partial change of [`RoomPermissions`]; absent fields stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention_room: Option<Role>,
}

impl PermissionsPatch {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `current` with this patch applied.
    pub fn apply(&self, current: RoomPermissions) -> RoomPermissions {
        RoomPermissions {
            invite: self.invite.unwrap_or(current.invite),
            pin: self.pin.unwrap_or(current.pin),
            mention_room: self.mention_room.unwrap_or(current.mention_room),
        }
    }

    /// Whether `actor` may make this change to `current`: nobody hands out or takes back a
    /// power above their own rank (an admin cannot reserve pinning to the owner, nor open up
    /// what the owner reserved), as with roles ([`can_set_role`]).
    pub fn allowed_for(&self, actor: Role, current: RoomPermissions) -> bool {
        [
            (self.invite, current.invite),
            (self.pin, current.pin),
            (self.mention_room, current.mention_room),
        ]
        .into_iter()
        .all(|(to, was)| to.is_none_or(|to| to == was || (to <= actor && was <= actor)))
    }
}

/// Longest slow mode: six hours, as in the big team chats.
pub const MAX_SLOW_MODE_SECONDS: i64 = 21_600;

/// A room's slow mode in seconds: 0 (off) to [`MAX_SLOW_MODE_SECONDS`].
pub fn parse_slow_mode(seconds: i64) -> Result<i32, ValidationError> {
    if (0..=MAX_SLOW_MODE_SECONDS).contains(&seconds) {
        Ok(seconds as i32)
    } else {
        Err(ValidationError::new(
            "slow_mode_seconds",
            "out_of_range",
            "slow mode must be between 0 (off) and 21600 seconds",
        ))
    }
}

/// Longest mute: a year; longer is a ban.
pub const MAX_MUTE_MINUTES: i64 = 525_600;

/// A mute's length in minutes: 1 to [`MAX_MUTE_MINUTES`].
pub fn parse_mute_minutes(minutes: i64) -> Result<chrono::Duration, ValidationError> {
    if (1..=MAX_MUTE_MINUTES).contains(&minutes) {
        Ok(chrono::Duration::minutes(minutes))
    } else {
        Err(ValidationError::new(
            "minutes",
            "out_of_range",
            "a mute lasts 1 minute to 365 days",
        ))
    }
}

/// Longest per-room retention: a hundred years.
pub const MAX_RETENTION_DAYS: i64 = 36_500;

/// A room's retention in days: 1 to [`MAX_RETENTION_DAYS`].
pub fn parse_retention_days(days: i64) -> Result<i32, ValidationError> {
    if (1..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(days as i32)
    } else {
        Err(ValidationError::new(
            "retention_days",
            "out_of_range",
            "retention must be between 1 and 36500 days (or null for the server's policy)",
        ))
    }
}

/// How long a room keeps messages: the shorter of its own retention and the instance's
/// (`instance_days`, 0 = forever); `None` when both keep them forever. A room may keep less
/// than the instance, never more: the instance's policy is the operator's promise.
pub fn effective_retention_days(room: Option<i32>, instance_days: u32) -> Option<u32> {
    let room = room.and_then(|d| u32::try_from(d).ok()).filter(|d| *d > 0);
    let instance = (instance_days > 0).then_some(instance_days);
    match (room, instance) {
        (Some(r), Some(i)) => Some(r.min(i)),
        (r, i) => r.or(i),
    }
}

/// Room name: 1–100 characters, NFC, trimmed, no control characters. Display text only.
pub fn parse_room_name(raw: &str) -> Result<String, ValidationError> {
    let s: String = raw.trim().nfc().collect();
    if s.is_empty() {
        return Err(ValidationError::new(
            "name",
            "required",
            "room name must not be empty",
        ));
    }
    if s.chars().count() > 100 {
        return Err(ValidationError::new(
            "name",
            "too_long",
            "room name must be at most 100 characters",
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "name",
            "invalid_characters",
            "room name must not contain control characters",
        ));
    }
    Ok(s)
}

/// Topic: up to 1,000 characters; newlines allowed, other control characters not.
pub fn parse_topic(raw: &str) -> Result<Option<String>, ValidationError> {
    let s: String = raw.trim().nfc().collect();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > 1000 {
        return Err(ValidationError::new(
            "topic",
            "too_long",
            "topic must be at most 1000 characters",
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::new(
            "topic",
            "invalid_characters",
            "topic must not contain control characters",
        ));
    }
    Ok(Some(s))
}

/// A member of a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// Highest seq the member has read (their read marker).
    pub read_seq: i64,
    /// Muted (timed out) by an admin until then: no posting, reacting or editing.
    pub muted_until: Option<DateTime<Utc>>,
}

impl Member {
    /// Whether the member is muted at `now`.
    pub fn is_muted(&self, now: DateTime<Utc>) -> bool {
        self.muted_until.is_some_and(|until| now < until)
    }
}

/// Input for a new group.
#[derive(Clone, Debug)]
pub struct NewGroup {
    pub id: RoomId,
    pub name: String,
    pub topic: Option<String>,
    pub owner: UserId,
    pub now: DateTime<Utc>,
}

/// A partial room update, applied in one commit; `topic: Some(None)` clears the topic,
/// `avatar: Some(None)` removes the avatar.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomPatch {
    pub name: Option<String>,
    pub topic: Option<Option<String>>,
    pub only_admins_post: Option<bool>,
    /// A media record already made for the purpose (cropped and scaled), or `None` to remove.
    pub avatar: Option<Option<MediaId>>,
    /// Whether opt-in AI is on in the room (members learn it from the bot joining or leaving,
    /// so it is not part of the `room.updated` event).
    pub ai_enabled: Option<bool>,
    /// Days to keep messages; `Some(None)` returns to the instance's policy.
    pub retention_days: Option<Option<i32>>,
    pub slow_mode_seconds: Option<i32>,
    pub permissions: PermissionsPatch,
}

impl RoomPatch {
    pub fn is_empty(&self) -> bool {
        self.changes().is_none() && self.ai_enabled.is_none()
    }

    /// What the `room.updated` event announces, or `None` when nothing members see changes
    /// (then no event is recorded and no seq is spent).
    pub fn changes(&self) -> Option<RoomChanges> {
        let changes = RoomChanges {
            name: self.name.clone(),
            topic: self.topic.clone(),
            only_admins_post: self.only_admins_post,
            avatar: self.avatar,
            retention_days: self.retention_days,
            slow_mode_seconds: self.slow_mode_seconds,
            permissions: (!self.permissions.is_empty()).then_some(self.permissions),
        };
        (changes != RoomChanges::default()).then_some(changes)
    }
}

/// A pending invitation of a user to a group: an add their [`crate::user::GroupAdds`] did not
/// allow, waiting for them to accept or decline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// An invite code to a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invite {
    pub code: String,
    pub room_id: RoomId,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_uses: Option<i64>,
    pub uses: i64,
}

/// Whether `code` could be an invite code at all (URL-safe base64, at most 64 characters):
/// anything else is "no such invite" before a store is asked (a NUL byte, say, is not even a
/// valid PostgreSQL string).
pub fn is_invite_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Invite {
    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|e| now < e) && self.max_uses.is_none_or(|m| self.uses < m)
    }
}

/// The caller's view of a room in their list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSummary {
    pub room: Room,
    pub my_role: Role,
    pub read_seq: i64,
    /// Messages by others after the read marker (capped at [`UNREAD_CAP`]).
    pub unread: i64,
    /// Unread messages that mention the caller or `@room` (capped).
    pub mentions: i64,
    pub last_message: Option<crate::message::Message>,
    /// For DMs: the other participant.
    pub dm_peer: Option<UserId>,
}

/// Counting beyond this is wasted work: clients show "999+".
pub const UNREAD_CAP: i64 = 1000;

/// Everything a member may try to do in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Post,
    React,
    Invite,
    AddMember,
    Kick,
    Ban,
    /// Time a member out (no posting, reacting or editing for a while).
    Mute,
    /// Read the room's audit log.
    ViewAudit,
    /// See and resolve the room's reports.
    HandleReports,
    Pin,
    DeleteOthersMessages,
    EditRoom,
    MentionRoom,
    ChangeRoles,
    TransferOwnership,
    DeleteRoom,
    Leave,
}

/// Whether `role` may perform `action` in `room`. Acting on another member additionally needs
/// [`can_manage`].
pub fn can(room: &Room, role: Role, action: Action) -> bool {
    use Action::*;
    if room.kind == RoomKind::Dm {
        // A DM is between two equals: talk, react, pin, read. No one manages it.
        return matches!(action, Read | Post | React | Pin);
    }
    match action {
        Read | React | Leave => true,
        Post => !room.only_admins_post || role >= Role::Admin,
        Invite | AddMember => role >= room.permissions.invite,
        Pin => role >= room.permissions.pin,
        MentionRoom => role >= room.permissions.mention_room,
        Kick | Ban | Mute | ViewAudit | HandleReports | DeleteOthersMessages | EditRoom => {
            role >= Role::Admin
        }
        ChangeRoles => role == Role::Owner,
        TransferOwnership | DeleteRoom => role == Role::Owner,
    }
}

/// How long `role` must wait between messages in `room`: its slow mode, which admins and the
/// owner are exempt from (they moderate the conversation the slow mode calms).
pub fn slow_mode_for(room: &Room, role: Role) -> Option<std::time::Duration> {
    (room.slow_mode_seconds > 0 && role < Role::Admin)
        .then(|| std::time::Duration::from_secs(room.slow_mode_seconds as u64))
}

/// Whether `actor` may kick, ban or change the role of `target`: only members of strictly lower
/// rank (an admin cannot kick another admin; nobody can act on the owner).
pub fn can_manage(actor: Role, target: Role) -> bool {
    actor > target
}

/// Whether `actor` may change `target`'s role from `target_current` to `to`: the actor must
/// outrank both the current and the new role, so in practice only the owner promotes and
/// demotes admins. Ownership moves only through a transfer.
pub fn can_set_role(actor: Role, target_current: Role, to: Role) -> bool {
    to != Role::Owner && can_manage(actor, target_current) && to < actor
}

/// Refuses an ownership transfer to the current owner: the demotion that follows the promotion
/// would leave the room without an owner. Both stores check it inside `transfer_ownership`.
pub fn check_ownership_transfer(from: UserId, to: UserId) -> Result<(), StoreError> {
    if from == to {
        return Err(StoreError::Conflict("owner"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_keeps_the_shorter_of_its_retention_and_the_instances() {
        assert_eq!(effective_retention_days(None, 0), None, "forever");
        assert_eq!(effective_retention_days(None, 90), Some(90));
        assert_eq!(effective_retention_days(Some(30), 0), Some(30));
        assert_eq!(effective_retention_days(Some(30), 90), Some(30));
        assert_eq!(
            effective_retention_days(Some(365), 90),
            Some(90),
            "never longer than the instance promises"
        );
        assert_eq!(effective_retention_days(Some(0), 0), None);
        assert_eq!(effective_retention_days(Some(-5), 7), Some(7));
        assert!(parse_retention_days(0).is_err());
        assert!(parse_retention_days(MAX_RETENTION_DAYS + 1).is_err());
        assert_eq!(parse_retention_days(30), Ok(30));
    }

    fn room(kind: RoomKind, only_admins_post: bool) -> Room {
        Room {
            id: RoomId::new(),
            kind,
            name: Some("r".into()),
            topic: None,
            created_by: UserId::new(),
            created_at: Utc::now(),
            last_seq: 0,
            last_activity_at: Utc::now(),
            only_admins_post,
            member_count: 2,
            avatar: None,
            retention_days: None,
            slow_mode_seconds: 0,
            permissions: RoomPermissions::default(),
        }
    }

    #[test]
    fn invite_codes_are_url_safe_base64() {
        assert!(is_invite_code("AbC-_09xyz"));
        for bad in ["", "a b", "a/b", "a\0b", "ü", &"a".repeat(65)] {
            assert!(!is_invite_code(bad), "{bad:?}");
        }
    }

    #[test]
    fn per_room_permissions_open_or_reserve_actions() {
        let mut g = room(RoomKind::Group, false);
        assert!(!can(&g, Role::Member, Action::Pin));
        assert!(!can(&g, Role::Member, Action::Invite));
        g.permissions = PermissionsPatch {
            pin: Some(Role::Member),
            invite: Some(Role::Member),
            mention_room: Some(Role::Owner),
        }
        .apply(g.permissions);
        assert!(can(&g, Role::Member, Action::Pin));
        assert!(can(&g, Role::Member, Action::Invite) && can(&g, Role::Member, Action::AddMember));
        assert!(!can(&g, Role::Admin, Action::MentionRoom));
        assert!(can(&g, Role::Owner, Action::MentionRoom));
        assert!(
            !can(&g, Role::Member, Action::Kick),
            "managing members stays with admins"
        );
        // A DM is unchanged by any setting.
        let mut dm = room(RoomKind::Dm, false);
        dm.permissions.invite = Role::Member;
        assert!(!can(&dm, Role::Member, Action::Invite));
    }

    #[test]
    fn nobody_hands_out_or_takes_back_more_than_their_rank() {
        let defaults = RoomPermissions::default();
        let to = |r| PermissionsPatch {
            pin: Some(r),
            ..Default::default()
        };
        assert!(to(Role::Member).allowed_for(Role::Admin, defaults));
        assert!(
            !to(Role::Owner).allowed_for(Role::Admin, defaults),
            "above the admin"
        );
        assert!(to(Role::Owner).allowed_for(Role::Owner, defaults));
        let reserved = to(Role::Owner).apply(defaults);
        assert!(
            !to(Role::Member).allowed_for(Role::Admin, reserved),
            "the owner's reserve"
        );
        assert!(
            to(Role::Owner).allowed_for(Role::Admin, reserved),
            "no change is allowed"
        );
        assert!(PermissionsPatch::default().allowed_for(Role::Member, reserved));
    }

    #[test]
    fn group_permissions_by_role() {
        let g = room(RoomKind::Group, false);
        assert!(can(&g, Role::Member, Action::Post));
        assert!(!can(&g, Role::Member, Action::Kick));
        assert!(!can(&g, Role::Member, Action::Pin));
        assert!(can(&g, Role::Admin, Action::Kick));
        assert!(can(&g, Role::Admin, Action::Mute) && !can(&g, Role::Member, Action::Mute));
        assert!(can(&g, Role::Admin, Action::ViewAudit));
        assert!(!can(&g, Role::Member, Action::ViewAudit));
        assert!(!can(&g, Role::Admin, Action::DeleteRoom));
        assert!(can(&g, Role::Owner, Action::DeleteRoom));
        let announce = room(RoomKind::Group, true);
        assert!(!can(&announce, Role::Member, Action::Post));
        assert!(can(&announce, Role::Admin, Action::Post));
    }

    #[test]
    fn slow_mode_spares_admins() {
        let mut g = room(RoomKind::Group, false);
        assert_eq!(slow_mode_for(&g, Role::Member), None, "off");
        g.slow_mode_seconds = 30;
        assert_eq!(
            slow_mode_for(&g, Role::Member),
            Some(std::time::Duration::from_secs(30))
        );
        assert_eq!(slow_mode_for(&g, Role::Admin), None);
        assert_eq!(slow_mode_for(&g, Role::Owner), None);
        assert!(parse_slow_mode(-1).is_err() && parse_slow_mode(21_601).is_err());
        assert_eq!(parse_slow_mode(0), Ok(0));
        assert!(parse_mute_minutes(0).is_err() && parse_mute_minutes(60).is_ok());
    }

    #[test]
    fn dms_are_unmanaged() {
        let dm = room(RoomKind::Dm, false);
        for action in [
            Action::Invite,
            Action::Kick,
            Action::Ban,
            Action::Mute,
            Action::ViewAudit,
            Action::HandleReports,
            Action::EditRoom,
            Action::DeleteRoom,
            Action::Leave,
        ] {
            assert!(!can(&dm, Role::Member, action), "{action:?}");
        }
        assert!(can(&dm, Role::Member, Action::Post));
    }

    #[test]
    fn rank_rules() {
        assert!(can_manage(Role::Owner, Role::Admin));
        assert!(can_manage(Role::Admin, Role::Member));
        assert!(!can_manage(Role::Admin, Role::Admin));
        assert!(!can_manage(Role::Admin, Role::Owner));
        assert!(can_set_role(Role::Owner, Role::Member, Role::Admin));
        assert!(can_set_role(Role::Owner, Role::Admin, Role::Member));
        assert!(
            !can_set_role(Role::Admin, Role::Member, Role::Admin),
            "admins cannot mint admins"
        );
        assert!(
            !can_set_role(Role::Owner, Role::Admin, Role::Owner),
            "ownership moves by transfer"
        );
    }

    #[test]
    fn names_and_topics() {
        assert_eq!(parse_room_name("  Team  ").unwrap(), "Team");
        assert!(parse_room_name("").is_err());
        assert!(parse_room_name(&"x".repeat(101)).is_err());
        assert_eq!(parse_topic("  ").unwrap(), None);
        assert!(parse_topic("a\u{0000}b").is_err());
    }

    #[test]
    fn ownership_is_not_transferred_to_oneself() {
        let (owner, heir) = (UserId::new(), UserId::new());
        assert!(check_ownership_transfer(owner, heir).is_ok());
        assert!(matches!(
            check_ownership_transfer(owner, owner),
            Err(StoreError::Conflict("owner"))
        ));
    }

    #[test]
    fn invite_usability() {
        let now = Utc::now();
        let mut i = Invite {
            code: "c".into(),
            room_id: RoomId::new(),
            created_by: UserId::new(),
            created_at: now,
            expires_at: Some(now + chrono::Duration::hours(1)),
            max_uses: Some(2),
            uses: 1,
        };
        assert!(i.usable(now));
        i.uses = 2;
        assert!(!i.usable(now));
        i.uses = 0;
        assert!(!i.usable(now + chrono::Duration::hours(2)));
    }
}
