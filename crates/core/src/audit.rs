//! The audit log: every moderation and administrative action — who did it, to whom, why and
//! when. Stores write an entry in the transaction that performs the action (so there is no
//! action without its entry) and never update or delete one; the API only reads them.
//!
//! Which room events are audited, and how, is decided here once ([`entry_for`]): both adapters
//! call it for every event they record.

use crate::error::ValidationError;
use crate::event::{EventKind, RoomEvent};
use crate::ids::{MessageId, RoomId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

pub use crate::ids::AuditId;

/// What was done.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    MemberKicked,
    MemberBanned,
    MemberUnbanned,
    MemberMuted,
    MemberUnmuted,
    RoleChanged,
    RoomUpdated,
    RoomDeleted,
    /// A message removed by someone other than its sender (an admin).
    MessageRemoved,
    /// A retention purge of a room (one entry per batch).
    RetentionPurged,
    /// A report resolved (acted on or dismissed).
    ReportResolved,
    /// An instance admin suspended an account (its sessions ended; it cannot sign in).
    AccountSuspended,
    /// An instance admin lifted a suspension.
    AccountUnsuspended,
    /// An instance admin blocked sign-ups from an address range.
    SignupBlockAdded,
    /// An instance admin lifted a sign-up block.
    SignupBlockRemoved,
}

