//! Deletes uploads that were never attached (to a message, or as an avatar) within
//! `MEDIA_UNATTACHED_TTL_SECONDS` (a day by default): the record first, then its bytes, so a
//! reader never gets a record whose bytes are gone.

use crate::state::App;
use justus_core::media::{THUMB_SIZES, storage_key, thumb_key};
use std::sync::Weak;
use std::time::Duration;

/// Uploads handled per store round trip.
const BATCH: u32 = 100;

/// One pass; returns how many uploads were removed.
pub async fn sweep_once(app: &App) -> anyhow::Result<u64> {
    let ttl = chrono::Duration::seconds(
        i64::try_from(app.config.media.unattached_ttl_seconds).unwrap_or(i64::MAX / 2),
    );
    let cutoff = app.now() - ttl;
    let mut removed = 0;
    loop {
        let stale = app.store.unattached_media(cutoff, BATCH).await?;
        let n = stale.len();
        for m in stale {
            // Attached meanwhile (a send raced us): keep it.
            if !app.store.delete_unattached_media(m.id).await? {
                continue;
            }
            delete_bytes(app, &m).await;
            removed += 1;
        }
        if n < BATCH as usize {
            break;
        }
    }
    if removed > 0 {
        metrics::counter!("media_swept_total").increment(removed);
        tracing::info!(removed, "removed unattached uploads");
    }
    Ok(removed)
}

/// Deletes an upload's bytes and thumbnails (local or S3) once its record is gone. A failure
/// is logged and left: the bytes are unreachable without the record.
pub async fn delete_bytes(app: &App, m: &justus_core::media::Media) {
    let mut keys = vec![storage_key(m.id)];
    if m.has_thumbs {
        keys.extend(THUMB_SIZES.iter().map(|s| thumb_key(m.id, *s)));
    }
    for key in keys {
        if let Err(e) = app.media.store.delete(&key).await {
            tracing::warn!(error = %e, "cannot delete the bytes of a removed upload");
        }
    }
}

/// Runs [`sweep_once`] every `every` until the app is dropped.
pub fn spawn(app: Weak<App>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(app) = app.upgrade() else { break };
            if let Err(e) = sweep_once(&app).await {
                tracing::warn!(error = %e, "media sweep failed; will retry");
            }
        }
    });
}
