//! `justus backup <file>` and `justus restore <file>` for the embedded deployment (SQLite and
//! the local media folder in the data dir); PostgreSQL and S3 have their own tools
//! (docs/operations.md, "Backups").
//!
//! A backup is one tar file: `justus.db` (a consistent snapshot taken while the server keeps
//! serving: `justus_store_sqlite::snapshot`), `jwt-secret` when the data dir has one, and
//! `media/` (uploads are written once and never changed). The snapshot is taken first, so every
//! upload it refers to is already on disk when the folder is copied; uploads made meanwhile
//! are extra files nothing refers to yet, and the daily sweep removes them.
//!
//! Restore writes into a data dir without a database, accepting only those three kinds of
//! entry (regular files and directories, no links, no path leaving the data dir), then checks
//! the database's integrity.

use anyhow::{Context, bail};
use std::fs::File;
use std::path::{Component, Path};

/// What a backup or restore moved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub database_bytes: u64,
    pub media_files: u64,
    pub media_bytes: u64,
    pub secret: bool,
}

const DB: &str = "justus.db";
const SECRET: &str = "jwt-secret";
const MEDIA: &str = "media";

/// Writes a backup of `data_dir` to `out` (which must not exist).
pub fn create(data_dir: &Path, out: &Path) -> anyhow::Result<Summary> {
    let db = data_dir.join(DB);
    if !db.is_file() {
        bail!(
            "no SQLite database at {} (with PostgreSQL, use pg_dump: docs/operations.md)",
            db.display()
        );
    }
    if out.exists() {
        bail!("{} exists already", out.display());
    }
    let staging = tempfile::Builder::new()
        .prefix(".justus-backup-")
        .tempdir_in(
            out.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .context("cannot create a staging directory next to the backup")?;
    let copy = staging.path().join(DB);
    justus_store_sqlite::snapshot(&db, &copy).context("cannot snapshot the database")?;

    let mut summary = Summary {
        database_bytes: std::fs::metadata(&copy)?.len(),
        ..Summary::default()
    };
    // Written under a temporary name and renamed: a backup file that exists is complete.
    let partial = staging.path().join("backup.tar");
    let mut tar = tar::Builder::new(File::create(&partial)?);
    tar.follow_symlinks(false);
    tar.append_path_with_name(&copy, DB)?;
    let secret = data_dir.join(SECRET);
    if secret.is_file() {
        tar.append_path_with_name(&secret, SECRET)?;
        summary.secret = true;
    }
    let media = data_dir.join(MEDIA);
    if media.is_dir() {
        for entry in walk(&media)? {
            let rel = entry.strip_prefix(data_dir)?;
            tar.append_path_with_name(&entry, rel)?;
            summary.media_files += 1;
            summary.media_bytes += std::fs::metadata(&entry)?.len();
        }
    }
    tar.into_inner()?.sync_all()?;
    std::fs::rename(&partial, out)
        .with_context(|| format!("cannot move the backup to {}", out.display()))?;
    Ok(summary)
}

/// Restores the backup `archive` into `data_dir`, which must not hold a database yet.
pub fn restore(archive: &Path, data_dir: &Path) -> anyhow::Result<Summary> {
    if data_dir.join(DB).exists() {
        bail!(
            "{} already has a database: restore into an empty data dir",
            data_dir.display()
        );
    }
    std::fs::create_dir_all(data_dir)?;
    let mut summary = Summary::default();
    let mut tar = tar::Archive::new(
        File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?,
    );
    tar.set_preserve_permissions(true);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let kind = entry.header().entry_type();
        let allowed = path.components().all(|c| matches!(c, Component::Normal(_)))
            && match path.to_str() {
                Some(DB) | Some(SECRET) => kind.is_file(),
                Some(p) => {
                    (p == MEDIA || p.starts_with("media/")) && (kind.is_file() || kind.is_dir())
                }
                None => false,
            };
        if !allowed {
            bail!(
                "{} is not part of a JustUs backup: refusing {}",
                archive.display(),
                path.display()
            );
        }
        let size = entry.size();
        if !entry.unpack_in(data_dir)? {
            bail!("refusing {}: it would leave the data dir", path.display());
        }
        match path.to_str() {
            Some(DB) => summary.database_bytes = size,
            Some(SECRET) => summary.secret = true,
            _ if kind.is_file() => {
                summary.media_files += 1;
                summary.media_bytes += size;
            }
            _ => {}
        }
    }
    let db = data_dir.join(DB);
    if !db.is_file() {
        bail!("{} holds no database", archive.display());
    }
    justus_store_sqlite::check_integrity(&db).context("the restored database is damaged")?;
    Ok(summary)
}

/// Regular files under `dir`, recursively (symbolic links are not followed).
fn walk(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive that tries to write outside the data dir, or a link, is refused before
    /// anything of it is written.
    #[test]
    fn hostile_archives_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (name, kind) in [
            ("../escape", tar::EntryType::Regular),
            ("media/../../escape", tar::EntryType::Regular),
            ("media/link", tar::EntryType::Symlink),
            ("other.txt", tar::EntryType::Regular),
        ] {
            let archive = dir.path().join("hostile.tar");
            let mut b = tar::Builder::new(File::create(&archive).unwrap());
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_size(0);
            h.set_mode(0o644);
            if kind == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").unwrap();
            }
            // `set_path` refuses `..`; write the raw name as an attacker would.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_cksum();
            b.append(&h, std::io::empty()).unwrap();
            b.into_inner().unwrap();
            let target = dir.path().join("data");
            let e = restore(&archive, &target).unwrap_err().to_string();
            assert!(e.contains("refusing"), "{name}: {e}");
            assert!(!dir.path().join("escape").exists());
            assert!(!target.join("media/link").exists());
            std::fs::remove_file(&archive).unwrap();
        }
    }

    #[test]
    fn nothing_to_back_up_or_a_used_target_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = create(dir.path(), &dir.path().join("b.tar")).unwrap_err();
        assert!(e.to_string().contains("no SQLite database"), "{e}");
        std::fs::write(dir.path().join(DB), b"x").unwrap();
        let e = restore(&dir.path().join("b.tar"), dir.path()).unwrap_err();
        assert!(e.to_string().contains("already has a database"), "{e}");
    }
}
