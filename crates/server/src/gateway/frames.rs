//! Gateway frame shapes (docs/protocol.md).
//!
//! Each client frame is parsed once, by [`parse_request`], into an [`Op`]: the envelope first
//! (JSON, `op`, `id`, an object `d`), then `d` into the op's payload type. Every refusal says how
//! it is answered ([`Refused`]); the messages are serde's own, read from the parsed value (no text
//! positions), and part of the protocol: tests/api/gateway.rs pins their bytes. Server frames
//! are serialised once ([`frame`]) and their bytes shared by every recipient.

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
    /// The W3C `traceparent` of the client's span (optional). Anything but a string of at most
    /// [`MAX_TRACEPARENT`] bytes is ignored, as W3C asks of a malformed one.
    #[serde(default, deserialize_with = "traceparent_or_none")]
    pub traceparent: Option<String>,
}

/// Longer than any `traceparent` version defines (version 00 is 55 bytes).
pub const MAX_TRACEPARENT: usize = 256;

fn traceparent_or_none<'de, D: serde::Deserializer<'de>>(
    de: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(de)? {
        Value::String(s) if s.len() <= MAX_TRACEPARENT => Some(s),
        _ => None,
    })
}

fn object_or_null<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Value, D::Error> {
    match Value::deserialize(de)? {
        v @ (Value::Object(_) | Value::Null) => Ok(v),
        _ => Err(serde::de::Error::custom("`d` must be an object")),
    }
}

/// A request frame that passed the envelope checks; its `d` is an object or null.
#[derive(Debug)]
pub struct Envelope {
    pub op: String,
    pub id: String,
    pub d: Value,
    pub traceparent: Option<String>,
}

/// Parses a request frame's envelope: JSON, an object with a string `op`, an `id` of 1–64
/// characters and an object `d`. Refusals are `(code, message)` for an `error` frame.
pub fn parse_envelope(text: &str) -> Result<Envelope, (&'static str, &'static str)> {
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
        Some(id) if !id.is_empty() && id.len() <= 64 => Ok(Envelope {
            op: frame.op,
            id,
            d: frame.d,
            traceparent: frame.traceparent,
        }),
        _ => Err(("invalid_frame", "requests need an `id` of 1–64 characters")),
    }
}

/// A client request, parsed once: its `id` and its typed operation.
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq))]
pub struct Request {
    pub id: String,
    pub op: Op,
    /// The client's W3C `traceparent`, if it sent one (see [`ClientFrame::traceparent`]).
    pub traceparent: Option<String>,
}

/// What a client asks for.
#[derive(Debug)]
#[cfg_attr(test, derive(Clone, PartialEq))]
pub enum Op {
    /// `ping`: answered at once (its `d` is not read).
    Ping,
    /// `auth` on an open socket: re-authentication, answered at once.
    Auth(AuthReq),
    /// The rest: rate-limited, queued, and run in order through the use cases.
    Call(Call),
}

/// An operation run through a use case, in the socket's request order.
#[derive(Debug)]
#[cfg_attr(test, derive(Clone, PartialEq))]
pub enum Call {
    Send(SendReq),
    Edit(EditReq),
    Delete(MessageRef),
    React(ReactReq),
    Read(ReadReq),
    Typing(TypingReq),
    Presence(PresenceReq),
}

impl Op {
    /// The `op` string of the frame it was parsed from.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Ping => "ping",
            Op::Auth(_) => "auth",
            Op::Call(call) => call.name(),
        }
    }
}

impl Call {
    /// The `op` string of the frame it was parsed from.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Send(_) => "send",
            Call::Edit(_) => "edit",
            Call::Delete(_) => "delete",
            Call::React(_) => "react",
            Call::Read(_) => "read",
            Call::Typing(_) => "typing",
            Call::Presence(_) => "presence",
        }
    }
}

/// Why a request frame was refused, by how it is answered.
#[derive(Debug)]
pub enum Refused {
    /// The envelope is wrong: an `error` frame without an id, with this code and message.
    Frame(&'static str, &'static str),
    /// `op` is none of ours: `unknown_op` for that id.
    UnknownOp { id: String },
    /// An `auth` whose `d` is not `{"token"}`: the socket is closed.
    Auth,
    /// A call's `d` does not fit it: `invalid_frame` for that id, answered in the call's turn.
    Payload {
        id: String,
        error: serde_json::Error,
    },
}

