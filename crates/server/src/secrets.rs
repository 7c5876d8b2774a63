//! Signing secrets: from `JWT_SECRET` (+ `JWT_PREVIOUS_SECRETS`), or generated on first start
//! and kept in `<data dir>/jwt-secret` with mode 0600. Each non-empty line of that file is a
//! secret; the first signs, the rest only verify (rotate by prepending a new line).

use crate::config::Config;
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use justus_core::secret::check_signing_secret;
use rand::RngCore;
use std::io::Write;
use std::path::Path;

///
/// Every secret, retired ones included, must pass [`check_signing_secret`]: a token signed with
/// a published or guessable secret could have been minted by anyone.
pub fn signing_secrets(config: &Config) -> anyhow::Result<Vec<Vec<u8>>> {
    if let Some(s) = &config.auth.jwt_secret {
        check_configured(config)?;
        let mut v = vec![s.expose().as_bytes().to_vec()];
        v.extend(
            config
                .auth
                .jwt_previous_secrets
                .iter()
                .map(|s| s.expose().as_bytes().to_vec()),
        );
        return Ok(v);
    }
    let path = config.data_dir.join("jwt-secret");
    let secrets = load_or_generate(&path)?;
    for (i, s) in secrets.iter().enumerate() {
        check_signing_secret(s)
            .map_err(|e| anyhow::anyhow!("line {} of {} {e}", i + 1, path.display()))?;
    }
    Ok(secrets)
}

/// Checks the secrets given in the configuration (`main` calls it first, to stop with a
/// one-line error that names the setting but never shows the value).
pub fn check_configured(config: &Config) -> anyhow::Result<()> {
    if let Some(s) = &config.auth.jwt_secret {
        check_signing_secret(s.expose().as_bytes())
            .map_err(|e| anyhow::anyhow!("JWT_SECRET {e}"))?;
    }
    for (i, old) in config.auth.jwt_previous_secrets.iter().enumerate() {
        check_signing_secret(old.expose().as_bytes())
            .map_err(|e| anyhow::anyhow!("JWT_PREVIOUS_SECRETS entry {} {e}", i + 1))?;
    }
    Ok(())
}

fn load_or_generate(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            let secrets: Vec<Vec<u8>> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| l.as_bytes().to_vec())
                .collect();
            anyhow::ensure!(
                !secrets.is_empty() && secrets.iter().all(|s| s.len() >= 32),
                "{} must hold one or more secrets of at least 32 bytes, one per line",
                path.display()
            );
            Ok(secrets)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create data dir {}", dir.display()))?;
            }
            let mut bytes = [0u8; 48];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let secret = STANDARD.encode(bytes);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            writeln!(f, "{secret}")?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new signing secret");
            Ok(vec![secret.into_bytes()])
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "signing secret file is readable by group or others; chmod 600 it");
        }
    }
}

#[cfg(test)]
mod tests {
    /// Nothing the repository shows as a secret value (compose files, docs, README) would be
    /// accepted: a value copied from there is public.
    #[test]
    fn no_usable_secret_is_published_in_the_repository() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = vec![root.join("README.md"), root.join("deploy/compose.yaml")];
        for dir in ["docs", "deploy"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                files.push(e.path());
            }
        }
        for f in files.iter().filter(|f| f.is_file()) {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            for (i, _) in text.match_indices("JWT_SECRET") {
                let rest = &text[i + "JWT_SECRET".len()..];
                let Some(rest) = rest.strip_prefix('=').or_else(|| rest.strip_prefix(": ")) else {
                    continue;
                };
                let value: String = rest
                    .trim_start_matches(['"', '\''])
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '`'))
                    .collect();
                // `${…}` and `…` placeholders are not values.
                if value.is_empty() || value.starts_with('$') || value.starts_with('…') {
                    continue;
                }
                assert!(
                    super::check_signing_secret(value.as_bytes()).is_err(),
                    "{} shows a usable JWT_SECRET value",
                    f.display()
                );
            }
        }
        // The scan itself must not silently match nothing because the files moved.
        assert!(
            files
                .iter()
                .any(|f| f.ends_with("compose.yaml") && f.is_file())
        );
    }

    #[test]
    fn generated_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("jwt-secret");
        let a = super::load_or_generate(&path).unwrap();
        let b = super::load_or_generate(&path).unwrap();
        assert_eq!(a, b, "stable across restarts");
        assert!(a[0].len() >= 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
