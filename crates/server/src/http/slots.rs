//! Counted slots with a global cap and a per-client-address cap: open connections, gateway
//! sockets still authenticating. A slot is held by a [`SlotGuard`] and given back on drop.

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a slot was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    Global,
    PerIp,
}

impl Refused {
    pub fn label(self) -> &'static str {
        match self {
            Refused::Global => "global",
            Refused::PerIp => "per_ip",
        }
    }
}

pub struct Slots {
    /// Gauge name reporting how many slots are held.
    gauge: &'static str,
    limit: usize,
    per_ip: usize,
    held: AtomicUsize,
    by_ip: DashMap<IpAddr, usize>,
}

/// The key an address is counted under: IPv4 as is, IPv6 by its /64 (one subscriber usually
/// owns a whole /64, so counting single addresses would cap nothing).
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl Slots {
    /// `0` means no limit, for either cap.
    pub fn new(gauge: &'static str, limit: u32, per_ip: u32) -> Arc<Self> {
        let unlimited = |n: u32| if n == 0 { usize::MAX } else { n as usize };
        Arc::new(Self {
            gauge,
            limit: unlimited(limit),
            per_ip: unlimited(per_ip),
            held: AtomicUsize::new(0),
            by_ip: DashMap::new(),
        })
    }

    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Takes a slot for `ip` (`None`: counted only globally, e.g. a trusted proxy).
    pub fn try_acquire(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<SlotGuard, Refused> {
        if self.held.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.held.fetch_sub(1, Ordering::AcqRel);
            return Err(Refused::Global);
        }
        let key = match ip {
            Some(ip) if self.per_ip != usize::MAX => {
                let key = ip_key(ip);
                let mut n = self.by_ip.entry(key).or_insert(0);
                if *n >= self.per_ip {
                    drop(n);
                    self.held.fetch_sub(1, Ordering::AcqRel);
                    return Err(Refused::PerIp);
                }
                *n += 1;
                Some(key)
            }
            _ => None,
        };
        metrics::gauge!(self.gauge).increment(1.0);
        Ok(SlotGuard {
            slots: self.clone(),
            key,
        })
    }
}

/// One held slot; dropping it frees the slot.
pub struct SlotGuard {
    slots: Arc<Slots>,
    key: Option<IpAddr>,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if let Some(key) = self.key
            && let Entry::Occupied(mut e) = self.slots.by_ip.entry(key)
        {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
            }
        }
        self.slots.held.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!(self.slots.gauge).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_and_free_on_drop() {
        let s = Slots::new("test_slots", 3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = s.try_acquire(Some(a)).unwrap();
        let _a2 = s.try_acquire(Some(a)).unwrap();
        assert_eq!(s.try_acquire(Some(a)).err(), Some(Refused::PerIp));
        let _b1 = s.try_acquire(Some(b)).unwrap();
        assert_eq!(s.try_acquire(Some(b)).err(), Some(Refused::Global));
        assert_eq!(s.try_acquire(None).err(), Some(Refused::Global));
        drop(a1);
        assert_eq!(s.held(), 2);
        let _a3 = s.try_acquire(Some(a)).unwrap();
        assert_eq!(s.by_ip.len(), 2);
    }

    #[test]
    fn ipv6_is_counted_per_64() {
        let s = Slots::new("test_slots", 0, 1);
        let _x = s
            .try_acquire(Some("2001:db8:1:2::1".parse().unwrap()))
            .unwrap();
        assert_eq!(
            s.try_acquire(Some("2001:db8:1:2:ffff::9".parse().unwrap()))
                .err(),
            Some(Refused::PerIp),
            "same /64"
        );
        assert!(
            s.try_acquire(Some("2001:db8:1:3::1".parse().unwrap()))
                .is_ok(),
            "another /64"
        );
        assert_eq!(
            ip_key("::ffff:10.1.2.3".parse().unwrap()),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn zero_means_unlimited() {
        let s = Slots::new("test_slots", 0, 0);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..1000)
            .map(|_| s.try_acquire(Some(ip)).unwrap())
            .collect();
        assert_eq!(s.held(), 1000);
        drop(held);
        assert_eq!(s.held(), 0);
        assert!(s.by_ip.is_empty());
    }
}
