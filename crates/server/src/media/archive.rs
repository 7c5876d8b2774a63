//! ZIP containers (ZIP, Office documents): entry count and total uncompressed size, read from
//! the central directory without extracting anything.

use justus_core::media::{MediaLimits, Rejection};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// End-of-central-directory record: signature, and the offset of its total-entries field.
const EOCD_SIG: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
const EOCD_MIN: u64 = 22;
/// The EOCD may be followed by a comment of up to 64 KiB.
const EOCD_SEARCH: u64 = EOCD_MIN + 65_535;

/// Entry count from the EOCD record, read before the zip crate parses (and allocates for)
/// every central-directory entry: a tiny file can claim millions of entries.
fn eocd_entries(path: &Path) -> Result<u64, Rejection> {
    let mut f = std::fs::File::open(path).map_err(|_| Rejection::InvalidArchive)?;
    let len = f.metadata().map_err(|_| Rejection::InvalidArchive)?.len();
    if len < EOCD_MIN {
        return Err(Rejection::InvalidArchive);
    }
    let tail_len = len.min(EOCD_SEARCH);
    f.seek(SeekFrom::Start(len - tail_len))
        .map_err(|_| Rejection::InvalidArchive)?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail)
        .map_err(|_| Rejection::InvalidArchive)?;
    let at = tail
        .windows(4)
        .rposition(|w| w == EOCD_SIG)
        .ok_or(Rejection::InvalidArchive)?;
    let rec = tail
        .get(at..at + EOCD_MIN as usize)
        .ok_or(Rejection::InvalidArchive)?;
    // Total entries in the central directory (0xFFFF means "see the ZIP64 record": many).
    Ok(u64::from(u16::from_le_bytes([rec[10], rec[11]])))
}

pub fn check_zip(path: &Path, limits: &MediaLimits) -> Result<(), Rejection> {
    let claimed = eocd_entries(path)?;
    if claimed > limits.archive_max_entries {
        return Err(Rejection::ArchiveTooLarge);
    }
    let f = std::fs::File::open(path).map_err(|_| Rejection::InvalidArchive)?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|_| Rejection::InvalidArchive)?;
    let entries = zip.len() as u64;
    limits.check_archive(entries, 0)?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| Rejection::InvalidArchive)?;
        total = total.saturating_add(entry.size());
        if total > limits.archive_max_uncompressed {
            return Err(Rejection::ArchiveTooLarge);
        }
    }
    limits.check_archive(entries, total)
}
