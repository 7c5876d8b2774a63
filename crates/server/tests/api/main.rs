//! HTTP integration tests: the real router and server over TCP, against both stores.

mod helpers;

mod abuse;
mod accounts;
mod ai;
mod attacks;
mod authz;
mod avatars;
mod backup;
mod clamd;
mod conversations;
mod disk;
mod gateway;
mod gateway_rfc;
mod history;
mod hygiene;
mod instance_bans;
mod invitations;
mod media;
mod media_abuse;
mod moderation;
mod openapi_snapshot;
mod ops;
mod permissions;
mod reports;
mod retention;
mod s3;
mod sessions;
mod tokens;
mod transport;
