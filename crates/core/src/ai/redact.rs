//! Redaction of personal data and secrets before text leaves for an AI provider.
//!
//! Each finding is replaced by a placeholder such as `[EMAIL_1]`; the same value gets the same
//! placeholder within one [`RedactionMap`], so the model can still tell "the same address"
//! apart from "another one". The map stays on the server and is used only to restore an answer
//! shown back to the user who owns the text ([`RedactionMap::restore`]).
//!
//! Detectors run from the most specific to the most generic (a JWT before a long
//! high-entropy string, a card number before a phone number), each over the output of the
//! previous one, so a value is replaced once.

use regex::Regex;
use std::net::Ipv6Addr;
use std::sync::LazyLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Secret,
    Email,
    Iban,
    Card,
    Ip,
    Phone,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Secret => "SECRET",
            Kind::Email => "EMAIL",
            Kind::Iban => "IBAN",
            Kind::Card => "CARD",
            Kind::Ip => "IP",
            Kind::Phone => "PHONE",
        }
    }
}

/// Placeholders handed out so far and the values they stand for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedactionMap {
    entries: Vec<(String, String)>,
    counters: [u32; 6],
}

impl RedactionMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn placeholder(&mut self, kind: Kind, original: &str) -> String {
        if let Some((p, _)) = self.entries.iter().find(|(_, o)| o == original) {
            return p.clone();
        }
        let i = kind as usize;
        self.counters[i] += 1;
        let p = format!("[{}_{}]", kind.label(), self.counters[i]);
        self.entries.push((p.clone(), original.to_owned()));
        p
    }

    /// Puts the original values back into a model's answer (only for their owner).
    pub fn restore(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (p, o) in &self.entries {
            out = out.replace(p.as_str(), o);
        }
        out
    }
}

fn re(p: &str) -> Regex {
    // The patterns are constants checked by the unit tests; a typo fails every test at once.
    Regex::new(p).unwrap_or_else(|e| panic!("bad redaction pattern {p}: {e}"))
}

static JWT: LazyLock<Regex> =
    LazyLock::new(|| re(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"));
static KEYS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|A[KS]IA[0-9A-Z]{16}|xox[abpors]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,})",
    )
});
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| re(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"));
static IBAN: LazyLock<Regex> = LazyLock::new(|| re(r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\b"));
static CARD: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:[0-9][ -]?){12,18}[0-9]\b"));
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| re(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[0-9A-Za-z]+)?"));
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b",
    )
});
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\+|\b)[0-9](?:[0-9]|[ .\-]|\([0-9]{1,4}\)){5,20}[0-9]\b"));
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| re(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"));
static LONG_TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z0-9+/_=-]{32,}"));

/// Replaces personal data and secrets in `text` with placeholders recorded in `map`.
pub fn redact(text: &str, map: &mut RedactionMap) -> String {
    let mut s = replace(text, &JWT, Kind::Secret, map, |_| true);
    s = replace(&s, &KEYS, Kind::Secret, map, |_| true);
    s = replace(&s, &EMAIL, Kind::Email, map, |_| true);
    s = replace_iban(&s, map);
    s = replace(&s, &CARD, Kind::Card, map, luhn_valid);
    s = replace(&s, &IPV6, Kind::Ip, map, ipv6_valid);
    s = replace(&s, &IPV4, Kind::Ip, map, |_| true);
    s = replace(&s, &PHONE, Kind::Phone, map, phone_like);
    replace(&s, &LONG_TOKEN, Kind::Secret, map, high_entropy)
}

