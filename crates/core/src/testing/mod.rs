//! The store conformance suite, written once and run against every adapter.
//!
//! An adapter's test file invokes [`store_conformance!`] with an expression that yields a fresh,
//! empty store; the macro expands to one `#[tokio::test]` per case, so failures name the case.

mod accounts;
mod ai;
mod avatars;
mod history;
mod invitations;
mod media;
mod members;
mod messages;
mod moderation;
mod reports;
mod retention;
mod rooms;
mod search;
mod send;
mod support;

pub use accounts::*;
pub use ai::*;
pub use avatars::*;
pub use history::*;
pub use invitations::*;
pub use media::*;
pub use members::*;
pub use messages::*;
pub use moderation::*;
pub use reports::*;
pub use retention::*;
pub use rooms::*;
pub use search::*;
pub use send::*;

/// Expands to one test per conformance case. `$make` is an async expression returning
/// `impl Store` (a fresh, empty database).
#[macro_export]
macro_rules! store_conformance {
    ($make:expr) => {
        $crate::store_conformance!(@cases $make;
            // accounts.rs
            user_roundtrip, username_unique_case_insensitive, email_unique, login_by_username_or_email,
            update_profile, password_hash_update, session_lifecycle, refresh_rotates,
            refresh_reuse_revokes_family, refresh_grace_for_lost_response, refresh_expiry,
            revoke_sessions_except, concurrent_refresh_single_winner, unknown_ids_not_found, users_by_ids_batch,
            blocks, search_users_by_prefix, account_suspension, signup_blocks_roundtrip,
            last_seen_roundtrip,
            // rooms.rs
            group_create, dm_open_idempotent, room_update_events, room_delete, unknown_rooms_not_found,
            room_and_member_matches_parts,
            // members.rs
            members_named_resolves_mentions, add_member_conflicts, set_role_and_transfer, remove_member_kinds, ban_and_unban, invites,
            // send.rs
            send_message_basics, send_idempotent, send_rejections, concurrent_sends_gap_free, concurrent_sends_fail_alone,
            send_failing_mid_batch_fails_alone, concurrent_same_client_id,
            // messages.rs
            message_paging, edit_message_history, delete_message_tombstone, reactions, pins,
            // history.rs
            events_feed, mark_read_forward_only, room_list_unread_mentions, unread_count_capped,
            room_list_order_and_last,
            // search.rs
            search_messages, search_prefix, search_hostile_queries,
            // ai.rs
            ai_room_switch, ai_prefs_roundtrip, translation_cache,
            // media.rs
            media_roundtrip, media_attachments_and_visibility, media_unattached_sweep,
            media_quota_atomic,
            // avatars.rs
            user_avatar_set_replace_clear, room_avatar_events, room_patch_is_one_commit,
            // retention.rs
            retention_purges_with_tombstones,
            // moderation.rs
            mute_and_unmute, slow_mode_setting, audit_log_records_moderation, audit_log_records_purges,
            room_permissions_setting,
            // invitations.rs
            group_adds_policy_roundtrip, invitations_accept_and_decline,
            // reports.rs
            reports_filed_listed_and_resolved,
            // operations (this file)
            writable_when_healthy,
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

/// A healthy store accepts writes, before and after it has written something.
pub async fn writable_when_healthy(store: &impl crate::store::Store) {
    store
        .check_writable()
        .await
        .expect("a fresh store is writable");
    let user = new_user("writable");
    store.create_user(&user).await.expect("create user");
    store
        .check_writable()
        .await
        .expect("still writable after a write");
    store.ping().await.expect("ping");
}