/// Parses a request frame once: the envelope ([`parse_envelope`]), then `d` into the op's
/// payload type (from the parsed value, so serde's messages name no text positions).
pub fn parse_request(text: &str) -> Result<Request, Refused> {
    let Envelope {
        op,
        id,
        d,
        traceparent,
    } = parse_envelope(text).map_err(|(c, m)| Refused::Frame(c, m))?;
    fn call<T: serde::de::DeserializeOwned>(
        d: Value,
        into: fn(T) -> Call,
    ) -> Result<Op, serde_json::Error> {
        serde_json::from_value(d).map(|r| Op::Call(into(r)))
    }
    let parsed = match op.as_str() {
        "ping" => Ok(Op::Ping),
        "auth" => {
            return auth_payload(d)
                .map(|r| Request {
                    id,
                    op: Op::Auth(r),
                    traceparent,
                })
                .map_err(|_| Refused::Auth);
        }
        "send" => call(d, Call::Send),
        "edit" => call(d, Call::Edit),
        "delete" => call(d, Call::Delete),
        "react" => call(d, Call::React),
        "read" => call(d, Call::Read),
        "typing" => call(d, Call::Typing),
        "presence" => call(d, Call::Presence),
        _ => return Err(Refused::UnknownOp { id }),
    };
    match parsed {
        Ok(op) => Ok(Request {
            id,
            op,
            traceparent,
        }),
        Err(error) => Err(Refused::Payload { id, error }),
    }
}

/// The `d` of an `auth` frame (the first frame of a socket, or a re-authentication).
pub fn auth_payload(d: Value) -> Result<AuthReq, serde_json::Error> {
    serde_json::from_value(d)
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq, Serialize))]
#[serde(deny_unknown_fields)]
pub struct AuthReq {
    pub token: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq, Serialize))]
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

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq, Serialize))]
#[serde(deny_unknown_fields)]
pub struct EditReq {
    pub room_id: uuid::Uuid,
    pub message_id: uuid::Uuid,
    pub body: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq, Serialize))]
#[serde(deny_unknown_fields)]
pub struct MessageRef {
    pub room_id: uuid::Uuid,
    pub message_id: uuid::Uuid,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq, Serialize))]
#[serde(deny_unknown_fields)]
pub struct ReactReq {
    pub room_id: uuid::Uuid,
    pub message_id: uuid::Uuid,
    pub emoji: String,
    pub add: bool,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq, Serialize))]
#[serde(deny_unknown_fields)]
pub struct ReadReq {
    pub room_id: uuid::Uuid,
    pub seq: i64,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq, Serialize))]
