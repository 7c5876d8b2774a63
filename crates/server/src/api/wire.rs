//! Wire types shared by several resources (what goes over the network), kept apart from the
//! domain types so the API can stay stable while the model changes.

use chrono::{DateTime, Utc};
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
        }
    }
}

/// Another user, as anyone signed in may see them.
#[derive(Serialize, ToSchema)]
pub struct PublicUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
}

impl From<&User> for PublicUser {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            username: u.username.as_str().to_owned(),
            display_name: u.display_name.as_str().to_owned(),
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
    pub user_agent: Option<String>,
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
