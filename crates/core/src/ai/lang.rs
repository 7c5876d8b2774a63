//! Language tags (BCP-47, the common subset): language, optional script, region, variants.

use crate::error::ValidationError;

/// Validates and normalises a tag: `pt-br` → `pt-BR`, `ZH-hant-tw` → `zh-Hant-TW`.
/// Accepts `lang(-Script)?(-REGION)?(-variant)*` with a 2–3 letter language; at most 35 chars.
pub fn parse_language_tag(raw: &str) -> Result<String, ValidationError> {
    let bad = || {
        ValidationError::new(
            "preferred_language",
            "invalid_language",
            "expected a BCP-47 language tag such as `en`, `de-CH` or `zh-Hant-TW`",
        )
    };
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 35 {
        return Err(bad());
    }
    let mut parts = raw.split(['-', '_']);
    let lang = parts.next().ok_or_else(bad)?;
    if !(2..=3).contains(&lang.len()) || !lang.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let mut out = lang.to_ascii_lowercase();
    // 0 = script allowed next, 1 = region allowed next, 2 = only variants.
    let mut stage = 0;
    for p in parts {
        let alpha = p.chars().all(|c| c.is_ascii_alphabetic());
        let digits = p.chars().all(|c| c.is_ascii_digit());
        let alnum = p.chars().all(|c| c.is_ascii_alphanumeric());
        if stage == 0 && p.len() == 4 && alpha {
            let mut cs = p.chars();
            let first = cs.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
            out.push('-');
            out.push(first);
            out.extend(cs.map(|c| c.to_ascii_lowercase()));
            stage = 1;
        } else if stage <= 1 && ((p.len() == 2 && alpha) || (p.len() == 3 && digits)) {
            out.push('-');
            out.push_str(&p.to_ascii_uppercase());
            stage = 2;
        } else if alnum
            && ((5..=8).contains(&p.len())
                || (p.len() == 4 && p.starts_with(|c: char| c.is_ascii_digit())))
        {
            out.push('-');
            out.push_str(&p.to_ascii_lowercase());
            stage = 2;
        } else {
            return Err(bad());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        for (i, o) in [
            ("en", "en"),
            ("pt-br", "pt-BR"),
            ("ZH-hant-tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("de_CH", "de-CH"),
            ("sl-rozaj", "sl-rozaj"),
        ] {
            assert_eq!(parse_language_tag(i).unwrap(), o);
        }
        for bad in [
            "",
            "e",
            "english",
            "en-",
            "en--US",
            "en-US-US-x",
            "1en",
            "en US",
            "de-<script>",
        ] {
            assert!(parse_language_tag(bad).is_err(), "{bad}");
        }
    }
}