#[serde(deny_unknown_fields)]
pub struct TypingReq {
    pub room_id: uuid::Uuid,
    pub active: bool,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq, Serialize))]
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

    /// The frame a client would send for `op`.
    fn encode(id: &str, op: &Op) -> String {
        let d = match op {
            Op::Ping => Ok(serde_json::json!({})),
            Op::Auth(r) => serde_json::to_value(r),
            Op::Call(Call::Send(r)) => serde_json::to_value(r),
            Op::Call(Call::Edit(r)) => serde_json::to_value(r),
            Op::Call(Call::Delete(r)) => serde_json::to_value(r),
            Op::Call(Call::React(r)) => serde_json::to_value(r),
            Op::Call(Call::Read(r)) => serde_json::to_value(r),
            Op::Call(Call::Typing(r)) => serde_json::to_value(r),
            Op::Call(Call::Presence(r)) => serde_json::to_value(r),
        }
        .expect("payloads serialise");
        serde_json::json!({"op": op.name(), "id": id, "d": d}).to_string()
    }

    /// Any well-formed operation.
    fn any_op() -> impl Strategy<Value = Op> {
        let uuid = || any::<u128>().prop_map(uuid::Uuid::from_u128);
        let text = || ".{0,24}";
        prop_oneof![
            Just(Op::Ping),
            text().prop_map(|token| Op::Auth(AuthReq { token })),
            (
                uuid(),
                text(),
                text(),
                proptest::option::of(uuid()),
                prop::collection::vec(uuid(), 0..3)
            )
                .prop_map(|(room_id, client_id, body, reply_to, attachments)| {
                    Op::Call(Call::Send(SendReq {
                        room_id,
                        client_id,
                        body,
                        reply_to,
                        attachments,
                    }))
                }),
            (uuid(), uuid(), text()).prop_map(|(room_id, message_id, body)| {
                Op::Call(Call::Edit(EditReq {
                    room_id,
                    message_id,
                    body,
                }))
            }),
            (uuid(), uuid()).prop_map(|(room_id, message_id)| {
                Op::Call(Call::Delete(MessageRef {
                    room_id,
                    message_id,
                }))
            }),
            (uuid(), uuid(), text(), any::<bool>()).prop_map(
                |(room_id, message_id, emoji, add)| {
                    Op::Call(Call::React(ReactReq {
                        room_id,
                        message_id,
                        emoji,
                        add,
                    }))
                }
            ),
            (uuid(), any::<i64>())
                .prop_map(|(room_id, seq)| Op::Call(Call::Read(ReadReq { room_id, seq }))),
            (uuid(), any::<bool>()).prop_map(|(room_id, active)| {
                Op::Call(Call::Typing(TypingReq { room_id, active }))
            }),
            text().prop_map(|status| Op::Call(Call::Presence(PresenceReq { status }))),
        ]
    }

    /// The typed parse of `text` agrees with the envelope parse and with serde's reading of `d`
    /// as the op's payload type, and what it accepts round-trips.
    fn check_typed(text: &str) -> Result<(), TestCaseError> {
        let typed = parse_request(text);
        let env = match parse_envelope(text) {
            Err(refusal) => {
                prop_assert!(
                    matches!(typed, Err(Refused::Frame(c, m)) if (c, m) == refusal),
                    "{text}: the envelope answers {refusal:?}, the typed parse {typed:?}"
                );
                return Ok(());
            }
            Ok(env) => env,
        };
        let known = OPS.contains(&env.op.as_str());
        match typed {
            Err(Refused::Frame(..)) => prop_assert!(false, "{text}: envelope accepted"),
            Err(Refused::UnknownOp { id }) => {
                prop_assert!(!known, "{text}: known op refused as unknown");
                prop_assert_eq!(id, env.id);
            }
            Err(Refused::Auth) => {
                prop_assert_eq!(env.op.as_str(), "auth");
                prop_assert!(!payload_accepted("auth", env.d), "{text}");
            }
            Err(Refused::Payload { id, .. }) => {
                prop_assert!(known && env.op != "auth" && env.op != "ping", "{text}");
                prop_assert!(!payload_accepted(&env.op, env.d), "{text}");
                prop_assert_eq!(id, env.id);
            }
            Ok(r) => {
                prop_assert_eq!(r.op.name(), env.op.as_str());
                prop_assert_eq!(&r.id, &env.id);
                prop_assert!(payload_accepted(&env.op, env.d), "{text}");
                let again = parse_request(&encode(&r.id, &r.op)).ok();
                prop_assert_eq!(again, Some(r));
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Typed parsing never panics; it refuses what the envelope refuses, with the same
        /// answer; an unknown op, a bad auth and a bad payload are told apart exactly as serde
        /// reads `d`; every frame it accepts round-trips its op.
        #[test]
        fn typed_parse_agrees_with_the_envelope_and_serde(
            op in prop_oneof![prop::sample::select(OPS.to_vec()).prop_map(str::to_owned), ".{0,8}"],
            id in json(),
            d in json(),
            text in ".{0,200}",
        ) {
            check_typed(&serde_json::json!({"op": op, "id": id, "d": d}).to_string())?;
            check_typed(&text)?;
        }

        /// Every well-formed operation is accepted as itself.
        #[test]
        fn every_op_round_trips(id in "[a-z0-9-]{1,64}", op in any_op()) {
            let r = parse_request(&encode(&id, &op)).expect("a well-formed frame is accepted");
            prop_assert_eq!(r.op.name(), op.name());
            prop_assert_eq!(r, Request { id, op, traceparent: None });
        }

        /// Whatever arrives, parsing never panics, and what it accepts has the documented shape.
        #[test]
        fn any_text_is_parsed_without_panic(text in ".{0,200}") {
            if let Ok(r) = parse_envelope(&text) {
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
            match parse_envelope(&text) {
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
            prop_assert!(parse_envelope(&text).is_err(), "accepted {text}");
        }
    }

    #[test]
    fn positional_send_is_refused_but_the_object_form_works() {
        let room = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let array = format!(r#"{{"op":"send","id":"1","d":["{room}","c1","hi",null,[]]}}"#);
        // What serde alone does with it: fills SendReq by position.
        let v: Value = serde_json::from_str(&array).unwrap();
        assert!(serde_json::from_value::<SendReq>(v["d"].clone()).is_ok());
        assert_eq!(parse_envelope(&array).unwrap_err().0, "invalid_frame");
        let object = format!(
            r#"{{"op":"send","id":"1","d":{{"room_id":"{room}","client_id":"c1","body":"hi"}}}}"#
        );
        let r = parse_envelope(&object).unwrap();
        assert!(payload_accepted("send", r.d));
        assert_eq!(parse_envelope("[1,2]").unwrap_err().0, "invalid_frame");
        assert_eq!(parse_envelope("{").unwrap_err().0, "invalid_json");
        assert_eq!(
            parse_envelope(r#"{"op":"ping","id":""}"#).unwrap_err().0,
            "invalid_frame"
        );
        assert!(
            parse_envelope(r#"{"op":"ping","id":"x"}"#).is_ok(),
            "d may be absent"
        );
    }

    #[test]
    fn a_traceparent_is_carried_and_a_malformed_one_ignored() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let with = |v: Value| {
            parse_request(
                &serde_json::json!({"op": "ping", "id": "1", "traceparent": v}).to_string(),
            )
            .expect("a ping with any traceparent is accepted")
            .traceparent
        };
        assert_eq!(with(Value::from(tp)).as_deref(), Some(tp));
        assert_eq!(with(Value::from(7)), None);
        assert_eq!(with(serde_json::json!({"a": 1})), None);
        assert_eq!(with(Value::from("x".repeat(MAX_TRACEPARENT + 1))), None);
        assert_eq!(
            parse_request(r#"{"op":"ping","id":"1"}"#)
                .unwrap()
                .traceparent,
            None
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
