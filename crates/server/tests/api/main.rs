//! HTTP integration tests: the real router and server over TCP, against both stores.

mod helpers;

mod accounts;
mod ai;
mod authz;
mod avatars;
mod clamd;
mod conversations;
mod gateway;
mod hygiene;
mod media;
mod media_abuse;
mod ops;
mod s3;
mod sessions;
mod tokens;
