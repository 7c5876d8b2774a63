//! The local-directory [`MediaStore`]: objects are files under `<data dir>/media/objects`.
//! Keys are chosen by the server (`{uuid}/original`, `{uuid}/w320.webp`); anything else is
//! refused before it can touch the file system.

use async_trait::async_trait;
use justus_core::media::{MediaStore, PortError, ServeHeaders};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct LocalMediaStore {
    root: PathBuf,
}

impl LocalMediaStore {
    pub fn new(root: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf, PortError> {
        if !valid_key(key) {
            return Err(PortError(format!("invalid storage key {key:?}")));
        }
        Ok(self.root.join(key))
    }
}

/// `segment(/segment)*` of `[a-z0-9-.]`, no segment starting with a dot.
pub(crate) fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        })
}

fn io(e: std::io::Error) -> PortError {
    PortError(format!("local media store: {e}"))
}

#[async_trait]
impl MediaStore for LocalMediaStore {
    /// `headers` are applied when the file is served (`api::media::serve_file`), not stored.
    async fn put(&self, key: &str, file: &Path, _headers: &ServeHeaders) -> Result<(), PortError> {
        let dest = self.path(key)?;
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        // Copy to a sibling and rename, so a reader never sees a half-written object.
        let partial = dest.with_extension("partial");
        tokio::fs::copy(file, &partial).await.map_err(io)?;
        tokio::fs::rename(&partial, &dest).await.map_err(io)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    async fn presigned_get(
        &self,
        _key: &str,
        _ttl: Duration,
        _headers: &ServeHeaders,
    ) -> Result<Option<String>, PortError> {
        Ok(None)
    }

    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<(), PortError> {
        let src = self
            .local_path(key)
            .ok_or_else(|| PortError(format!("invalid media key {key:?}")))?;
        tokio::fs::copy(&src, dest)
            .await
            .map(|_| ())
            .map_err(|e| PortError(format!("local media store: cannot read {key}: {e}")))
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok()
    }

    async fn ping(&self) -> Result<(), PortError> {
        tokio::fs::metadata(&self.root).await.map(drop).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::valid_key;

    #[test]
    fn keys() {
        assert!(valid_key("0190c0de-0000-7000-8000-000000000000/original"));
        assert!(valid_key("abc/w320.webp"));
        for bad in [
            "",
            "../x",
            "a/../b",
            "/abs",
            "a//b",
            "A/b",
            "a/.hidden",
            "a\\b",
            "a/b\0",
        ] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }
}
