//! Bus adapters: in process (one instance), or Redis pub/sub (many instances, `REDIS_URL`).

mod local;
pub mod redis;
pub mod wire;

pub use local::LocalBus;
pub use redis::RedisBus;
