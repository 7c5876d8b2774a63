//! Gateway frame shapes (docs/protocol.md).

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Any frame from the client, before its payload is checked.
#[derive(Deserialize)]
pub struct ClientFrame {
    pub op: String,
    pub id: Option<String>,
    #[serde(default)]
    pub d: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthReq {
    pub token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendReq {
    pub room_id: uuid::Uuid,
    pub client_id: String,
    #[serde(default)]
    pub body: String,
    pub reply_to: Option<uuid::Uuid>,
    /// Ids of the sender's own uploads (see `POST /api/v1/media`).
    #[serde(default)]
    pub attachments: Vec<uuid::Uuid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditReq {
    pub room_id: uuid::Uuid,
    pub message_id: uuid::Uuid,
    pub body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRef {
    pub room_id: uuid::Uuid,
    pub message_id: uuid::Uuid,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactReq {
    pub room_id: uuid::Uuid,
    pub message_id: uuid::Uuid,
    pub emoji: String,
    pub add: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadReq {
    pub room_id: uuid::Uuid,
    pub seq: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypingReq {
    pub room_id: uuid::Uuid,
    pub active: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceReq {
    pub status: String,
}

#[derive(Serialize)]
struct Out<'a, T: Serialize> {
    op: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    d: T,
}

/// Serialises a server frame once; the bytes are shared by every recipient.
pub fn frame<T: Serialize>(op: &str, id: Option<&str>, d: &T) -> Utf8Bytes {
    // Serialising our own types cannot fail; fall back to an error frame rather than panic.
    serde_json::to_string(&Out { op, id, d })
        .unwrap_or_else(|_| {
            r#"{"op":"error","d":{"code":"internal","message":"serialisation failed"}}"#.to_owned()
        })
        .into()
}

#[derive(Serialize)]
pub struct ErrorD<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

pub fn error(id: Option<&str>, code: &str, message: &str) -> Utf8Bytes {
    frame(
        "error",
        id,
        &ErrorD {
            code,
            message,
            retry_after_ms: None,
        },
    )
}
