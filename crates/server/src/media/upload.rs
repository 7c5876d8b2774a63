//! The upload pipeline of `POST /api/v1/media`:
//!
//! 0. the per-user upload rate (`MEDIA_UPLOADS_PER_MINUTE`, cluster-wide);
//! 1. stream the `file` part to a temp file (never whole in memory), sniffing the type from the
//!    first bytes and enforcing that kind's size limit and the quota while bytes arrive (the
//!    bytes are claimed in `quota::Reservations`, so parallel uploads count each other);
//! 2. scan it (clamd, when configured; fail closed);
//! 3. check it by kind: images are decoded under limits and the decode budget, and re-encoded
//!    (metadata stripped, thumbnails, blurhash); ZIP containers are checked for bombs;
//! 4. store the bytes under server-chosen keys, then record the upload if it still fits the
//!    quota (checked atomically by the store, across instances).
//!
//! Any failure before step 4 leaves nothing behind: temp files delete themselves when dropped.

use super::quota::Reservation;
use super::{MediaService, Variant, images, rejected};
use crate::error::{Error, Result};
use crate::state::App;
use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use justus_core::media::{
    Media, MediaKind, Rejection, ScanVerdict, ServeHeaders, decide, sanitize_file_name,
    storage_key, thumb_key,
};
use justus_core::{MediaId, StoreError, UserId};
use std::path::Path;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

/// Bytes buffered before the type is decided (enough for every sniffer signature we use,
/// Office documents included).
const SNIFF_BYTES: usize = 8192;
/// Parts other than `file` tolerated (and skipped) before it.
const MAX_OTHER_PARTS: usize = 4;

fn multipart_error(e: MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Error::new(
            crate::error::ErrorKind::TooLarge,
            "payload_too_large",
            "the upload is larger than any allowed file",
        );
    }
    Error::bad_request(
        "invalid_multipart",
        format!("the multipart body could not be read: {}", e.body_text()),
    )
}

fn internal(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |e| {
        tracing::error!(error = %e, "media upload: {what}");
        Error::internal()
    }
}

/// What streaming produced: the temp file, its size and the decided type.
struct Received {
    file: NamedTempFile,
    size: u64,
    kind: MediaKind,
    mime: &'static str,
    name: String,
}

async fn receive(
    svc: &MediaService,
    field: &mut Field<'_>,
    reservation: &Reservation<'_>,
) -> Result<Received> {
    let name = sanitize_file_name(field.file_name().unwrap_or(""));
    let tmp = NamedTempFile::new_in(&svc.tmp_dir).map_err(internal("temp file"))?;
    let mut out = tokio::fs::File::from_std(tmp.reopen().map_err(internal("temp file"))?);
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut decided = None;
    let mut size: u64 = 0;
    let mut limit = svc.limits.largest();
    let check = |size: u64, limit: u64, decided: &Option<justus_core::media::Decided>| {
        if let Some(d) = decided
            && size > limit
        {
            return Err(rejected(Rejection::TooLarge {
                kind: d.kind,
                limit,
            }));
        }
        if size > svc.limits.largest() {
            return Err(rejected(Rejection::BodyTooLarge {
                limit: svc.limits.largest(),
            }));
        }
        reservation.claim(size).map_err(rejected)
    };
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
        if decided.is_some() {
            check(size, limit, &decided)?;
            out.write_all(&chunk).await.map_err(internal("write"))?;
            continue;
        }
        head.extend_from_slice(&chunk);
        if head.len() >= SNIFF_BYTES {
            let d = sniff(&head, &name)?;
            limit = svc.limits.for_kind(d.kind);
            decided = Some(d);
            check(size, limit, &decided)?;
            out.write_all(&head).await.map_err(internal("write"))?;
            head = Vec::new();
        } else {
            check(size, limit, &decided)?;
        }
    }
    let d = match decided {
        Some(d) => d,
        None => {
            if head.is_empty() {
                return Err(
                    Error::unprocessable("empty_file", "the file is empty").with_field("file")
                );
            }
            let d = sniff(&head, &name)?;
            limit = svc.limits.for_kind(d.kind);
            let decided = Some(d.clone());
            check(size, limit, &decided)?;
            out.write_all(&head).await.map_err(internal("write"))?;
            d
        }
    };
    out.flush().await.map_err(internal("flush"))?;
    drop(out);
    Ok(Received {
        file: tmp,
        size,
        kind: d.kind,
        mime: d.mime,
        name,
    })
}

