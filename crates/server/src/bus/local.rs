//! The in-process bus: publishing hands the message straight to the attached sinks.

use justus_core::bus::{Bus, BusMessage, BusSink};
use parking_lot::RwLock;
use std::sync::Arc;

#[derive(Default)]
pub struct LocalBus {
    sinks: RwLock<Vec<Arc<dyn BusSink>>>,
}

impl Bus for LocalBus {
    fn publish(&self, msg: BusMessage) {
        let sinks = self.sinks.read();
        if let Some((last, rest)) = sinks.split_last() {
            for sink in rest {
                sink.deliver(msg.clone());
            }
            last.deliver(msg);
        }
    }

    fn attach(&self, sink: Arc<dyn BusSink>) {
        self.sinks.write().push(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use justus_core::bus::Ephemeral;
    use justus_core::{RoomId, UserId};
    use parking_lot::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<BusMessage>>);
    impl BusSink for Recorder {
        fn deliver(&self, msg: BusMessage) {
            self.0.lock().push(msg);
        }
    }

    #[test]
    fn delivers_to_every_sink() {
        let bus = LocalBus::default();
        let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
        bus.attach(a.clone());
        bus.attach(b.clone());
        let msg = BusMessage::Ephemeral(Ephemeral::Typing {
            room_id: RoomId::new(),
            user_id: UserId::new(),
            active: true,
        });
        bus.publish(msg.clone());
        assert_eq!(a.0.lock().as_slice(), std::slice::from_ref(&msg));
        assert_eq!(b.0.lock().as_slice(), std::slice::from_ref(&msg));
    }
}
