//! Secrets from files: every setting that holds a secret may instead be given as `<NAME>_FILE`,
//! the path of a file holding the value — the convention of Docker and Kubernetes secrets,
//! which keeps the value out of the environment listing and the orchestrator's spec.
//!
//! `main` reads the files before the configuration is parsed and hands the values to it under
//! their plain names, so every check and redaction of the setting applies unchanged.

use std::ffi::OsString;
use std::path::Path;

/// The settings that hold secrets. Each may be set as `NAME` or as `NAME_FILE`, not both.
pub const SECRET_SETTINGS: &[&str] = &[
    "JWT_SECRET",
    "JWT_PREVIOUS_SECRETS",
    "DATABASE_URL",
    "REDIS_URL",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "AI_API_KEY",
];

/// A secret file larger than this is a mistake (a key, a URL or a list of keys is far smaller).
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// For each secret setting given as `NAME_FILE` (looked up with `var`), its name and the file's
/// content without the trailing line break editors and `echo` add. The error names the
/// setting and the path, never the content.
pub fn read(var: impl Fn(&str) -> Option<OsString>) -> Result<Vec<(&'static str, String)>, String> {
    let mut out = Vec::new();
    for &name in SECRET_SETTINGS {
        let file_var = format!("{name}_FILE");
        let Some(path) = var(&file_var) else {
            continue;
        };
        if var(name).is_some() {
            return Err(format!("set {name} or {file_var}, not both"));
        }
        let value = read_one(Path::new(&path)).map_err(|e| format!("{file_var}: {e}"))?;
        out.push((name, value));
    }
    Ok(out)
}

fn read_one(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("{shown} is larger than {MAX_FILE_BYTES} bytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))?;
    let value = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if value.is_empty() {
        return Err(format!("{shown} is empty"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn reads_files_and_drops_only_the_final_line_break() {
        let dir = tempfile::tempdir().unwrap();
        let jwt = dir.path().join("jwt");
        let s3 = dir.path().join("s3");
        std::fs::write(&jwt, "a b  c\n").unwrap();
        std::fs::write(&s3, "key\r\n\r\n").unwrap();
        let got = read(env(&[
            ("JWT_SECRET_FILE", jwt.to_str().unwrap()),
            ("S3_SECRET_ACCESS_KEY_FILE", s3.to_str().unwrap()),
            ("AI_API_KEY", "plain"),
        ]))
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("JWT_SECRET", "a b  c".to_string()),
                ("S3_SECRET_ACCESS_KEY", "key\r\n".to_string()),
            ]
        );
        assert!(read(env(&[])).unwrap().is_empty());
    }

    #[test]
    fn refuses_ambiguous_missing_empty_and_huge_files_without_showing_content() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "hunter2-hunter2\n").unwrap();
        let path = secret.to_str().unwrap();
        let both = read(env(&[("JWT_SECRET", "x"), ("JWT_SECRET_FILE", path)])).unwrap_err();
        assert_eq!(both, "set JWT_SECRET or JWT_SECRET_FILE, not both");
        let missing = read(env(&[("DATABASE_URL_FILE", "/nonexistent/db-url")])).unwrap_err();
        assert!(missing.starts_with("DATABASE_URL_FILE: cannot read /nonexistent/db-url"));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let e = read(env(&[("REDIS_URL_FILE", empty.to_str().unwrap())])).unwrap_err();
        assert!(e.ends_with("is empty"), "{e}");
        let huge = dir.path().join("huge");
        std::fs::write(&huge, vec![b'a'; 70_000]).unwrap();
        let e = read(env(&[("AI_API_KEY_FILE", huge.to_str().unwrap())])).unwrap_err();
        assert!(e.contains("larger than"), "{e}");
        let e = read(env(&[("AI_API_KEY_FILE", dir.path().to_str().unwrap())])).unwrap_err();
        assert!(e.contains("not a file"), "{e}");
        for e in [both, missing] {
            assert!(!e.contains("hunter2"));
        }
    }
}
