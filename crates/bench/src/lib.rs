//! `justus-bench`: a load generator speaking JustUs's own protocol (REST + gateway v1).
//!
//! Every run provisions its own users and rooms over REST, is bounded in count and time, and
//! prints one JSON object on stdout and a one-line summary on stderr. See docs/performance.md.
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod provision;
pub mod scenarios;
pub mod stats;
pub mod sys;
pub mod target;
