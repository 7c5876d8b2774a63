//! Media: uploads (streamed, sniffed, checked, scanned, cleaned), storage, signed URLs and the
//! sweeper of unused uploads. The rules live in `justus_core::media`; this is the machinery.
//!
//! - `upload.rs`: the `POST /api/v1/media` pipeline.
//! - `images.rs`: pixel-flood check, decode, orientation, re-encode, thumbnails, blurhash.
//! - `budget.rs`: the memory budget every image decode takes its estimated peak from.
//! - `quota.rs`: bytes of uploads still streaming, counted against their owner's quota.
//! - `archive.rs`: zip-bomb check from the central directory.
//! - `scan.rs`: the clamd scanner.
//! - `storage.rs`: the local-directory media store.
//! - `s3.rs`: the S3 media store (when `S3_BUCKET` is set), presigned GET URLs.
//! - `signing.rs`: HMAC-signed, expiring URLs for the local store.
//! - `sweep.rs`: deletes uploads never attached.
//! - `avatar.rs`: user and group avatars cut from image uploads.

pub mod archive;
pub mod avatar;
pub mod budget;
pub mod disposition;
pub mod images;
pub mod local;
pub mod quota;
pub mod s3;
pub mod scan;
pub mod signing;
pub mod sweep;
pub mod upload;

use crate::config::Config;
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use anyhow::Context;
use justus_core::MediaId;
use justus_core::media::{
    Media, MediaLimits, MediaStore, Rejection, Scanner, ServeHeaders, storage_key, thumb_key,
};
use signing::UrlSigner;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Everything the media endpoints need, built once from config.
pub struct MediaService {
    pub store: Arc<dyn MediaStore>,
    pub scanner: Option<Arc<dyn Scanner>>,
    pub signer: UrlSigner,
    pub limits: MediaLimits,
    /// Uploads are streamed here (same file system as the local store).
    pub tmp_dir: PathBuf,
    pub url_ttl: Duration,
    /// Memory for image decoding (`MEDIA_DECODE_MEMORY_BYTES`, `MEDIA_DECODE_QUEUE`).
    pub decode_budget: budget::DecodeBudget,
    /// Uploads still streaming, per user, for the quota.
    pub reservations: quota::Reservations,
}

pub fn limits(config: &Config) -> MediaLimits {
    MediaLimits {
        image_bytes: config.media.max_image_bytes,
        audio_bytes: config.media.max_audio_bytes,
        video_bytes: config.media.max_video_bytes,
        file_bytes: config.media.max_file_bytes,
        quota_bytes: config.media.quota_bytes,
        max_pixels: config.media.max_pixels,
        max_side: config.media.max_side,
        archive_max_entries: config.media.archive_max_entries,
        archive_max_uncompressed: config.media.archive_max_uncompressed_bytes,
    }
}

impl MediaService {
    /// `secret` signs local media URLs (a key is derived from it).
    pub fn from_config(config: &Config, secret: &[u8]) -> anyhow::Result<Self> {
        let root = config.data_dir.join("media");
        let tmp_dir = root.join("tmp");
        std::fs::create_dir_all(&tmp_dir)
            .with_context(|| format!("cannot create {}", tmp_dir.display()))?;
        let store: Arc<dyn MediaStore> = match &config.s3.bucket {
            Some(bucket) => {
                tracing::info!(bucket = %bucket, endpoint = ?config.s3.endpoint.as_ref().map(|u| u.as_str()),
                    "media is stored in S3");
                Arc::new(s3::S3MediaStore::from_config(config, bucket)?)
            }
            None => Arc::new(
                local::LocalMediaStore::new(root.join("objects"))
                    .with_context(|| format!("cannot create {}", root.display()))?,
            ),
        };
        let scanner: Option<Arc<dyn Scanner>> = match &config.media.clamav_url {
            Some(addr) => {
                tracing::info!(clamd = %addr, "virus scanning of uploads is on (clamd)");
                Some(Arc::new(scan::ClamdScanner::new(
                    addr.clone(),
                    Duration::from_secs(config.media.clamav_timeout_seconds),
                )))
            }
            None => {
                tracing::info!("virus scanning of uploads is off (set CLAMAV_URL to enable)");
                None
            }
        };
        Ok(Self {
            store,
            scanner,
            signer: UrlSigner::new(secret),
            limits: limits(config),
            tmp_dir,
            url_ttl: Duration::from_secs(config.media.url_ttl_seconds),
            decode_budget: budget::DecodeBudget::new(
                config.media.decode_memory_bytes,
                config.media.decode_queue as usize,
            ),
            reservations: quota::Reservations::default(),
        })
    }

