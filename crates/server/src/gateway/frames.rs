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

/// A server push whose payload is already JSON (events relayed from another process): the
/// same bytes [`frame`] would produce for it.
pub fn raw_frame(op: &str, d_json: &str) -> Utf8Bytes {
    let mut out = String::with_capacity(d_json.len() + op.len() + 16);
    out.push_str(r#"{"op":""#);
    out.push_str(op); // ops are our own constants, never escaped characters
    out.push_str(r#"","d":"#);
    out.push_str(d_json);
    out.push('}');
    out.into()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_frame_matches_frame() {
        let d = serde_json::json!({"room_id": "r", "seq": 7, "body": "h\"i"});
        let json = serde_json::to_string(&d).expect("json");
        assert_eq!(
            frame("event", None, &d).as_str(),
            raw_frame("event", &json).as_str()
        );
    }
}
