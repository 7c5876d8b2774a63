//! JustUs domain core.
//!
//! Everything here is pure: types that can only be built valid (`parse`), the rules that decide
//! what happens (refresh-token rotation, permissions), and the ports (traits) that adapters
//! implement. No crate in this dependency tree performs I/O; time is passed in as a value.
#![forbid(unsafe_code)]

pub mod ai;
pub mod audit;
pub mod avatar;
pub mod bus;
pub mod error;
pub mod event;
pub mod ids;
pub mod instance_ban;
pub mod media;
pub mod message;
pub mod report;
pub mod room;
pub mod secret;
pub mod session;
pub mod store;
pub mod user;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{StoreError, StoreResult, ValidationError};
pub use ids::{MediaId, MessageId, ReportId, RoomId, SessionId, SignupBlockId, UserId};
