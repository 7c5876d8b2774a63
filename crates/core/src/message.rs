//! Messages: body rules, mentions, reactions' emoji, and the message record.

use crate::error::ValidationError;
use crate::ids::{MessageId, RoomId, UserId};
use crate::media::Attachment;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Default maximum body length, in characters (configurable: `MESSAGE_MAX_CHARS`).
pub const DEFAULT_MAX_BODY_CHARS: usize = 4000;
/// Longest accepted `client_id`.
pub const MAX_CLIENT_ID: usize = 64;
/// At most this many messages may be pinned in a room.
pub const MAX_PINS: i64 = 50;

/// Validates a message body: Markdown source, stored as given (trailing whitespace trimmed),
/// 1..=max characters, no control characters except newline and tab. Clients render it inert.
pub fn parse_body(raw: &str, max_chars: usize) -> Result<String, ValidationError> {
    let s = raw.replace("\r\n", "\n").replace('\r', "\n");
    let s = s.trim_end().trim_start_matches('\n');
    if s.trim().is_empty() {
        return Err(ValidationError::new(
            "body",
            "required",
            "message must not be empty",
        ));
    }
    if s.chars().count() > max_chars {
        return Err(ValidationError::new(
            "body",
            "too_long",
            format!("message must be at most {max_chars} characters"),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::new(
            "body",
            "invalid_characters",
            "message contains control characters",
        ));
    }
    Ok(s.to_owned())
}

/// Validates a client-chosen idempotency key: 1–64 printable ASCII characters.
pub fn parse_client_id(raw: &str) -> Result<String, ValidationError> {
    if raw.is_empty() || raw.len() > MAX_CLIENT_ID || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ValidationError::new(
            "client_id",
            "invalid_client_id",
            "client_id must be 1–64 printable ASCII characters",
        ));
    }
    Ok(raw.to_owned())
}

/// A reaction must be exactly one emoji (any skin tone or ZWJ sequence the Unicode emoji list knows).
pub fn parse_emoji(raw: &str) -> Result<String, ValidationError> {
    if raw.len() <= 64 && emojis::get(raw).is_some() {
        Ok(raw.to_owned())
    } else {
        Err(ValidationError::new(
            "emoji",
            "invalid_emoji",
            "reaction must be a single emoji",
        ))
    }
}

/// Mentions found in a body: `@username` (lower-cased, deduplicated, in order) and whether
/// `@room` appears. Mentions inside code spans and blocks do not count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    pub usernames: Vec<String>,
    pub room: bool,
}

/// How many links a body carries: words starting with `http://` or `https://` (any case),
/// the form clients turn into links. Spam heuristics count them.
pub fn count_links(body: &str) -> usize {
    if !body.contains("://") {
        return 0;
    }
    body.split(|c: char| c.is_whitespace() || matches!(c, '(' | '<' | '[' | '"' | '\''))
        .filter(|w| {
            let w = w.as_bytes();
            let starts = |p: &[u8]| w.len() > p.len() && w[..p.len()].eq_ignore_ascii_case(p);
            starts(b"http://") || starts(b"https://")
        })
        .count()
}

/// A body as the duplicate-text heuristic compares it: ASCII case and runs of whitespace
/// ignored. `None` for short texts ("ok", "thanks", a greeting), which people rightly repeat.
/// FNV-1a over the bytes: it runs on every send, and needs to tell texts apart, not resist
/// an attacker (a collision only makes two texts count as one).
pub fn spam_fingerprint(body: &str) -> Option<u64> {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut bytes = 0usize;
    for word in body.split_whitespace() {
        for b in word.bytes() {
            h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(PRIME);
        }
        h = (h ^ u64::from(b' ')).wrapping_mul(PRIME);
        bytes += word.len();
    }
    (bytes >= 20).then_some(h)
}

pub fn parse_mentions(body: &str) -> Mentions {
    let mut out = Mentions::default();
    let mut in_fence = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut in_code = false;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '`' {
                in_code = !in_code;
            } else if c == '@'
                && !in_code
                && (i == 0
                    || !(chars[i - 1].is_alphanumeric()
                        || chars[i - 1] == '_'
                        || chars[i - 1] == '.'))
            {
                let name: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '.')
                    .collect::<String>()
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                if name == "room" {
                    out.room = true;
                } else if (3..=32).contains(&name.len()) && !out.usernames.contains(&name) {
                    out.usernames.push(name.clone());
                }
                i += name.len();
            }
            i += 1;
        }
    }
    out
}

/// Attribution of a forwarded message: who wrote the original and when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Forwarded {
    pub sender_id: UserId,
    pub sent_at: DateTime<Utc>,
}

/// Reactions on a message, summarised per emoji.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    /// Who reacted (first 20, oldest first), so clients can show "you and 3 others".
    pub users: Vec<UserId>,
}

