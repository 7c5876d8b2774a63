// Over 600 lines: about 190 are tests; the upload rules, the record and its ports are one topic.
//! Media: what may be uploaded, how big, under which name; the media record; and the ports
//! the server's adapters implement ([`MediaStore`] for the bytes, [`Scanner`] for viruses).
//!
//! Pure rules only: the server sniffs bytes, streams files and decodes images; this module
//! decides, from what it is told, whether that is allowed (OWASP file-upload rules: allowlist
//! by content, extension must agree, names are display text, limits per kind).

use crate::ids::{MediaId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// Broad class of an upload; decides its size limit and how it is served.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    File,
}

impl MediaKind {
    pub const ALL: [MediaKind; 4] = [
        MediaKind::Image,
        MediaKind::Audio,
        MediaKind::Video,
        MediaKind::File,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Images, audio and video may be shown inline; everything else is served as a download.
    pub fn inline(self) -> bool {
        !matches!(self, MediaKind::File)
    }
}

/// One allowed content type: the MIME type the sniffer reports, its kind, and the file-name
/// extensions that may carry it.
struct Allowed {
    mime: &'static str,
    kind: MediaKind,
    exts: &'static [&'static str],
}

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
const ODT: &str = "application/vnd.oasis.opendocument.text";
const ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";
const ODP: &str = "application/vnd.oasis.opendocument.presentation";
pub const ZIP: &str = "application/zip";
pub const TEXT: &str = "text/plain";

/// The allowlist. AVIF is not here yet: we re-encode every image to strip metadata and have no
/// AVIF decoder, so it is refused rather than stored with its metadata.
const ALLOWED: &[Allowed] = &[
    Allowed {
        mime: "image/jpeg",
        kind: MediaKind::Image,
        exts: &["jpg", "jpeg", "jfif"],
    },
    Allowed {
        mime: "image/png",
        kind: MediaKind::Image,
        exts: &["png"],
    },
    Allowed {
        mime: "image/webp",
        kind: MediaKind::Image,
        exts: &["webp"],
    },
    Allowed {
        mime: "image/gif",
        kind: MediaKind::Image,
        exts: &["gif"],
    },
    Allowed {
        mime: "audio/ogg",
        kind: MediaKind::Audio,
        exts: &["ogg", "oga", "opus"],
    },
    Allowed {
        mime: "audio/opus",
        kind: MediaKind::Audio,
        exts: &["opus", "ogg", "oga"],
    },
    Allowed {
        mime: "audio/mpeg",
        kind: MediaKind::Audio,
        exts: &["mp3"],
    },
    Allowed {
        mime: "audio/m4a",
        kind: MediaKind::Audio,
        exts: &["m4a"],
    },
    Allowed {
        mime: "audio/x-m4a",
        kind: MediaKind::Audio,
        exts: &["m4a"],
    },
    Allowed {
        mime: "video/mp4",
        kind: MediaKind::Video,
        exts: &["mp4", "m4v"],
    },
    Allowed {
        mime: "video/webm",
        kind: MediaKind::Video,
        exts: &["webm"],
    },
    Allowed {
        mime: "application/pdf",
        kind: MediaKind::File,
        exts: &["pdf"],
    },
    Allowed {
        mime: DOCX,
        kind: MediaKind::File,
        exts: &["docx"],
    },
    Allowed {
        mime: XLSX,
        kind: MediaKind::File,
        exts: &["xlsx"],
    },
    Allowed {
        mime: PPTX,
        kind: MediaKind::File,
        exts: &["pptx"],
    },
    Allowed {
        mime: ODT,
        kind: MediaKind::File,
        exts: &["odt"],
    },
    Allowed {
        mime: ODS,
        kind: MediaKind::File,
        exts: &["ods"],
    },
    Allowed {
        mime: ODP,
        kind: MediaKind::File,
        exts: &["odp"],
    },
    Allowed {
        mime: "application/msword",
        kind: MediaKind::File,
        exts: &["doc"],
    },
    Allowed {
        mime: "application/vnd.ms-excel",
        kind: MediaKind::File,
        exts: &["xls"],
    },
    Allowed {
        mime: "application/vnd.ms-powerpoint",
        kind: MediaKind::File,
        exts: &["ppt"],
    },
    Allowed {
        mime: ZIP,
        kind: MediaKind::File,
        exts: &["zip"],
    },
];

