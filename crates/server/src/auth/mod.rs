//! Authentication: password hashing, access tokens, refresh tokens, throttling, live sessions.
//! (The extractor that authenticates a request is `http::extract::Auth`.)

pub mod audit;
pub mod credentials;
pub mod device;
pub mod instance_bans;
pub mod issue;
pub mod jwt;
pub mod password;
pub mod refresh;
pub mod register;
pub mod sessions;
