//! Catching this process's sockets up from the store when the bus may have lost messages: after
//! the Redis subscriber reconnects, or when a peer process dies (it may have committed without
//! publishing). Events go through the hub like any other, so sockets see them once and in
//! `seq` order; the hub drops what they already have.

use super::hub::Hub;
use justus_core::bus::{BusMessage, BusSink};
use justus_core::store::Store;
use std::sync::{Arc, Weak};

const PAGE: u32 = 200;

/// Reads every room with local subscribers from where its delivery stopped.
pub async fn catch_up(store: Arc<dyn Store>, hub: Arc<Hub>) {
    let rooms = hub.delivered_rooms();
    let mut delivered = 0u64;
    for (room, mut after) in rooms {
        loop {
            let page = match store.events(room, after, PAGE).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, %room, "catch-up from the store failed");
                    break;
                }
            };
            for ev in page.events {
                after = after.max(ev.seq);
                delivered += 1;
                hub.deliver(BusMessage::Event(Arc::new(ev)));
            }
            if !page.has_more {
                break;
            }
        }
    }
    metrics::counter!("bus_catchup_events_total").increment(delivered);
}

/// Listens for [`BusMessage::Resync`] and runs [`catch_up`].
pub struct CatchUp {
    pub store: Arc<dyn Store>,
    pub hub: Weak<Hub>,
}

impl BusSink for CatchUp {
    fn deliver(&self, msg: BusMessage) {
        if let (BusMessage::Resync, Some(hub)) = (msg, self.hub.upgrade()) {
            tokio::spawn(catch_up(self.store.clone(), hub));
        }
    }
}