fn sniff(head: &[u8], name: &str) -> Result<justus_core::media::Decided> {
    let sniffed = infer::get(head).map(|t| t.mime_type());
    decide(sniffed, head, name).map_err(rejected)
}

/// Stored objects of an upload, removed again if recording it fails.
struct Stored<'a> {
    svc: &'a MediaService,
    keys: Vec<String>,
    keep: bool,
}

impl Stored<'_> {
    async fn put(&mut self, key: String, path: &Path, headers: &ServeHeaders) -> Result<()> {
        self.svc.store.put(&key, path, headers).await.map_err(|e| {
            tracing::error!(error = %e, "media store put failed");
            metrics::counter!("media_store_errors_total").increment(1);
            Error::unavailable("media storage is unavailable; retry shortly")
        })?;
        self.keys.push(key);
        Ok(())
    }

    async fn rollback(self) {
        if self.keep {
            return;
        }
        for key in &self.keys {
            if let Err(e) = self.svc.store.delete(key).await {
                tracing::warn!(error = %e, "cannot remove an orphaned media object");
            }
        }
    }
}

/// Longest duration a client may declare for a recording (a day), in milliseconds.
const MAX_DURATION_MS: i64 = 24 * 3600 * 1000;

/// Reads the optional `duration_ms` part (a few digits, read with a bound).
async fn read_duration(mut f: axum::extract::multipart::Field<'_>) -> Result<i64> {
    let invalid = || {
        Error::unprocessable(
            "invalid_duration",
            "`duration_ms` must be a whole number of milliseconds up to a day",
        )
        .with_field("duration_ms")
    };
    let mut text = Vec::new();
    while let Some(chunk) = f.chunk().await.map_err(multipart_error)? {
        text.extend_from_slice(&chunk);
        if text.len() > 16 {
            return Err(invalid());
        }
    }
    std::str::from_utf8(&text)
        .ok()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .filter(|ms| (0..=MAX_DURATION_MS).contains(ms))
        .ok_or_else(invalid)
}

/// Runs the whole pipeline for one `multipart/form-data` body; returns the recorded upload.
pub async fn upload(app: &App, owner: UserId, mut multipart: Multipart) -> Result<Media> {
    let svc = &app.media;
    rate_limit(app, owner).await?;
    let mut skipped = 0;
    let mut declared_duration = None;
    let mut field = loop {
        match multipart.next_field().await.map_err(multipart_error)? {
            Some(f) if f.name() == Some("file") => break f,
            Some(f) if f.name() == Some("duration_ms") && skipped < MAX_OTHER_PARTS => {
                skipped += 1;
                declared_duration = Some(read_duration(f).await?);
            }
            // Other parts are ignored, but only a few: the body limit is lifted for uploads.
            Some(_) if skipped < MAX_OTHER_PARTS => skipped += 1,
            Some(_) => {
                return Err(Error::bad_request(
                    "invalid_multipart",
                    "too many parts before the `file` part",
                ));
            }
            None => {
                return Err(Error::bad_request(
                    "missing_file",
                    "send the file in a multipart field named `file`",
                )
                .with_field("file"));
            }
        }
    };
    let used = u64::try_from(app.store.media_usage(owner).await?).unwrap_or(0);
    // Held until the upload is recorded or refused: later uploads count these bytes meanwhile.
    let reservation = svc.reservations.open(owner, used, svc.limits.quota_bytes);
    let received = receive(svc, &mut field, &reservation).await?;
    drop(field);

    if let Some(scanner) = &svc.scanner {
        match scanner.scan(received.file.path()).await {
            Ok(ScanVerdict::Clean) => {
                metrics::counter!("media_scans_total", "result" => "clean").increment(1);
            }
            Ok(ScanVerdict::Infected(what)) => {
                metrics::counter!("media_scans_total", "result" => "infected").increment(1);
                tracing::warn!(signature = %what, user_id = %owner, "infected upload refused");
                return Err(rejected(Rejection::Infected));
            }
            Err(e) => {
                metrics::counter!("media_scans_total", "result" => "error").increment(1);
                tracing::error!(error = %e, "virus scan failed; upload refused (fail closed)");
                return Err(Error::unavailable(
                    "the virus scanner is unavailable; the upload was not stored, retry later",
                ));
            }
        }
    }

    let id = MediaId::new();
    let mut media = Media {
        id,
        owner_id: owner,
        kind: received.kind,
        mime: received.mime.to_owned(),
        size: i64::try_from(received.size).unwrap_or(i64::MAX),
        name: received.name.clone(),
        width: None,
        height: None,
        // Declared by the recording client (voice notes); display only, audio/video only.
        duration_ms: declared_duration
            .filter(|_| matches!(received.kind, MediaKind::Audio | MediaKind::Video)),
        blurhash: None,
        has_thumbs: false,
        created_at: app.now(),
        attached_at: None,
    };
    let mut stored = Stored {
        svc,
        keys: Vec::new(),
        keep: false,
    };
    let result = store_checked(app, &mut media, received, &mut stored, &reservation).await;
    if result.is_ok() {
        stored.keep = true;
    }
    stored.rollback().await;
    result?;
    drop(reservation);
    metrics::counter!("media_uploads_total", "kind" => media.kind.as_str()).increment(1);
    metrics::counter!("media_upload_bytes_total").increment(received_size(&media));
    Ok(media)
}

