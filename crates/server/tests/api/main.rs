//! HTTP integration tests: the real router and server over TCP, against both stores.

mod helpers;

mod accounts;
mod hygiene;
mod ops;
mod sessions;
mod tokens;
