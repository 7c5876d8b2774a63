//! Signing secrets: from `JWT_SECRET` (+ `JWT_PREVIOUS_SECRETS`), or generated on first start
//! and kept in `<data dir>/jwt-secret` with mode 0600. Each non-empty line of that file is a
//! secret; the first signs, the rest only verify (rotate by prepending a new line).

use crate::config::Config;
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use std::io::Write;
use std::path::Path;

pub fn signing_secrets(config: &Config) -> anyhow::Result<Vec<Vec<u8>>> {
    if let Some(s) = &config.jwt_secret {
        let mut v = vec![s.expose().as_bytes().to_vec()];
        v.extend(
            config
                .jwt_previous_secrets
                .iter()
                .map(|s| s.expose().as_bytes().to_vec()),
        );
        return Ok(v);
    }
    load_or_generate(&config.data_dir.join("jwt-secret"))
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
