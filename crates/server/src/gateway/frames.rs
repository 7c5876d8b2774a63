//! Gateway frame shapes (docs/protocol.md).

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Any frame from the client, before its payload is checked.
#[derive(Deserialize)]
pub struct ClientFrame {
    pub op: String,
    pub id: Option<String>,
    /// An object (or absent/null). Anything else is refused here: serde fills a struct from a
    /// JSON array by position, so `"d": ["<room>", "c1", "hi"]` would otherwise pass as a send.
    #[serde(default, deserialize_with = "object_or_null")]
    pub d: Value,
}

fn object_or_null<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Value, D::Error> {
    match Value::deserialize(de)? {
        v @ (Value::Object(_) | Value::Null) => Ok(v),
        _ => Err(serde::de::Error::custom("`d` must be an object")),
    }
}

/// A request frame that passed the envelope checks; its `d` is an object or null.
#[derive(Debug)]
pub struct Request {
    pub op: String,
    pub id: String,
    pub d: Value,
}

/// Parses a request frame's envelope: JSON, an object with a string `op`, an `id` of 1–64
/// characters and an object `d`. Refusals are `(code, message)` for an `error` frame.
pub fn parse_request(text: &str) -> Result<Request, (&'static str, &'static str)> {
    // One pass: a syntax error is bad JSON, anything else that fails is a bad frame shape.
    let frame: ClientFrame = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            (
                "invalid_frame",
                "a frame is an object with a string `op` and `id` and an object `d`",
            )
        } else {
            ("invalid_json", "frame is not valid JSON")
        }
    })?;
    match frame.id {
        Some(id) if !id.is_empty() && id.len() <= 64 => Ok(Request {
            op: frame.op,
            id,
            d: frame.d,
        }),
        _ => Err(("invalid_frame", "requests need an `id` of 1–64 characters")),
    }
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
    use proptest::prelude::*;

    /// Arbitrary JSON values, a few levels deep.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
            Just(Value::from("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("room_id".to_owned()),
                        Just("client_id".to_owned()),
                        Just("body".to_owned()),
                        ".{0,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    const OPS: [&str; 9] = [
        "send", "edit", "delete", "react", "read", "typing", "presence", "ping", "auth",
    ];

    /// Every request payload type the gateway parses; `Ok` if `d` was accepted as that type.
    fn payload_accepted(op: &str, d: Value) -> bool {
        match op {
            "send" => serde_json::from_value::<SendReq>(d).is_ok(),
            "edit" => serde_json::from_value::<EditReq>(d).is_ok(),
            "delete" => serde_json::from_value::<MessageRef>(d).is_ok(),
            "react" => serde_json::from_value::<ReactReq>(d).is_ok(),
            "read" => serde_json::from_value::<ReadReq>(d).is_ok(),
            "typing" => serde_json::from_value::<TypingReq>(d).is_ok(),
            "presence" => serde_json::from_value::<PresenceReq>(d).is_ok(),
            "auth" => serde_json::from_value::<AuthReq>(d).is_ok(),
            _ => true,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever arrives, parsing never panics, and what it accepts has the documented shape.
        #[test]
        fn any_text_is_parsed_without_panic(text in ".{0,200}") {
            if let Ok(r) = parse_request(&text) {
                let v: Value = serde_json::from_str(&text).expect("accepted text is JSON");
                prop_assert!(v.is_object());
                prop_assert!(!r.id.is_empty() && r.id.len() <= 64);
                prop_assert!(r.d.is_object() || r.d.is_null());
            }
        }

        /// Frames built from arbitrary JSON: accepted exactly when the envelope is right,
        /// and a `d` that is not an object is never accepted, whatever the op.
        #[test]
        fn envelope_is_checked(op in prop::sample::select(OPS.to_vec()), id in json(), d in json()) {
            let text = serde_json::json!({"op": op, "id": id.clone(), "d": d.clone()}).to_string();
            let ok_id = id.as_str().is_some_and(|s| !s.is_empty() && s.len() <= 64);
            let ok_d = d.is_object() || d.is_null();
            match parse_request(&text) {
                Ok(r) => {
                    prop_assert!(ok_id && ok_d, "accepted {text}");
                    prop_assert_eq!(r.op, op);
                    prop_assert_eq!(Some(r.id.as_str()), id.as_str());
                    // As the JSON says (floats need not survive a text round trip exactly).
                    let sent: Value = serde_json::from_str(&text).expect("json");
                    prop_assert_eq!(&r.d, &sent["d"]);
                }
                Err((code, _)) => {
                    prop_assert_eq!(code, "invalid_frame");
                    prop_assert!(!(ok_id && ok_d), "refused {text}");
                }
            }
        }

        /// A payload given as an array (serde would fill the struct by position) is refused
        /// for every op, even when its items would make a valid object.
        #[test]
        fn positional_payloads_are_refused(op in prop::sample::select(OPS.to_vec()), items in prop::collection::vec(json(), 0..6)) {
            let text = serde_json::json!({"op": op, "id": "1", "d": items}).to_string();
            prop_assert!(parse_request(&text).is_err(), "accepted {text}");
        }
    }

    #[test]
    fn positional_send_is_refused_but_the_object_form_works() {
        let room = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let array = format!(r#"{{"op":"send","id":"1","d":["{room}","c1","hi",null,[]]}}"#);
        // What serde alone does with it: fills SendReq by position.
        let v: Value = serde_json::from_str(&array).unwrap();
        assert!(serde_json::from_value::<SendReq>(v["d"].clone()).is_ok());
        assert_eq!(parse_request(&array).unwrap_err().0, "invalid_frame");
        let object = format!(
            r#"{{"op":"send","id":"1","d":{{"room_id":"{room}","client_id":"c1","body":"hi"}}}}"#
        );
        let r = parse_request(&object).unwrap();
        assert!(payload_accepted("send", r.d));
        assert_eq!(parse_request("[1,2]").unwrap_err().0, "invalid_frame");
        assert_eq!(parse_request("{").unwrap_err().0, "invalid_json");
        assert_eq!(
            parse_request(r#"{"op":"ping","id":""}"#).unwrap_err().0,
            "invalid_frame"
        );
        assert!(
            parse_request(r#"{"op":"ping","id":"x"}"#).is_ok(),
            "d may be absent"
        );
    }

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