/// Office formats that are ZIP containers: a sniffer that only sees "zip" is told the truth by
/// the extension (the archive limits still apply to them).
const ZIP_CONTAINERS: &[(&str, &str)] = &[
    ("docx", DOCX),
    ("xlsx", XLSX),
    ("pptx", PPTX),
    ("odt", ODT),
    ("ods", ODS),
    ("odp", ODP),
];

/// Extensions accepted as plain text when the bytes are UTF-8 without NULs.
const TEXT_EXTS: &[&str] = &["txt", "md", "csv", "log"];

/// What an upload turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub kind: MediaKind,
    pub mime: &'static str,
}

impl Decided {
    /// ZIP containers (ZIP itself and the Office formats built on it) get the archive checks.
    pub fn is_zip_container(&self) -> bool {
        self.mime == ZIP || ZIP_CONTAINERS.iter().any(|(_, m)| *m == self.mime)
    }
}

/// Why an upload was refused. `code()` is the API error code and the metrics `reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The content is not on the allowlist (`detected` is what the bytes look like, if known).
    UnsupportedType { detected: Option<String> },
    /// The content is allowed, but the file name's extension claims something else.
    ExtensionMismatch { detected: String, ext: String },
    /// Larger than the limit for its kind.
    TooLarge { kind: MediaKind, limit: u64 },
    /// The request body as a whole exceeded the largest limit.
    BodyTooLarge { limit: u64 },
    /// The uploader's storage quota would be exceeded.
    QuotaExceeded { quota: u64 },
    /// Image dimensions beyond the pixel-flood limits (checked from the header, before decoding).
    ImageTooLarge { width: u32, height: u32 },
    /// Not a decodable image of its declared type.
    InvalidImage,
    /// Archive entry count or total uncompressed size beyond the limits (a zip bomb).
    ArchiveTooLarge,
    /// Not a readable archive.
    InvalidArchive,
    /// The virus scanner found something.
    Infected,
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnsupportedType { .. } => "unsupported_media_type",
            Rejection::ExtensionMismatch { .. } => "extension_mismatch",
            Rejection::TooLarge { .. } => "file_too_large",
            Rejection::BodyTooLarge { .. } => "payload_too_large",
            Rejection::QuotaExceeded { .. } => "quota_exceeded",
            Rejection::ImageTooLarge { .. } => "image_too_large",
            Rejection::InvalidImage => "invalid_image",
            Rejection::ArchiveTooLarge => "archive_too_large",
            Rejection::InvalidArchive => "invalid_archive",
            Rejection::Infected => "infected",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Rejection::UnsupportedType { detected: Some(d) } => format!(
                "files of type {d} are not accepted; allowed: JPEG, PNG, WebP, GIF images; Ogg/Opus, MP3, M4A, WebM audio; MP4, WebM video; PDF, plain text, Office documents, ZIP"
            ),
            Rejection::UnsupportedType { detected: None } => "the file's content is not a type we accept (allowed: JPEG, PNG, WebP, GIF images; Ogg/Opus, MP3, M4A, WebM audio; MP4, WebM video; PDF, plain text, Office documents, ZIP)".into(),
            Rejection::ExtensionMismatch { detected, ext } => format!(
                "the file's content is {detected}, which does not match its extension .{ext}"
            ),
            Rejection::TooLarge { kind, limit } => {
                format!("{} files may be at most {limit} bytes", kind.as_str())
            }
            Rejection::BodyTooLarge { limit } => {
                format!("the upload may be at most {limit} bytes")
            }
            Rejection::QuotaExceeded { quota } => {
                format!("this upload would exceed your storage quota of {quota} bytes")
            }
            Rejection::ImageTooLarge { width, height } => format!(
                "image dimensions {width}×{height} exceed the allowed size"
            ),
            Rejection::InvalidImage => "the image could not be decoded".into(),
            Rejection::ArchiveTooLarge => {
                "the archive has too many entries or expands to too much data".into()
            }
            Rejection::InvalidArchive => "the archive could not be read".into(),
            Rejection::Infected => "the file was flagged by the virus scanner".into(),
        }
    }
}

