//! Retention: purges messages older than their room's policy (`RETENTION_DAYS`, a room's
//! `retention_days`), in bounded batches so sends never wait behind a purge. Each batch is one
//! store transaction (`Retention::purge_room`); its tombstone events are published like any
//! other, so open clients drop the messages at once and reconnecting ones catch up exactly;
//! uploads no kept message uses lose their bytes (local or S3) after their records.
//!
//! Several instances may purge at once: a room's purge takes its row lock, and a message
//! purged twice is one tombstone.

use crate::state::App;
use chrono::{DateTime, Duration, Utc};
use justus_core::RoomId;
use justus_core::room::effective_retention_days;
use std::sync::Weak;

/// Messages purged per store transaction.
pub const BATCH: u32 = 500;

/// What one pass did (or, dry, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub messages: u64,
    pub files: u64,
    /// Messages per room with any.
    pub by_room: Vec<(RoomId, u64)>,
}

impl Report {
    /// Rooms with anything purged (or, dry, to purge).
    pub fn rooms(&self) -> u64 {
        self.by_room.len() as u64
    }
}

/// A room's cutoff at `now`, or `None` when it keeps messages forever.
fn cutoff(app: &App, room_days: Option<i32>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    effective_retention_days(room_days, app.config.retention.days)
        .map(|days| now - Duration::days(i64::from(days)))
}

/// One pass over every room with a retention policy, as of `now`. `dry` counts what would go
/// and changes nothing.
pub async fn purge_once(app: &App, now: DateTime<Utc>, dry: bool) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for (room, days) in app.store.retention_rooms(app.config.retention.days).await? {
        let Some(cutoff) = cutoff(app, days, now) else {
            continue;
        };
        let n = if dry {
            app.store.purgeable(room, cutoff, u32::MAX).await?
        } else {
            let (messages, files) = purge_room(app, room, cutoff, now).await?;
            report.files += files;
            messages
        };
        if n > 0 {
            report.messages += n;
            report.by_room.push((room, n));
        }
    }
    if !dry && report.messages > 0 {
        metrics::counter!("retention_purged_messages_total").increment(report.messages);
        metrics::counter!("retention_purged_files_total").increment(report.files);
        tracing::info!(
            rooms = report.rooms(),
            messages = report.messages,
            files = report.files,
            "retention purge"
        );
    }
    Ok(report)
}

/// Purges one room batch by batch; returns (messages, files) removed.
async fn purge_room(
    app: &App,
    room: RoomId,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<(u64, u64)> {
    let (mut messages, mut files) = (0, 0);
    loop {
        let purged = app.store.purge_room(room, cutoff, BATCH, now).await?;
        messages += purged.messages;
        app.publish_events(purged.events);
        for m in &purged.orphaned_media {
            crate::media::sweep::delete_bytes(app, m).await;
            files += 1;
        }
        if !purged.more {
            return Ok((messages, files));
        }
        // Let sends in: a long purge is many short transactions, not one long one.
        tokio::task::yield_now().await;
    }
}

/// Runs [`purge_once`] every `RETENTION_INTERVAL_SECONDS` until the app is dropped; nothing
/// when neither the instance nor any room could ever limit retention (checked each pass).
pub fn spawn(app: Weak<App>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(app) = app.upgrade() else { break };
            if let Err(e) = purge_once(&app, app.now(), false).await {
                metrics::counter!("retention_failures_total").increment(1);
                tracing::warn!(error = %e, "retention purge failed; will retry");
            }
        }
    });
}
