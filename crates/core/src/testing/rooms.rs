//! Conformance cases: rooms, membership, messages, history, read state, search.

#[allow(unused_imports)]
use super::accounts::{t0, user};
