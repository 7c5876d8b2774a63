//! Wire types shared by the REST API and the gateway (what goes over the network), kept apart
//! from the domain types so the API can stay stable while the model changes.

use chrono::{DateTime, Utc};
use justus_core::ai::AiPrefs;
use justus_core::session::Session;
use justus_core::user::User;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The caller's own account.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// AI preferences (in `GET/PATCH /users/me`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiPrefsView>,
    /// The avatar's media id (a 512×512 WebP); fetch it from `/api/v1/users/{id}/avatar`.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[schema(required = true)]
    pub avatar: Option<Uuid>,
    /// One of the instance's admins (`ADMIN_USERS`): sees every room's reports and the whole
    /// audit log (in `GET /users/me`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_admin: Option<bool>,
    /// Who may add you to a group without asking (in `GET/PATCH /users/me`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_adds: Option<justus_core::user::GroupAdds>,
}

impl From<&User> for Me {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            username: u.username.as_str().to_owned(),
            display_name: u.display_name.as_str().to_owned(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            created_at: u.created_at,
            updated_at: u.updated_at,
            ai: None,
            instance_admin: None,
            group_adds: None,
            avatar: u.avatar.map(|a| a.0),
        }
    }
}

/// Another user, as anyone signed in may see them.
#[derive(Serialize, ToSchema)]
pub struct PublicUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    /// The avatar's media id (a 512×512 WebP); fetch it from `/api/v1/users/{id}/avatar`.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[schema(required = true)]
    pub avatar: Option<Uuid>,
}

impl From<&User> for PublicUser {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            username: u.username.as_str().to_owned(),
            display_name: u.display_name.as_str().to_owned(),
            avatar: u.avatar.map(|a| a.0),
        }
    }
}

/// A login session (device).
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(required = true)]
    pub ip: Option<String>,
    /// True for the session making this request.
    pub current: bool,
}

impl SessionView {
    pub fn new(s: &Session, current: bool) -> Self {
        Self {
            id: s.id.0,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            user_agent: s.user_agent.clone(),
            ip: s.ip.clone(),
            current,
        }
    }
}

/// Distinguishes "absent" (`None`) from "null" (`Some(None)`) in PATCH bodies.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A room as the caller sees it.
#[derive(Serialize, ToSchema)]
pub struct RoomView {
    pub id: Uuid,
    pub kind: justus_core::room::RoomKind,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub topic: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// Seq of the latest change: compare with what you have to know whether to catch up.
    pub last_seq: i64,
    pub last_activity_at: DateTime<Utc>,
    pub only_admins_post: bool,
    pub member_count: i64,
    /// Groups: the avatar's media id (a 512×512 WebP); fetch it from
    /// `/api/v1/rooms/{id}/avatar`.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[schema(required = true)]
    pub avatar: Option<Uuid>,
    /// Days this room keeps messages, or `null` to follow the server's policy
    /// (`retention_days` of `/api/v1/config`); the shorter of the two applies.
    #[schema(required = true)]
    pub retention_days: Option<i32>,
    /// Seconds a member must wait between two messages (0: no slow mode; admins are exempt).
    pub slow_mode_seconds: i32,
    /// Groups: the least role that may invite (and add people), pin, and mention `@room`.
    pub permissions: justus_core::room::RoomPermissions,
    /// The caller's state (present in lists and single-room reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_role: Option<justus_core::room::Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_seq: Option<i64>,
    /// Unread messages by others (capped at 1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<i64>,
    /// Unread messages mentioning the caller or @room (capped at 1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mentions: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message: Option<justus_core::message::Message>,
    /// DMs: the other participant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dm_peer: Option<PublicUser>,
}

impl RoomView {
    pub fn bare(r: &justus_core::room::Room) -> Self {
        Self {
            id: r.id.0,
            kind: r.kind,
            name: r.name.clone(),
            topic: r.topic.clone(),
            created_by: r.created_by.0,
            created_at: r.created_at,
            last_seq: r.last_seq,
            last_activity_at: r.last_activity_at,
            only_admins_post: r.only_admins_post,
            member_count: r.member_count,
            avatar: r.avatar.map(|a| a.0),
            retention_days: r.retention_days,
            slow_mode_seconds: r.slow_mode_seconds,
            permissions: r.permissions,
            my_role: None,
            read_seq: None,
            unread: None,
            mentions: None,
            last_message: None,
            dm_peer: None,
        }
    }

    pub fn summary(s: justus_core::room::RoomSummary, peer: Option<&User>) -> Self {
        Self {
            my_role: Some(s.my_role),
            read_seq: Some(s.read_seq),
            unread: Some(s.unread),
            mentions: Some(s.mentions),
            last_message: s.last_message,
            dm_peer: peer.map(PublicUser::from),
            ..Self::bare(&s.room)
        }
    }
}

/// A user's AI preferences (in `GET/PATCH /users/me` as `ai`).
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct AiPrefsView {
    /// BCP-47 tag, e.g. `de` or `pt-BR`; null = none chosen.
    #[schema(required = true)]
    pub preferred_language: Option<String>,
    /// Translate incoming messages into `preferred_language` automatically (client side: it
    /// calls the translate endpoint per message; results are cached server-side).
    pub auto_translate: bool,
}

impl From<AiPrefs> for AiPrefsView {
    fn from(p: AiPrefs) -> Self {
        Self {
            preferred_language: p.preferred_language,
            auto_translate: p.auto_translate,
        }
    }
}