impl AuditAction {
    pub const ALL: [AuditAction; 15] = [
        AuditAction::MemberKicked,
        AuditAction::MemberBanned,
        AuditAction::MemberUnbanned,
        AuditAction::MemberMuted,
        AuditAction::MemberUnmuted,
        AuditAction::RoleChanged,
        AuditAction::RoomUpdated,
        AuditAction::RoomDeleted,
        AuditAction::MessageRemoved,
        AuditAction::RetentionPurged,
        AuditAction::ReportResolved,
        AuditAction::AccountSuspended,
        AuditAction::AccountUnsuspended,
        AuditAction::SignupBlockAdded,
        AuditAction::SignupBlockRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::MemberKicked => "member_kicked",
            AuditAction::MemberBanned => "member_banned",
            AuditAction::MemberUnbanned => "member_unbanned",
            AuditAction::MemberMuted => "member_muted",
            AuditAction::MemberUnmuted => "member_unmuted",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::RoomUpdated => "room_updated",
            AuditAction::RoomDeleted => "room_deleted",
            AuditAction::MessageRemoved => "message_removed",
            AuditAction::RetentionPurged => "retention_purged",
            AuditAction::ReportResolved => "report_resolved",
            AuditAction::AccountSuspended => "account_suspended",
            AuditAction::AccountUnsuspended => "account_unsuspended",
            AuditAction::SignupBlockAdded => "signup_block_added",
            AuditAction::SignupBlockRemoved => "signup_block_removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One entry of the audit log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: AuditId,
    /// The room acted on (`null` for instance-wide actions).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub room_id: Option<RoomId>,
    /// Who acted; the nil UUID is the server itself (a retention purge).
    pub actor_id: UserId,
    pub action: AuditAction,
    /// The member acted on (kicks, bans, mutes, role changes; the sender of a removed message).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub target_user_id: Option<UserId>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub target_message_id: Option<MessageId>,
    /// The reason the actor gave, if any.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reason: Option<String>,
    /// Action-specific facts: the new role, the room's changed fields, a mute's end, a purge's
    /// count.
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

impl AuditEntry {
    pub fn new(
        room_id: Option<RoomId>,
        actor_id: UserId,
        action: AuditAction,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: AuditId::new(),
            room_id,
            actor_id,
            action,
            target_user_id: None,
            target_message_id: None,
            reason: None,
            details: None,
            created_at,
        }
    }
}

/// The audit entry a recorded room event calls for, if any; `reason` is the actor's.
///
/// Leaving, joining, messages, reactions and pins are not moderation. A message deleted by its
/// own sender is not either; one deleted by anyone else is (by the server: a retention purge,
/// audited once per batch by the purge, not once per message). A `message.deleted` event is
/// judged with its `message` loaded (the sender decides), so stores that record the event
/// before loading the message call this again on the loaded event.
pub fn entry_for(ev: &RoomEvent, reason: Option<&str>) -> Option<AuditEntry> {
    let action = match ev.kind {
        EventKind::MemberKicked => AuditAction::MemberKicked,
        EventKind::MemberBanned => AuditAction::MemberBanned,
        EventKind::MemberMuted => AuditAction::MemberMuted,
        EventKind::MemberUnmuted => AuditAction::MemberUnmuted,
        EventKind::MemberRoleChanged => AuditAction::RoleChanged,
        EventKind::RoomUpdated => AuditAction::RoomUpdated,
        EventKind::RoomDeleted => AuditAction::RoomDeleted,
        // Decided on the event carrying its message (who sent it): without it, nothing.
        EventKind::MessageDeleted => {
            let sender = ev.message.as_ref()?.sender_id;
            if ev.actor_id == UserId::SERVER || sender == ev.actor_id {
                return None;
            }
            AuditAction::MessageRemoved
        }
        _ => return None,
    };
    let mut entry = AuditEntry::new(Some(ev.room_id), ev.actor_id, action, ev.created_at);
    entry.reason = reason.map(str::to_owned);
    entry.target_message_id = ev.message_id;
    entry.target_user_id = match ev.kind {
        EventKind::MessageDeleted => ev.message.as_ref().map(|m| m.sender_id),
        _ => ev.user_id,
    };
    entry.details = match ev.kind {
        EventKind::MemberRoleChanged => ev.role.map(|r| serde_json::json!({ "role": r })),
        EventKind::RoomUpdated => ev
            .changes
            .as_ref()
            .and_then(|c| serde_json::to_value(c).ok()),
        EventKind::MemberMuted => ev.muted_until.map(|t| serde_json::json!({ "until": t })),
        _ => None,
    };
    Some(entry)
}

/// The entry lifting a ban leaves (unbans take no seq, so no room event carries them).
pub fn unbanned(
    room: RoomId,
    user: UserId,
    actor: UserId,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AuditEntry {
    let mut entry = AuditEntry::new(Some(room), actor, AuditAction::MemberUnbanned, now);
    entry.target_user_id = Some(user);
    entry.reason = reason;
    entry
}

/// The entry one batch of a retention purge leaves: how many messages, up to which seq.
pub fn purged(room: RoomId, messages: u64, through_seq: i64, now: DateTime<Utc>) -> AuditEntry {
    let mut entry = AuditEntry::new(
        Some(room),
        UserId::SERVER,
        AuditAction::RetentionPurged,
        now,
    );
    entry.details = Some(serde_json::json!({ "messages": messages, "through_seq": through_seq }));
    entry
}

/// The entry resolving a report leaves: about the reported person and message, with the
/// report and its outcome; the moderator's note is its reason.
pub fn report_resolved(
    report: &crate::report::Report,
    outcome: crate::report::ReportStatus,
    by: UserId,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AuditEntry {
    let mut entry = AuditEntry::new(Some(report.room_id), by, AuditAction::ReportResolved, now);
    entry.reason = note.map(str::to_owned);
    entry.target_user_id = Some(report.target_user_id);
    entry.target_message_id = report.message_id;
    entry.details = Some(serde_json::json!({
        "report_id": report.id,
        "outcome": outcome.as_str(),
        "reporter_id": report.reporter_id,
    }));
    entry
}

/// The entry suspending (`suspended`) or reinstating an account leaves (instance-wide: no
/// room).
pub fn account_suspension(
    user: UserId,
    suspended: bool,
    actor: UserId,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AuditEntry {
    let action = if suspended {
        AuditAction::AccountSuspended
    } else {
        AuditAction::AccountUnsuspended
    };
    let mut entry = AuditEntry::new(None, actor, action, now);
    entry.target_user_id = Some(user);
    entry.reason = reason;
    entry
}

/// The entry adding (`added`) or lifting a sign-up block leaves: the range and the block's id.
pub fn signup_block(
    block: &crate::instance_ban::SignupBlock,
    added: bool,
    actor: UserId,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AuditEntry {
    let action = if added {
        AuditAction::SignupBlockAdded
    } else {
        AuditAction::SignupBlockRemoved
    };
    let mut entry = AuditEntry::new(None, actor, action, now);
    entry.reason = reason;
    entry.details = Some(serde_json::json!({ "block_id": block.id, "cidr": block.cidr }));
    entry
}

/// The longest reason a moderator may give.
pub const MAX_REASON_CHARS: usize = 500;

/// A moderator's reason: trimmed, NFC, at most [`MAX_REASON_CHARS`] characters, no control
/// characters but newlines; empty means none.
pub fn parse_reason(raw: &str) -> Result<Option<String>, ValidationError> {
    let s: String = raw.trim().nfc().collect();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > MAX_REASON_CHARS {
        return Err(ValidationError::new(
            "reason",
            "too_long",
            "a reason must be at most 500 characters",
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::new(
            "reason",
            "invalid_characters",
            "a reason must not contain control characters",
        ));
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::room::Role;

    fn ev(kind: EventKind, actor: UserId) -> RoomEvent {
        RoomEvent::new(RoomId::new(), 3, kind, actor, Utc::now())
    }

    fn deleted(actor: UserId, sender: UserId) -> RoomEvent {
        let mut e = ev(EventKind::MessageDeleted, actor);
        let m = Message {
            id: MessageId::new(),
            room_id: e.room_id,
            seq: 2,
            sender_id: sender,
            client_id: "c".into(),
            body: String::new(),
            reply_to: None,
            forwarded: None,
            mentions: vec![],
            mentions_room: false,
            pinned: false,
            reactions: vec![],
            created_at: Utc::now(),
            edited_at: None,
            deleted_at: Some(Utc::now()),
            deleted_by: None,
            attachments: vec![],
        };
        e.message_id = Some(m.id);
        e.message = Some(m);
        e
    }

    #[test]
    fn moderation_events_are_audited_and_conversation_is_not() {
        let (admin, bob) = (UserId::new(), UserId::new());
        for kind in [
            EventKind::MessageCreated,
            EventKind::MessageEdited,
            EventKind::ReactionAdded,
            EventKind::MessagePinned,
            EventKind::MemberJoined,
            EventKind::MemberLeft,
        ] {
            assert!(entry_for(&ev(kind, admin), None).is_none(), "{kind:?}");
        }
        let mut kick = ev(EventKind::MemberKicked, admin);
        kick.user_id = Some(bob);
        let e = entry_for(&kick, Some("spam")).expect("audited");
        assert_eq!(e.action, AuditAction::MemberKicked);
        assert_eq!(e.actor_id, admin);
        assert_eq!(e.target_user_id, Some(bob));
        assert_eq!(e.reason.as_deref(), Some("spam"));
        assert_eq!(e.room_id, Some(kick.room_id));

        let mut promote = ev(EventKind::MemberRoleChanged, admin);
        promote.user_id = Some(bob);
        promote.role = Some(Role::Admin);
        let e = entry_for(&promote, None).expect("audited");
        assert_eq!(e.details, Some(serde_json::json!({ "role": "admin" })));
    }

    #[test]
    fn only_someone_elses_deletion_is_a_removal() {
        let (admin, bob) = (UserId::new(), UserId::new());
        assert!(entry_for(&deleted(bob, bob), None).is_none(), "own message");
        let mut bare = deleted(admin, bob);
        bare.message = None;
        assert!(
            entry_for(&bare, None).is_none(),
            "judged only with the message"
        );
        assert!(
            entry_for(&deleted(UserId::SERVER, bob), None).is_none(),
            "purges are audited per batch"
        );
        let e = entry_for(&deleted(admin, bob), Some("off topic")).expect("audited");
        assert_eq!(e.action, AuditAction::MessageRemoved);
        assert_eq!(e.target_user_id, Some(bob));
        assert!(e.target_message_id.is_some());
    }

    #[test]
    fn reasons() {
        assert_eq!(parse_reason("  "), Ok(None));
        assert_eq!(
            parse_reason(" spam\n again "),
            Ok(Some("spam\n again".into()))
        );
        assert!(parse_reason(&"x".repeat(501)).is_err());
        assert!(parse_reason("a\u{7}b").is_err());
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
    }
}