/// Upload limits (all configurable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaLimits {
    pub image_bytes: u64,
    pub audio_bytes: u64,
    pub video_bytes: u64,
    pub file_bytes: u64,
    /// Bytes one user may keep stored in total.
    pub quota_bytes: u64,
    pub max_pixels: u64,
    pub max_side: u32,
    pub archive_max_entries: u64,
    pub archive_max_uncompressed: u64,
}

const MB: u64 = 1024 * 1024;

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            image_bytes: 20 * MB,
            audio_bytes: 20 * MB,
            video_bytes: 100 * MB,
            file_bytes: 50 * MB,
            quota_bytes: 1024 * MB,
            max_pixels: 50_000_000,
            max_side: 16_384,
            archive_max_entries: 10_000,
            archive_max_uncompressed: 1024 * MB,
        }
    }
}

impl MediaLimits {
    pub fn for_kind(&self, kind: MediaKind) -> u64 {
        match kind {
            MediaKind::Image => self.image_bytes,
            MediaKind::Audio => self.audio_bytes,
            MediaKind::Video => self.video_bytes,
            MediaKind::File => self.file_bytes,
        }
    }

    /// The most any upload may be (before its kind is known).
    pub fn largest(&self) -> u64 {
        MediaKind::ALL
            .into_iter()
            .map(|k| self.for_kind(k))
            .max()
            .unwrap_or(0)
    }

    /// Pixel-flood check from header dimensions, before any pixel is decoded.
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<(), Rejection> {
        let pixels = u64::from(width) * u64::from(height);
        if width == 0
            || height == 0
            || width > self.max_side
            || height > self.max_side
            || pixels > self.max_pixels
        {
            return Err(Rejection::ImageTooLarge { width, height });
        }
        Ok(())
    }

    /// Zip-bomb check from the central directory's figures.
    pub fn check_archive(&self, entries: u64, uncompressed: u64) -> Result<(), Rejection> {
        if entries > self.archive_max_entries || uncompressed > self.archive_max_uncompressed {
            return Err(Rejection::ArchiveTooLarge);
        }
        Ok(())
    }

    pub fn check_quota(&self, used: u64, adding: u64) -> Result<(), Rejection> {
        if used.saturating_add(adding) > self.quota_bytes {
            return Err(Rejection::QuotaExceeded {
                quota: self.quota_bytes,
            });
        }
        Ok(())
    }
}

/// Longest display name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A file name as display text: the last path component only, without control characters
/// (NUL included), bidirectional controls or line separators, without leading dots or
/// surrounding white space, at most [`MAX_NAME_CHARS`] characters (keeping a short extension);
/// `file` when nothing is left. Sanitising a sanitised name changes nothing.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !is_line_separator(*c))
        .collect();
    // Dots and spaces in any mix (" . .htaccess"), so no hidden-file name survives.
    let cleaned = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end();
    if cleaned.is_empty() {
        return "file".into();
    }
    if cleaned.chars().count() <= MAX_NAME_CHARS {
        return cleaned.to_owned();
    }
    match extension(cleaned) {
        Some(ext) if ext.chars().count() < 16 => {
            let keep = MAX_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = cleaned.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        // Trimmed again: the cut may end in white space, which a second pass would remove.
        _ => cleaned
            .chars()
            .take(MAX_NAME_CHARS)
            .collect::<String>()
            .trim_end()
            .to_owned(),
    }
}

/// Unicode's Bidi_Control characters: they can make `gnp.exe` display as `exe.png`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Line and paragraph separators: not control characters, but they break a name's line.
fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// The lower-cased extension of a (sanitised) name, if it has one.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// Decides what an upload is from `sniffed` (the MIME type the content sniffer reported for the
/// first bytes, if any), `head` (those bytes) and the sanitised file name.
pub fn decide(sniffed: Option<&str>, head: &[u8], name: &str) -> Result<Decided, Rejection> {
    let ext = extension(name).unwrap_or_default();
    let Some(sniffed) = sniffed else {
        // Nothing recognisable: only plain text may pass, and only with a text extension.
        if TEXT_EXTS.contains(&ext.as_str()) && looks_like_text(head) {
            return Ok(Decided {
                kind: MediaKind::File,
                mime: TEXT,
            });
        }
        return Err(Rejection::UnsupportedType { detected: None });
    };
    if sniffed == ZIP
        && let Some((_, mime)) = ZIP_CONTAINERS.iter().find(|(e, _)| *e == ext)
    {
        return Ok(Decided {
            kind: MediaKind::File,
            mime,
        });
    }
    // Voice notes recorded in browsers are WebM; `.weba` marks audio-only WebM.
    if sniffed == "video/webm" && ext == "weba" {
        return Ok(Decided {
            kind: MediaKind::Audio,
            mime: "audio/webm",
        });
    }
    let Some(allowed) = ALLOWED.iter().find(|a| a.mime == sniffed) else {
        return Err(Rejection::UnsupportedType {
            detected: Some(sniffed.to_owned()),
        });
    };
    if !allowed.exts.contains(&ext.as_str()) {
        return Err(Rejection::ExtensionMismatch {
            detected: sniffed.to_owned(),
            ext: if ext.is_empty() { "(none)".into() } else { ext },
        });
    }
    Ok(Decided {
        kind: allowed.kind,
        mime: allowed.mime,
    })
}

