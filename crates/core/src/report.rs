//! Reports: a member flags a message or a person to the room's admins (and the instance's);
//! someone who may act resolves it, saying whether action was taken; the reporter sees the
//! outcome. Who may see and resolve which report is decided here ([`can_handle`]).

use crate::error::ValidationError;
use crate::ids::{MessageId, ReportId, RoomId, UserId};
use crate::room::{Role, RoomKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Where a report stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Open,
    /// Resolved, and the moderator acted (removed the message, muted, kicked or banned…).
    ActionTaken,
    /// Resolved without action.
    Dismissed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::ActionTaken => "action_taken",
            ReportStatus::Dismissed => "dismissed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            ReportStatus::Open,
            ReportStatus::ActionTaken,
            ReportStatus::Dismissed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A report as stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub id: ReportId,
    pub reporter_id: UserId,
    /// The room it happened in.
    pub room_id: RoomId,
    /// The message reported, if it is about one.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub message_id: Option<MessageId>,
    /// The person reported (the message's sender for a message).
    pub target_user_id: UserId,
    pub reason: String,
    /// The message's text when it was reported, so a later edit or deletion cannot hide it from
    /// the moderators (empty for a person, or a message with only attachments).
    pub excerpt: String,
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub resolved_by: Option<UserId>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The moderator's note to the reporter.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub resolution_note: Option<String>,
}

/// The longest report reason and moderator note.
pub const MAX_REPORT_TEXT: usize = 1000;
/// How much of a reported message's text a report keeps.
pub const MAX_EXCERPT: usize = 4000;

/// A report's reason (required) or a moderator's note: trimmed, NFC, 1000 characters at most,
/// newlines but no other control characters.
pub fn parse_report_text(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    let s: String = raw.trim().nfc().collect();
    if s.chars().count() > MAX_REPORT_TEXT {
        return Err(ValidationError::new(
            field,
            "too_long",
            "at most 1000 characters",
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::new(
            field,
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(s)
}

/// A message's text as a report keeps it: at most [`MAX_EXCERPT`] characters.
pub fn excerpt(body: &str) -> String {
    body.chars().take(MAX_EXCERPT).collect()
}

/// Whether someone may see and resolve a report made in a room of `kind`: instance admins
/// always; the room's admins and owner for a group — but never about themselves. Reports in a
/// DM go to instance admins only (a DM has no admins).
pub fn can_handle(
    kind: RoomKind,
    role: Option<Role>,
    instance_admin: bool,
    report: &Report,
    who: UserId,
) -> bool {
    if report.target_user_id == who {
        return false;
    }
    instance_admin || (kind == RoomKind::Group && role.is_some_and(|r| r >= Role::Admin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(target: UserId) -> Report {
        Report {
            id: ReportId::new(),
            reporter_id: UserId::new(),
            room_id: RoomId::new(),
            message_id: None,
            target_user_id: target,
            reason: "spam".into(),
            excerpt: String::new(),
            status: ReportStatus::Open,
            created_at: Utc::now(),
            resolved_by: None,
            resolved_at: None,
            resolution_note: None,
        }
    }

    #[test]
    fn who_handles_a_report() {
        let (me, them) = (UserId::new(), UserId::new());
        let r = report(them);
        assert!(can_handle(
            RoomKind::Group,
            Some(Role::Admin),
            false,
            &r,
            me
        ));
        assert!(can_handle(
            RoomKind::Group,
            Some(Role::Owner),
            false,
            &r,
            me
        ));
        assert!(!can_handle(
            RoomKind::Group,
            Some(Role::Member),
            false,
            &r,
            me
        ));
        assert!(!can_handle(RoomKind::Group, None, false, &r, me));
        assert!(
            !can_handle(RoomKind::Dm, Some(Role::Member), false, &r, me),
            "DMs go to instance admins only"
        );
        assert!(can_handle(RoomKind::Dm, None, true, &r, me));
        assert!(
            !can_handle(RoomKind::Group, Some(Role::Owner), true, &report(me), me),
            "nobody judges a report about themselves"
        );
    }

    #[test]
    fn texts() {
        assert_eq!(parse_report_text("reason", "  spam \n"), Ok("spam".into()));
        assert!(parse_report_text("reason", &"x".repeat(1001)).is_err());
        assert!(parse_report_text("reason", "a\u{1b}b").is_err());
        assert_eq!(excerpt(&"é".repeat(5000)).chars().count(), MAX_EXCERPT);
        for s in [
            ReportStatus::Open,
            ReportStatus::ActionTaken,
            ReportStatus::Dismissed,
        ] {
            assert_eq!(ReportStatus::parse(s.as_str()), Some(s));
        }
    }
}
