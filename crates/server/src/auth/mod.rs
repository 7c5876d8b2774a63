//! Authentication: password hashing, access tokens, refresh tokens, throttling, revocation,
//! (The extractor that authenticates a request is `http::extract::Auth`.)

pub mod jwt;
pub mod password;
pub mod refresh;
pub mod revocation;
pub mod throttle;