/// UTF-8 (a character cut at the end of `head` is fine) without NUL bytes.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// An uploaded file as recorded. The bytes live in the [`MediaStore`] under keys derived from
/// the id ([`storage_key`], [`thumb_key`]), never from the uploader's file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    pub id: MediaId,
    pub owner_id: UserId,
    pub kind: MediaKind,
    /// Sniffed (for images: of the re-encoded file we store).
    pub mime: String,
    pub size: i64,
    /// Display text only (sanitised).
    pub name: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub blurhash: Option<String>,
    /// Whether WebP thumbnails ([`THUMB_SIZES`]) were stored.
    pub has_thumbs: bool,
    pub created_at: DateTime<Utc>,
    /// Set once the upload is used (posted in a message, or as an avatar); unattached uploads
    /// are removed after a day.
    pub attached_at: Option<DateTime<Utc>>,
}

impl Media {
    pub fn attachment(&self) -> Attachment {
        Attachment {
            id: self.id,
            kind: self.kind,
            mime: self.mime.clone(),
            name: self.name.clone(),
            size: self.size,
            width: self.width,
            height: self.height,
            blurhash: self.blurhash.clone(),
            duration_ms: self.duration_ms,
        }
    }
}

/// Longest side of the WebP thumbnails made for images.
pub const THUMB_SIZES: [u32; 2] = [320, 1280];

pub fn storage_key(id: MediaId) -> String {
    format!("{id}/original")
}

pub fn thumb_key(id: MediaId, size: u32) -> String {
    format!("{id}/w{size}.webp")
}

/// Most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;

/// A file attached to a message, as clients see it. Fetch it with `GET /api/v1/media/{id}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: MediaId,
    pub kind: MediaKind,
    pub mime: String,
    pub name: String,
    pub size: i64,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub width: Option<i32>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub height: Option<i32>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub blurhash: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub duration_ms: Option<i64>,
}

// --- ports -----------------------------------------------------------------------------------

/// Response headers an object must be served with, wherever it is served from: the sniffed
/// type, and `attachment` unless the kind may be shown inline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeHeaders {
    pub content_type: String,
    pub content_disposition: String,
    pub cache_control: String,
}

/// Failure of a [`MediaStore`] or [`Scanner`] call; the caller treats both as "unavailable".
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct PortError(pub String);

/// Where the bytes of uploads live (a local directory, or an S3-compatible bucket).
#[async_trait]
pub trait MediaStore: Send + Sync + 'static {
    /// Stores the file at `file` under `key` (server-chosen), replacing any previous object.
    /// Stores that serve objects themselves (S3) record `headers` with the object, so even a
    /// fetch that bypasses the presigned response headers gets the safe type and disposition.
    async fn put(&self, key: &str, file: &Path, headers: &ServeHeaders) -> Result<(), PortError>;
    /// Removes `key`; a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), PortError>;
    /// A URL the client may fetch `key` from directly for `ttl` (S3 presigned GET), or `None`
    /// when the server serves the bytes itself (see [`MediaStore::local_path`]). The URL must
    /// make the store answer with `headers`, so a direct fetch keeps the serving rules.
    async fn presigned_get(
        &self,
        key: &str,
        ttl: Duration,
        headers: &ServeHeaders,
    ) -> Result<Option<String>, PortError>;
    /// For stores on the local file system: where `key` lives.
    fn local_path(&self, key: &str) -> Option<std::path::PathBuf>;
    /// Copies the object `key` into the local file `dest` (created or replaced), for server-side
    /// processing of stored uploads (avatars) whatever the store.
    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<(), PortError>;
    /// Cheap reachability check, for readiness.
    async fn ping(&self) -> Result<(), PortError>;
}

