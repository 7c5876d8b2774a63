//! HTTP plumbing shared by every resource: extractors and middleware.

pub mod client_ip;
pub mod extract;
pub mod middleware;