fn received_size(m: &Media) -> u64 {
    u64::try_from(m.size).unwrap_or(0)
}

/// The per-user upload rate (uploads and avatar changes; both decode images).
pub async fn rate_limit(app: &App, user: UserId) -> Result<()> {
    if let Err(wait) = app.limits.upload(user).await {
        metrics::counter!("media_rate_limited_total").increment(1);
        return Err(Error::too_many(
            "rate_limited",
            "too many uploads; try again shortly",
            wait.as_secs_f64().ceil() as u64,
        ));
    }
    crate::chat::abuse::check_new_upload(app, user).await
}

async fn store_checked(
    app: &App,
    media: &mut Media,
    received: Received,
    stored: &mut Stored<'_>,
    reservation: &Reservation<'_>,
) -> Result<()> {
    let svc = &app.media;
    let limits = svc.limits.clone();
    let quota = limits.quota_bytes;
    let path = received.file.path().to_path_buf();
    match received.kind {
        MediaKind::Image => {
            let tmp_dir = svc.tmp_dir.clone();
            let img = svc
                .decode(
                    path,
                    received.mime,
                    images::Header::cost,
                    move |path, header, granted| images::process(path, header, granted, &tmp_dir),
                )
                .await?;
            media.mime = img.mime.to_owned();
            media.width = i32::try_from(img.width).ok();
            media.height = i32::try_from(img.height).ok();
            media.blurhash = img.blurhash.clone();
            media.size = img
                .file
                .as_file()
                .metadata()
                .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
                .map_err(internal("stat"))?;
            let original = super::serve_headers(media, Variant::Original);
            stored
                .put(storage_key(media.id), img.file.path(), &original)
                .await?;
            for (size, thumb) in &img.thumbs {
                let headers = super::serve_headers(media, Variant::Thumb(*size));
                stored
                    .put(thumb_key(media.id, *size), thumb.path(), &headers)
                    .await?;
            }
            media.has_thumbs = !img.thumbs.is_empty();
        }
        kind => {
            let is_zip = justus_core::media::Decided {
                kind,
                mime: received.mime,
            }
            .is_zip_container();
            if is_zip {
                tokio::task::spawn_blocking(move || super::archive::check_zip(&path, &limits))
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "archive task failed");
                        Error::internal()
                    })?
                    .map_err(rejected)?;
            }
            let headers = super::serve_headers(media, Variant::Original);
            stored
                .put(storage_key(media.id), received.file.path(), &headers)
                .await?;
        }
    }
    let store_quota = i64::try_from(quota).unwrap_or(i64::MAX);
    reservation.committing();
    match app
        .store
        .create_media_within_quota(media, store_quota)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict("media_quota")) => {
            Err(rejected(Rejection::QuotaExceeded { quota }))
        }
        Err(e) => Err(e.into()),
    }
}
