//! Accounts: validated value types and the user record.
//!
//! Each input type can only be built through `parse`, so an invalid username, display name,
//! e-mail or password cannot exist past the API edge.

use crate::error::ValidationError;
use crate::ids::UserId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// `[a-z0-9_.]{3,32}`, stored lower-case so uniqueness is case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_ascii_lowercase();
        let len = s.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(ValidationError::new(
                "username",
                "invalid_length",
                format!("username must be {}–{} characters", Self::MIN, Self::MAX),
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        {
            return Err(ValidationError::new(
                "username",
                "invalid_characters",
                "username may contain only a–z, 0–9, '_' and '.'",
            ));
        }
        Ok(Self(s))
    }

    /// For values read back from the store, which only ever holds parsed usernames.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 1–64 characters of display text, NFC-normalised, trimmed, without control characters.
/// It is display text only: clients render it as text, never as markup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s: String = raw.trim().nfc().collect();
        if s.is_empty() {
            return Err(ValidationError::new(
                "display_name",
                "required",
                "display name must not be empty",
            ));
        }
        if s.chars().count() > Self::MAX {
            return Err(ValidationError::new(
                "display_name",
                "too_long",
                format!("display name must be at most {} characters", Self::MAX),
            ));
        }
        if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err(ValidationError::new(
                "display_name",
                "invalid_characters",
                "display name must not contain control characters",
            ));
        }
        Ok(Self(s))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Bidirectional overrides let a name display as something it is not.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// An e-mail address, lower-cased. Checked for shape only (one `@`, a dotted domain, no spaces):
/// deliverability is not ours to judge here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_lowercase();
        let bad = || ValidationError::new("email", "invalid_email", "email address is not valid");
        if s.len() > Self::MAX || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(s))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that passed the policy: 8–256 characters (Unicode scalar values, NFC), no
/// composition rules, not a common password, not guessable from the account's own names.
/// Deliberately not `Debug`/`Serialize` beyond a redacted form, so it cannot reach a log.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    /// The one form passwords are hashed and verified in (NFC): the same password typed where
    /// accents compose differently (NFD on macOS file names, some keyboards) always matches.
    pub fn normalize(raw: &str) -> String {
        raw.nfc().collect()
    }

    /// Checks only the length, for verifying a presented password (login, re-authentication):
    /// an over-long input is refused before it reaches the hasher.
    pub fn check_length(raw: &str) -> Result<(), ValidationError> {
        let len = raw.chars().count();
        if len > Self::MAX {
            return Err(ValidationError::new(
                "password",
                "too_long",
                format!("password must be at most {} characters", Self::MAX),
            ));
        }
        Ok(())
    }

    /// Applies the full policy for a password being set. `context` holds the account's own
    /// words (username, display name, e-mail) which must not make up the password.
    pub fn parse_new(raw: &str, context: &[&str]) -> Result<Self, ValidationError> {
        let s = Self::normalize(raw);
        let len = s.chars().count();
        if len < Self::MIN {
            return Err(ValidationError::new(
                "password",
                "too_short",
                format!("password must be at least {} characters", Self::MIN),
            ));
        }
        Self::check_length(&s)?;
        if is_common_or_trivial(&s, context) {
            return Err(ValidationError::new(
                "password",
                "too_common",
                "this password is too common or too easy to guess; choose another",
            ));
        }
        Ok(Self(s))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The blocklist: zxcvbn ships the ~30,000 most common passwords (and English words, names and
/// keyboard patterns). We refuse a password that *is* one of the common passwords (also when
/// l33t-spelt or reversed), one that is just the account's own name, or one zxcvbn rates at
/// score 0 (repeats, sequences). Everything else is allowed: length is what matters.
fn is_common_or_trivial(password: &str, context: &[&str]) -> bool {
    use zxcvbn::matching::patterns::MatchPattern;
    // zxcvbn is quadratic in length; the tail of a long password cannot make it common.
    let probe: String = password.chars().take(64).collect();
    let entropy = zxcvbn::zxcvbn(&probe, context);
    if u8::from(entropy.score()) == 0 {
        return true;
    }
    let seq = entropy.sequence();
    if let [only] = seq
        && let MatchPattern::Dictionary(p) = &only.pattern
    {
        // zxcvbn keeps `DictionaryType` unnameable outside the crate; its Debug name is stable.
        let dict = format!("{:?}", p.dictionary_name);
        return dict == "Passwords" || dict == "UserInputs";
    }
    false
}

/// A user account as the domain sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The profile picture: a 512×512 WebP media record (see [`crate::avatar`]).
    pub avatar: Option<crate::ids::MediaId>,
    /// Set while an instance admin has the account suspended ([`crate::instance_ban`]).
    pub suspended_at: Option<DateTime<Utc>>,
}

/// What the store needs to create an account. The password is already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: UserId,
    pub username: Username,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    pub password_hash: String,
    pub now: DateTime<Utc>,
}

