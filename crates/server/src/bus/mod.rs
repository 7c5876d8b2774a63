//! Bus adapters. In process now; Redis arrives with the scale-out issue.

mod local;

pub use local::LocalBus;