/// Verdict of a virus scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanVerdict {
    Clean,
    /// The scanner's name for what it found.
    Infected(String),
}

/// A virus scanner. Errors (down, timeout) make uploads fail closed.
#[async_trait]
pub trait Scanner: Send + Sync + 'static {
    async fn scan(&self, file: &Path) -> Result<ScanVerdict, PortError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_display_text() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\x\\cat.png"), "cat.png");
        assert_eq!(sanitize_file_name("evil.php\0.png"), "evil.php.png");
        assert_eq!(sanitize_file_name("a\u{202E}gnp.exe"), "agnp.exe");
        assert_eq!(sanitize_file_name("../"), "file");
        assert_eq!(sanitize_file_name("..."), "file");
        assert_eq!(sanitize_file_name(".htaccess"), "htaccess");
        assert_eq!(sanitize_file_name(" line\nbreak.txt "), "linebreak.txt");
        // Found by the property tests below: dots and spaces in any mix, a cut that ends in
        // white space, and the bidi and line-separator characters that are not `is_control`.
        assert_eq!(sanitize_file_name(" . .htaccess"), "htaccess");
        let spaced = format!("a{}b", " ".repeat(MAX_NAME_CHARS));
        assert_eq!(sanitize_file_name(&spaced), "a");
        assert_eq!(sanitize_file_name("a\u{061C}b\u{2028}c.txt"), "abc.txt");
        let long = format!("{}.jpeg", "x".repeat(500));
        let s = sanitize_file_name(&long);
        assert_eq!(s.chars().count(), MAX_NAME_CHARS);
        assert!(s.ends_with(".jpeg"));
        assert_eq!(
            sanitize_file_name(&"é".repeat(300)).chars().count(),
            MAX_NAME_CHARS
        );
    }

    /// Characters that make names dangerous or ambiguous, mixed with anything at all.
    fn hostile_char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => prop::sample::select(vec![
                '/', '\\', '.', ' ', '\t', '\n', '\r', '\0', '\u{7f}', '\u{85}', '\u{a0}',
                '\u{202E}', '\u{2066}', '\u{200F}', '\u{061C}', '\u{2028}', '\u{2029}',
                '\u{3000}', '\u{feff}', 'é', '😀',
            ]),
            3 => prop::char::range('a', 'z'),
            1 => any::<char>(),
        ]
    }

    fn hostile_name() -> impl Strategy<Value = String> {
        let chars = || {
            prop::collection::vec(hostile_char(), 0..600)
                .prop_map(|c| c.into_iter().collect::<String>())
        };
        // Names opening with dots and spaces in any mix (hidden-file tricks).
        let dotted = (
            prop::collection::vec(prop::sample::select(vec!['.', ' ', '\t', '\u{3000}']), 1..8),
            chars(),
        )
            .prop_map(|(head, tail)| head.into_iter().chain(tail.chars()).collect());
        // Long single components (no separator) with many spaces, to exercise the cut.
        let spaced =
            prop_oneof![2 => Just(' '), 3 => prop::char::range('a', 'z'), 1 => hostile_char()];
        let long = prop::collection::vec(spaced, 150..600).prop_map(|c| {
            c.into_iter()
                .filter(|c| !matches!(c, '/' | '\\'))
                .collect::<String>()
        });
        prop_oneof![chars(), dotted, long, any::<String>()]
    }

    proptest! {
        #[test]
        fn sanitized_names_are_display_text(raw in hostile_name()) {
            let name = sanitize_file_name(&raw);
            prop_assert!(!name.is_empty());
            prop_assert!(name.chars().count() <= MAX_NAME_CHARS, "{} chars", name.chars().count());
            prop_assert!(!name.contains(['/', '\\']), "a path separator in {name:?}");
            prop_assert!(
                !name.chars().any(|c| c.is_control() || is_bidi_control(c) || is_line_separator(c)),
                "a control character in {name:?}"
            );
            prop_assert!(!name.starts_with('.'), "a hidden-file name {name:?}");
            prop_assert_eq!(name.trim(), name.as_str(), "surrounding white space");
            prop_assert_eq!(sanitize_file_name(&name), name.clone(), "sanitising twice changes it");
        }

        #[test]
        fn only_the_last_path_component_counts(dir in hostile_name(), base in hostile_name()) {
            let base = base.replace(['/', '\\'], "");
            prop_assert_eq!(
                sanitize_file_name(&format!("{dir}/{base}")),
                sanitize_file_name(&base)
            );
            prop_assert_eq!(
                sanitize_file_name(&format!("{dir}\\{base}")),
                sanitize_file_name(&base)
            );
        }

        #[test]
        fn short_extensions_survive(
            stem in "[A-Za-z0-9][A-Za-z0-9 ._-]{0,400}",
            ext in "[A-Za-z0-9]{1,15}",
        ) {
            let name = sanitize_file_name(&format!("{stem}.{ext}"));
            prop_assert_eq!(extension(&name), Some(ext.to_ascii_lowercase()));
        }
    }

    #[test]
    fn extensions() {
        assert_eq!(extension("a.PNG").as_deref(), Some("png"));
        assert_eq!(extension("a.tar.gz").as_deref(), Some("gz"));
        assert_eq!(extension("noext"), None);
        assert_eq!(extension("trailing."), None);
    }

    #[test]
    fn type_decisions() {
        let d = decide(Some("image/png"), b"", "cat.png").unwrap();
        assert_eq!((d.kind, d.mime), (MediaKind::Image, "image/png"));
        assert_eq!(
            decide(Some("image/jpeg"), b"", "cat.JPG").unwrap().kind,
            MediaKind::Image
        );
        // HTML named .png: no sniff match, not text-extension.
        assert_eq!(
            decide(None, b"<html><script>", "x.png").unwrap_err(),
            Rejection::UnsupportedType { detected: None }
        );
        // A PNG named .pdf.
        assert_eq!(
            decide(Some("image/png"), b"", "x.pdf").unwrap_err().code(),
            "extension_mismatch"
        );
        assert_eq!(
            decide(Some("image/png"), b"", "noext").unwrap_err().code(),
            "extension_mismatch"
        );
        // SVG, executables, AVIF: not on the list.
        for mime in [
            "image/svg+xml",
            "application/x-executable",
            "image/avif",
            "text/html",
        ] {
            assert_eq!(
                decide(Some(mime), b"", "x.svg").unwrap_err().code(),
                "unsupported_media_type"
            );
        }
        assert_eq!(
            decide(None, "héllo".as_bytes(), "notes.txt").unwrap().mime,
            TEXT
        );
        // A cut multi-byte character at the end of the head is fine; NULs are not.
        assert!(decide(None, &"é".as_bytes()[..1], "a.txt").is_ok());
        assert!(decide(None, b"a\0b", "a.txt").is_err());
        assert!(decide(None, b"", "a.txt").is_err());
        // Office formats are ZIP containers.
        let d = decide(Some(ZIP), b"", "report.docx").unwrap();
        assert!(d.is_zip_container());
        assert_eq!(d.mime, DOCX);
        assert!(decide(Some(ZIP), b"", "a.zip").unwrap().is_zip_container());
        assert!(
            !decide(Some("application/pdf"), b"", "a.pdf")
                .unwrap()
                .is_zip_container()
        );
        assert_eq!(
            decide(Some("video/webm"), b"", "voice.weba").unwrap().kind,
            MediaKind::Audio
        );
    }

    #[test]
    fn limits() {
        let l = MediaLimits::default();
        assert_eq!(l.largest(), 100 * MB);
        assert!(l.check_dimensions(16_384, 3_000).is_ok());
        assert!(l.check_dimensions(16_385, 1).is_err());
        assert!(l.check_dimensions(10_000, 10_000).is_err()); // 100 MP
        assert!(l.check_dimensions(0, 10).is_err());
        assert!(l.check_archive(10, 1000).is_ok());
        assert!(l.check_archive(10_001, 0).is_err());
        assert!(l.check_archive(1, 2 * 1024 * MB).is_err());
        assert!(l.check_quota(l.quota_bytes - 10, 10).is_ok());
        assert_eq!(
            l.check_quota(l.quota_bytes - 10, 11).unwrap_err().code(),
            "quota_exceeded"
        );
        assert_eq!(MediaKind::parse("audio"), Some(MediaKind::Audio));
        assert!(!MediaKind::File.inline());
    }
}
