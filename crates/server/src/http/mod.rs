//! HTTP plumbing shared by every resource: the accept loop, extractors and middleware.

pub mod client_ip;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod overload;
pub mod serve;
pub mod slots;
