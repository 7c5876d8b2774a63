//! One module per scenario (see docs/performance.md).

pub mod cross;
pub mod durable;
pub mod fanout;
pub mod history;
pub mod idle;
pub mod storm;