    /// Runs `job` (a decode, on the blocking pool) on the image at `path` within the decode
    /// budget: the header is read holding its own small share, then `job` holds the image's
    /// estimated peak (`cost` of the header) until it ends, and gets it as its allocation
    /// limit. Too many decodes waiting → `503 media_busy`.
    pub async fn decode<T: Send + 'static>(
        &self,
        path: PathBuf,
        mime: &str,
        cost: fn(&images::Header) -> u64,
        job: impl FnOnce(&Path, &images::Header, u64) -> Result<T, Rejection> + Send + 'static,
    ) -> Result<T> {
        let file_bytes = tokio::fs::metadata(&path)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot stat an image to decode");
                Error::internal()
            })?
            .len();
        let permit = self
            .decode_budget
            .acquire(images::header_cost(file_bytes))
            .await?;
        let (limits, mime) = (self.limits.clone(), mime.to_owned());
        let max_pixel_bytes = self.decode_budget.bytes();
        let header_path = path.clone();
        let header = blocking(move || {
            let _permit = permit;
            images::inspect(&header_path, &mime, &limits, max_pixel_bytes)
        })
        .await?;
        // The header's share is given back before the decode's is taken: a task holding one
        // share while waiting for another could deadlock with others doing the same.
        let permit = self.decode_budget.acquire(cost(&header)).await?;
        blocking(move || {
            let granted = permit.bytes();
            let out = job(&path, &header, granted);
            drop(permit);
            out
        })
        .await
    }
}

/// Runs an image job on the blocking pool; its refusal becomes the API error.
async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, Rejection> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "image task failed");
            Error::internal()
        })?
        .map_err(rejected)
}

/// Which stored object of an upload a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumb(u32),
}

impl Variant {
    pub fn parse(s: &str) -> Option<Self> {
        if s == "original" {
            return Some(Variant::Original);
        }
        let size: u32 = s.strip_prefix('w')?.parse().ok()?;
        justus_core::media::THUMB_SIZES
            .contains(&size)
            .then_some(Variant::Thumb(size))
    }

    pub fn as_string(self) -> String {
        match self {
            Variant::Original => "original".into(),
            Variant::Thumb(size) => format!("w{size}"),
        }
    }

    pub fn key(self, id: MediaId) -> String {
        match self {
            Variant::Original => storage_key(id),
            Variant::Thumb(size) => thumb_key(id, size),
        }
    }
}

/// Type, disposition and caching of a stored object, for the local path and presigned URLs.
pub fn serve_headers(media: &Media, variant: Variant) -> ServeHeaders {
    let (mime, inline) = match variant {
        Variant::Original => (media.mime.as_str(), media.kind.inline()),
        Variant::Thumb(_) => ("image/webp", true),
    };
    ServeHeaders {
        content_type: mime.to_owned(),
        content_disposition: disposition::content_disposition(inline, &media.name),
        cache_control: "private, max-age=300".to_owned(),
    }
}

/// Counts a refused upload by reason and turns it into the API error.
pub fn rejected(r: Rejection) -> Error {
    metrics::counter!("media_rejections_total", "reason" => r.code()).increment(1);
    let kind = match &r {
        Rejection::UnsupportedType { .. } | Rejection::ExtensionMismatch { .. } => {
            ErrorKind::UnsupportedType
        }
        Rejection::TooLarge { .. }
        | Rejection::BodyTooLarge { .. }
        | Rejection::QuotaExceeded { .. } => ErrorKind::TooLarge,
        Rejection::ImageTooLarge { .. }
        | Rejection::InvalidImage
        | Rejection::ArchiveTooLarge
        | Rejection::InvalidArchive
        | Rejection::Infected => ErrorKind::Invalid,
    };
    Error::new(kind, r.code(), r.message()).with_field("file")
}
