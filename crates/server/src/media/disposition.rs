//! `Content-Disposition` for stored files: the sanitised name both as a quoted ASCII fallback
//! and as RFC 8187 `filename*`, so any name survives and none can break out of the header.

/// `filename*` (RFC 6266/8187) with an ASCII fallback.
pub fn content_disposition(inline: bool, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn percent_decode(s: &str) -> Option<String> {
        let mut out = Vec::new();
        let mut bytes = s.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            } else {
                out.push(b);
            }
        }
        String::from_utf8(out).ok()
    }

    proptest! {
        /// Any stored name makes a valid header that carries it whole (`filename*`) and whose
        /// quoted ASCII fallback cannot end the parameter early.
        #[test]
        fn dispositions_carry_any_name(raw in any::<String>(), inline in any::<bool>()) {
            let name = justus_core::media::sanitize_file_name(&raw);
            let s = super::content_disposition(inline, &name);
            prop_assert!(axum::http::HeaderValue::from_str(&s).is_ok(), "{s:?}");
            let kind = if inline { "inline" } else { "attachment" };
            let rest = s.strip_prefix(&format!("{kind}; filename=\"")).expect("the name is carried");
            let (fallback, encoded) = rest.split_once("\"; filename*=UTF-8''").expect("both forms");
            prop_assert!(!fallback.contains(['"', '\\']), "{fallback:?}");
            prop_assert_eq!(fallback.chars().count(), name.chars().count());
            prop_assert_eq!(percent_decode(encoded), Some(name));
        }
    }

    #[test]
    fn dispositions() {
        let v = super::content_disposition(false, "résumé \"final\".pdf");
        assert_eq!(
            v,
            "attachment; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        assert!(super::content_disposition(true, "a.png").starts_with("inline;"));
    }
}