/// A message as stored. A deleted message is a tombstone: `deleted_at` set, body empty,
/// reactions, mentions and reply cleared.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: MessageId,
    pub room_id: RoomId,
    /// The seq of the message's creation (its position in the room's history).
    pub seq: i64,
    pub sender_id: UserId,
    pub client_id: String,
    pub body: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reply_to: Option<MessageId>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub forwarded: Option<Forwarded>,
    pub mentions: Vec<UserId>,
    pub mentions_room: bool,
    pub pinned: bool,
    pub reactions: Vec<Reaction>,
    pub created_at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub edited_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Who deleted it: the sender, or an admin ("removed by an admin"); `null` while it
    /// stands, and for a message a retention policy expired.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub deleted_by: Option<UserId>,
    /// Files posted with the message, in the order given (empty for tombstones).
    pub attachments: Vec<Attachment>,
}

/// Input for a new message. Validation and permission checks have been done by the caller;
/// the store re-checks membership inside its transaction.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub id: MessageId,
    pub room_id: RoomId,
    pub sender_id: UserId,
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<MessageId>,
    pub forwarded: Option<Forwarded>,
    pub mentions: Vec<UserId>,
    pub mentions_room: bool,
    pub now: DateTime<Utc>,
    /// Uploads of the sender, already checked to be theirs; the store links them.
    pub attachments: Vec<Attachment>,
}

impl NewMessage {
    /// Whether an existing message with the same `client_id` is the same send (a retry) rather
    /// than a different message reusing the key.
    pub fn same_content(&self, existing: &Message) -> bool {
        existing.room_id == self.room_id
            && existing.body == self.body
            && existing.reply_to == self.reply_to
            && existing
                .attachments
                .iter()
                .map(|a| a.id)
                .eq(self.attachments.iter().map(|a| a.id))
    }
}

/// A page request over a room's messages by `seq` (keyset, never OFFSET).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// The newest `limit` messages.
    Latest,
    /// Up to `limit` messages with seq < `before`, newest first internally, returned ascending.
    Before(i64),
    /// Up to `limit` messages with seq > `after`, ascending.
    After(i64),
}

#[cfg(test)]
mod tests {

    #[test]
    fn links_and_fingerprints_for_the_spam_heuristics() {
        assert_eq!(count_links("no links here"), 0);
        assert_eq!(
            count_links("see https://a.example and HTTP://b.example (http://c.example)"),
            3
        );
        assert_eq!(count_links("https:// alone, ftp://x and xhttps://y"), 0);
        let a = spam_fingerprint("Buy   CHEAP pills at our shop today");
        assert!(a.is_some());
        assert_eq!(a, spam_fingerprint("buy cheap pills\nat our shop today"));
        assert_ne!(a, spam_fingerprint("buy cheap pills at our shop tomorrow"));
        assert_eq!(
            spam_fingerprint("thanks!"),
            None,
            "short texts are not compared"
        );
    }

    use super::*;

    #[test]
    fn bodies() {
        assert_eq!(parse_body("  hello  \n", 10).unwrap(), "  hello");
        assert_eq!(parse_body("a\r\nb", 10).unwrap(), "a\nb");
        assert_eq!(parse_body("   \n ", 10).unwrap_err().code, "required");
        assert_eq!(
            parse_body(&"é".repeat(11), 10).unwrap_err().code,
            "too_long"
        );
        assert!(parse_body(&"é".repeat(10), 10).is_ok());
        assert_eq!(
            parse_body("bell\u{7}", 10).unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(
            parse_body("<script>alert(1)</script>", 100).unwrap(),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn mentions() {
        let m = parse_mentions("hi @Alice and @bob.smith, also @alice again; mail a@b.org; @room!");
        assert_eq!(m.usernames, vec!["alice", "bob.smith"]);
        assert!(m.room);
        let code = parse_mentions("`@carol` and\n```\n@dave\n```\n@erin.");
        assert_eq!(code.usernames, vec!["erin"]);
        assert!(!code.room);
        assert!(parse_mentions("@ab @").usernames.is_empty());
    }

    #[test]
    fn emoji() {
        for ok in ["👍", "❤️", "👍🏽", "👨‍👩‍👧", "🇫🇷"] {
            assert!(parse_emoji(ok).is_ok(), "{ok}");
        }
        for bad in ["", "x", "👍👍", "<script>", ":+1:", "👍 "] {
            assert!(parse_emoji(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_ids() {
        assert!(parse_client_id("c-123").is_ok());
        assert!(parse_client_id("").is_err());
        assert!(parse_client_id("has space").is_err());
        assert!(parse_client_id(&"x".repeat(65)).is_err());
    }
}