/// A partial update of the profile; `None` leaves a field as it is. `email: Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub display_name: Option<DisplayName>,
    pub email: Option<Option<Email>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("Alice_01").unwrap().as_str(), "alice_01");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("al-ice").is_err());
        assert!(Username::parse("àlice").is_err());
        assert!(Username::parse("a.b_c").is_ok());
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{0007}b").is_err());
        assert!(DisplayName::parse("evil\u{202E}gnp.exe").is_err());
        assert!(DisplayName::parse(&"x".repeat(65)).is_err());
        // Markup is allowed as text; rendering keeps it inert.
        assert!(DisplayName::parse("<script>alert(1)</script>").is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ada@Example.ORG ").unwrap().as_str(),
            "ada@example.org"
        );
        for bad in [
            "nope",
            "a@b",
            "@x.org",
            "a@@x.org",
            "a b@x.org",
            "a@x..org",
            "a@.x.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_policy() {
        assert_eq!(
            Password::parse_new("short", &[]).unwrap_err().code,
            "too_short"
        );
        assert_eq!(
            Password::parse_new(&"x".repeat(257), &[]).unwrap_err().code,
            "too_long"
        );
        for common in [
            "password",
            "password1",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "P@ssw0rd",
            "aaaaaaaa",
        ] {
            assert_eq!(
                Password::parse_new(common, &[]).unwrap_err().code,
                "too_common",
                "{common}"
            );
        }
        assert_eq!(
            Password::parse_new("alice_wonder", &["alice_wonder"])
                .unwrap_err()
                .code,
            "too_common"
        );
        // Long passphrases and any Unicode are fine, with no composition rules.
        assert!(Password::parse_new("correct horse battery staple", &[]).is_ok());
        assert!(Password::parse_new("ключ-от-всех-дверей", &[]).is_ok());
        assert!(Password::parse_new("🦀🦀 crab rave 🦀🦀", &[]).is_ok());
        assert!(Password::parse_new(&"a9Zq".repeat(64), &[]).is_ok());
        assert!(
            format!(
                "{:?}",
                Password::parse_new("correct horse battery staple", &[]).unwrap()
            )
            .contains("redacted")
        );
    }
}

/// Who may add a user to a group without asking: anyone (the default), people who already share
/// a room with them, or nobody. Everyone else's add becomes an invitation they accept or decline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupAdds {
    #[default]
    Anyone,
    SharedRoom,
    Nobody,
}

impl GroupAdds {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupAdds::Anyone => "anyone",
            GroupAdds::SharedRoom => "shared_room",
            GroupAdds::Nobody => "nobody",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [GroupAdds::Anyone, GroupAdds::SharedRoom, GroupAdds::Nobody]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
    /// Whether an add goes straight through (else it becomes an invitation); `share_a_room`
    /// is asked only when the policy depends on it.
    pub fn allows(self, share_a_room: impl FnOnce() -> bool) -> bool {
        match self {
            GroupAdds::Anyone => true,
            GroupAdds::SharedRoom => share_a_room(),
            GroupAdds::Nobody => false,
        }
    }
}

#[cfg(test)]
mod group_adds_tests {
    use super::GroupAdds;

    #[test]
    fn who_may_add_without_asking() {
        assert!(GroupAdds::Anyone.allows(|| unreachable!("not asked")));
        assert!(GroupAdds::SharedRoom.allows(|| true));
        assert!(!GroupAdds::SharedRoom.allows(|| false));
        assert!(!GroupAdds::Nobody.allows(|| unreachable!("not asked")));
        for g in [GroupAdds::Anyone, GroupAdds::SharedRoom, GroupAdds::Nobody] {
            assert_eq!(GroupAdds::parse(g.as_str()), Some(g));
        }
        assert_eq!(GroupAdds::default(), GroupAdds::Anyone);
    }
}