fn replace(
    text: &str,
    pattern: &Regex,
    kind: Kind,
    map: &mut RedactionMap,
    accept: impl Fn(&str) -> bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in pattern.find_iter(text) {
        let found = m.as_str();
        if !accept(found) {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push_str(&map.placeholder(kind, found));
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

/// IBANs are written in groups of four, and an upper-case word may follow one; the pattern
/// then over-matches, so the longest prefix that ends at a group boundary and checks is taken.
fn replace_iban(text: &str, map: &mut RedactionMap) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in IBAN.find_iter(text) {
        let found = m.as_str();
        let mut ends: Vec<usize> = found
            .char_indices()
            .filter(|(_, c)| *c == ' ')
            .map(|(i, _)| i)
            .collect();
        ends.push(found.len());
        let Some(end) = ends.into_iter().rev().find(|&e| iban_valid(&found[..e])) else {
            continue;
        };
        out.push_str(&text[last..m.start()]);
        out.push_str(&map.placeholder(Kind::Iban, &found[..end]));
        last = m.start() + end;
    }
    out.push_str(&text[last..]);
    out
}

/// Luhn checksum over the digits of a 13–19 digit card number candidate.
pub fn luhn_valid(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1.
pub fn iban_valid(candidate: &str) -> bool {
    let s: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&s.len()) {
        return false;
    }
    let (head, tail) = s.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        if v >= 10 {
            rem = (rem * 100 + v) % 97;
        } else {
            rem = (rem * 10 + v) % 97;
        }
    }
    rem == 1
}

fn ipv6_valid(candidate: &str) -> bool {
    let addr = candidate.split('%').next().unwrap_or(candidate);
    // "::" alone and clock times are not worth a placeholder; require some hex content.
    // "::1", clock times and `std::net` paths are not worth a placeholder: require three
    // non-empty groups of a parseable address.
    addr.split(':').filter(|g| !g.is_empty()).count() >= 3 && addr.parse::<Ipv6Addr>().is_ok()
}

fn phone_like(candidate: &str) -> bool {
    let digits = candidate.chars().filter(|c| c.is_ascii_digit()).count();
    (7..=15).contains(&digits) && !ISO_DATE.is_match(candidate.trim())
}

/// Long strings that look random: mixed letters and digits, high Shannon entropy.
fn high_entropy(candidate: &str) -> bool {
    let has_digit = candidate.chars().any(|c| c.is_ascii_digit());
    let has_alpha = candidate.chars().any(|c| c.is_ascii_alphabetic());
    if !(has_digit && has_alpha) {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for c in candidate.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let n = candidate.chars().count() as f64;
    let entropy: f64 = counts
        .values()
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact(s, &mut RedactionMap::new())
    }

    #[test]
    fn emails() {
        assert_eq!(
            r("mail bob.smith+x@example.co.uk now"),
            "mail [EMAIL_1] now"
        );
    }

    #[test]
    fn phones() {
        assert_eq!(r("call +1 (415) 555-0132 today"), "call [PHONE_1] today");
        assert_eq!(r("or 030 1234567"), "or [PHONE_1]");
        // Short numbers and dates stay.
        assert_eq!(
            r("room 42 on 2026-11-25 at 12:30"),
            "room 42 on 2026-11-25 at 12:30"
        );
    }

    #[test]
    fn cards_need_luhn() {
        assert_eq!(r("card 4111 1111 1111 1111 ok"), "card [CARD_1] ok");
        assert_eq!(r("card 4111-1111-1111-1111"), "card [CARD_1]");
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        // Fails Luhn: not a card (it is long enough to be taken for a phone number though,
        // and over-redaction is the safe side).
        assert!(!r("order 1234567890123456").contains("CARD"));
    }

    #[test]
    fn ibans_need_mod97() {
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(!iban_valid("GB82WEST12345698765431"));
        assert_eq!(r("pay DE89 3704 0044 0532 0130 00 pls"), "pay [IBAN_1] pls");
        assert_eq!(r("pay GB82WEST12345698765432"), "pay [IBAN_1]");
        assert_eq!(r("DE89 3704 0044 0532 0130 00 OK"), "[IBAN_1] OK");
    }

    #[test]
    fn ips() {
        assert_eq!(r("host 192.168.1.20 down"), "host [IP_1] down");
        assert_eq!(r("v6 2001:db8::8a2e:370:7334 up"), "v6 [IP_1] up");
        assert_eq!(r("at 12:30:45 ok"), "at 12:30:45 ok");
        assert_eq!(r("use std::net::Ipv6Addr"), "use std::net::Ipv6Addr");
        assert_eq!(r("version 1.2.3 ok"), "version 1.2.3 ok");
    }

    #[test]
    fn secrets() {
        assert_eq!(r("key sk-abcdefghijklmnop1234 x"), "key [SECRET_1] x");
        assert_eq!(
            r("tok ghp_ABCDEFGHIJKLMNOPQRSTuvwxyz0123456789"),
            "tok [SECRET_1]"
        );
        assert_eq!(r("aws AKIAIOSFODNN7EXAMPLE"), "aws [SECRET_1]");
        assert_eq!(
            r(
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
            ),
            "jwt [SECRET_1]"
        );
        assert_eq!(
            r("blob Zx8Kq2Lm9Pw4Rt7Yb3Nc6Vd1Hs5Jg0Fa"),
            "blob [SECRET_1]"
        );
        // Long but plain words are not secrets.
        let plain = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(r(plain), plain);
    }

    #[test]
    fn same_value_same_placeholder_and_restore() {
        let mut map = RedactionMap::new();
        let out = redact("a@x.org, b@x.org, again a@x.org", &mut map);
        assert_eq!(out, "[EMAIL_1], [EMAIL_2], again [EMAIL_1]");
        assert_eq!(map.restore("write to [EMAIL_2]"), "write to b@x.org");
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn ordinary_text_untouched() {
        let s = "Let's meet at 10, bring 3 apples — ok? ünïcödé 🙂";
        assert_eq!(r(s), s);
    }
}
