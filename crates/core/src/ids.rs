//! Time-ordered identifiers (UUIDv7), one newtype per entity so they cannot be mixed up.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// An audit log entry (time-ordered: newer entries have greater ids).
    AuditId
);
id_type!(
    /// A report of a message or a person to the moderators.
    ReportId
);
id_type!(
    /// A blocked sign-up address range (see [`crate::instance_ban`]).
    SignupBlockId
);
impl UserId {
    /// The server itself, as the actor of what no person did (a retention purge's tombstones):
    /// the nil UUID, which no account ever has.
    pub const SERVER: UserId = UserId(Uuid::nil());
}

id_type!(
    /// A login session: one refresh-token family on one device.
    SessionId
);
id_type!(
    /// A room: a DM or a group.
    RoomId
);
id_type!(
    /// A message.
    MessageId
);
id_type!(
    /// An uploaded file (media object).
    MediaId
);
