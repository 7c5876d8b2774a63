//! Creates the users and rooms a scenario needs, over the REST API (no back doors).
//!
//! Every room gets its own users, so a socket receives exactly one room's events: one owner
//! (who also sends) plus enough members that no user exceeds `sockets_per_user` sockets.

use crate::client::{Account, Api};
use futures::StreamExt;
use futures::stream;

pub struct Room {
    pub id: String,
    pub owner: Account,
    pub members: Vec<Account>,
}

/// A short run id so repeated runs against one server never collide on usernames.
pub fn run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!("{:x}", t % 0xff_ffff_ffff)
}

/// Registrations run a few at a time: each costs an Argon2 hash on the server.
const CONCURRENT_REGISTRATIONS: usize = 8;

pub async fn rooms(api: &Api, rooms: usize, members_per_room: usize) -> anyhow::Result<Vec<Room>> {
    let run = run_id();
    let names: Vec<String> = (0..rooms * (members_per_room + 1))
        .map(|i| format!("b{run}u{i}"))
        .collect();
    let accounts: Vec<Account> = stream::iter(names)
        .map(|n| async move { api.register(&n).await })
        .buffered(CONCURRENT_REGISTRATIONS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let mut chunks = accounts.chunks(members_per_room + 1);
    let mut out = Vec::with_capacity(rooms);
    for r in 0..rooms {
        let Some(users) = chunks.next() else { break };
        let owner = users[0].clone();
        let id = api
            .create_room(&owner.token, &format!("bench {run} {r}"))
            .await?;
        for m in &users[1..] {
            api.add_member(&owner.token, &id, &m.user_id).await?;
        }
        out.push(Room {
            id,
            owner,
            members: users[1..].to_vec(),
        });
    }
    Ok(out)
}

/// `n` users in no room.
pub async fn users(api: &Api, n: usize) -> anyhow::Result<Vec<Account>> {
    let run = run_id();
    stream::iter((0..n).map(|i| format!("b{run}i{i}")))
        .map(|name| async move { api.register(&name).await })
        .buffered(CONCURRENT_REGISTRATIONS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// A tiny deterministic PRNG (xorshift64*) for picking pages; no crate needed for that.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}
