//! The store conformance suite, written once and run against every adapter.
//!
//! An adapter's test file invokes [`store_conformance!`] with an expression that yields a fresh,
//! empty store; the macro expands to one `#[tokio::test]` per case, so failures name the case.

mod accounts;
mod rooms;

pub use accounts::*;
pub use rooms::*;

/// Expands to one test per conformance case. `$make` is an async expression returning
/// `impl Store` (a fresh, empty database).
#[macro_export]
macro_rules! store_conformance {
    ($make:expr) => {
        $crate::store_conformance!(@cases $make;
            user_roundtrip, username_unique_case_insensitive, email_unique, login_by_username_or_email,
            update_profile, password_hash_update, session_lifecycle, refresh_rotates,
            refresh_reuse_revokes_family, refresh_grace_for_lost_response, refresh_expiry,
            revoke_sessions_except, concurrent_refresh_single_winner, unknown_ids_not_found,
            // rooms.rs cases are appended here.
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $make.await;
                $crate::testing::$case(&store).await;
            }
        )*
    };
}

