//! The store port: everything JustUs persists, one trait per aggregate. One adapter per
//! database (`justus-store-sqlite`, `justus-store-postgres`) implements every trait; both pass
//! [`crate::testing`]'s suite.
//!
//! [`Store`] is their sum, what the server holds (`Arc<dyn Store>`): methods of the parts are
//! callable on it as they are. Code calling them on a concrete adapter imports [`prelude`].

mod accounts;
mod ai;
mod audit;
mod health;
mod history;
mod media;
mod messages;
mod reports;
mod retention;
mod rooms;

pub use crate::error::{StoreError, StoreResult};
pub use accounts::Accounts;
pub use ai::Ai;
pub use audit::Audit;
pub use health::{Health, PoolStats};
pub use history::{HIGHLIGHT_END, HIGHLIGHT_START, History, SearchHit};
pub use media::MediaRecords;
pub use messages::{Messages, SendOutcome};
pub use reports::{ReportScope, Reports};
pub use retention::{Purged, Retention, due_prefix};
pub use rooms::Rooms;

/// Everything JustUs persists. Implemented for every type that implements all the parts.
pub trait Store:
    Accounts
    + Rooms
    + Messages
    + History
    + MediaRecords
    + Ai
    + Audit
    + Reports
    + Retention
    + Health
    + 'static
{
}

impl<T> Store for T where
    T: Accounts
        + Rooms
        + Messages
        + History
        + MediaRecords
        + Ai
        + Audit
        + Reports
        + Retention
        + Health
        + ?Sized
        + 'static
{
}

/// The port's traits, for calling store methods on a concrete adapter or a generic `S`.
pub mod prelude {
    pub use super::{
        Accounts, Ai, Audit, Health, History, MediaRecords, Messages, Reports, Retention, Rooms,
        Store,
    };
}
