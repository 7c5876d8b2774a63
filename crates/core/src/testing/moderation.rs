//! Conformance cases: mutes, slow mode, and the audit log every moderation action writes.

use super::accounts::user;
use super::support::{at, group, join, new_msg, not_found, send_new};
use crate::audit::AuditAction;
use crate::event::EventKind;
use crate::room::{PermissionsPatch, Role, RoomPatch, RoomPermissions};
use crate::store::Store;

/// A mute is stored on the membership, announced by its event (with its end) and lifted by
/// another; only members can be muted.
pub async fn mute_and_unmute(store: &dyn Store) {
    let owner = user(store, "muteowner").await;
    let bob = user(store, "mutebob").await;
    let stranger = user(store, "mutestranger").await;
    let room = group(store, owner.id, "Muting").await;
    join(store, room.id, bob.id, at(1)).await;

    let until = at(3600);
    let ev = store
        .mute(
            room.id,
            bob.id,
            Some(until),
            owner.id,
            Some("cool down".into()),
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.user_id, ev.muted_until, ev.actor_id),
        (EventKind::MemberMuted, Some(bob.id), Some(until), owner.id)
    );
    let member = store.member(room.id, bob.id).await.unwrap().unwrap();
    assert_eq!(member.muted_until, Some(until));
    assert!(member.is_muted(at(10)) && !member.is_muted(at(3600)));
    let (_, via_both) = store.room_and_member(room.id, bob.id).await.unwrap();
    assert_eq!(via_both.unwrap().muted_until, Some(until));
    let listed = store.members(room.id).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .find(|m| m.user_id == bob.id)
            .unwrap()
            .muted_until,
        Some(until)
    );
    // Replayed history carries the mute's end.
    let page = store.events(room.id, ev.seq - 1, 10).await.unwrap();
    assert_eq!(page.events[0].kind, EventKind::MemberMuted);
    assert_eq!(page.events[0].muted_until, Some(until));

    let lifted = store
        .mute(room.id, bob.id, None, owner.id, None, at(3))
        .await
        .unwrap();
    assert_eq!(
        (lifted.kind, lifted.muted_until, lifted.seq),
        (EventKind::MemberUnmuted, None, ev.seq + 1)
    );
    let member = store.member(room.id, bob.id).await.unwrap().unwrap();
    assert_eq!(member.muted_until, None);

    not_found(
        store
            .mute(room.id, stranger.id, Some(until), owner.id, None, at(4))
            .await,
    );
}

/// Slow mode is a room setting, announced like the others.
pub async fn slow_mode_setting(store: &dyn Store) {
    let owner = user(store, "slowowner").await;
    let room = group(store, owner.id, "Slow").await;
    assert_eq!(room.slow_mode_seconds, 0);
    let patch = RoomPatch {
        slow_mode_seconds: Some(30),
        ..RoomPatch::default()
    };
    let (updated, ev) = store
        .update_room(room.id, &patch, owner.id, at(1))
        .await
        .unwrap();
    assert_eq!(updated.slow_mode_seconds, 30);
    assert_eq!(store.room(room.id).await.unwrap().slow_mode_seconds, 30);
    let ev = ev.expect("announced");
    assert_eq!(ev.changes.unwrap().slow_mode_seconds, Some(30));
    let summaries = store.rooms_for_user(owner.id).await.unwrap();
    assert_eq!(summaries[0].room.slow_mode_seconds, 30);
}

/// Per-room permissions are a room setting: stored, announced with only what changed, and
/// audited as a settings change.
pub async fn room_permissions_setting(store: &dyn Store) {
    let owner = user(store, "permowner").await;
    let room = group(store, owner.id, "Permissions").await;
    assert_eq!(room.permissions, RoomPermissions::default());
    let change = PermissionsPatch {
        pin: Some(Role::Member),
        mention_room: Some(Role::Owner),
        ..PermissionsPatch::default()
    };
    let patch = RoomPatch {
        permissions: change,
        ..RoomPatch::default()
    };
    let (updated, ev) = store
        .update_room(room.id, &patch, owner.id, at(1))
        .await
        .unwrap();
    let expected = RoomPermissions {
        invite: Role::Admin,
        pin: Role::Member,
        mention_room: Role::Owner,
    };
    assert_eq!(updated.permissions, expected);
    assert_eq!(store.room(room.id).await.unwrap().permissions, expected);
    let (r, _) = store.room_and_member(room.id, owner.id).await.unwrap();
    assert_eq!(r.permissions, expected);
    let summaries = store.rooms_for_user(owner.id).await.unwrap();
    assert_eq!(summaries[0].room.permissions, expected);
    let ev = ev.expect("announced");
    assert_eq!(ev.changes.as_ref().unwrap().permissions, Some(change));
    let log = store.audit_log(Some(room.id), None, 10).await.unwrap();
    assert_eq!(log[0].action, AuditAction::RoomUpdated);
    assert_eq!(
        log[0].details.as_ref().unwrap()["permissions"],
        serde_json::json!({ "pin": "member", "mention_room": "owner" })
    );
}

/// Every moderation action leaves one entry, written with the action; conversation and a
/// member's own choices leave none. Newest first, per room, paged by id.
pub async fn audit_log_records_moderation(store: &dyn Store) {
    let owner = user(store, "auditowner").await;
    let bob = user(store, "auditbob").await;
    let carol = user(store, "auditcarol").await;
    let dave = user(store, "auditdave").await;
    let room = group(store, owner.id, "Audited").await;
    let other = group(store, dave.id, "Elsewhere").await;
    for (u, t) in [(bob.id, 1), (carol.id, 2)] {
        join(store, room.id, u, at(t)).await;
    }
    // Not moderation: joining, a message and its deletion by its sender, leaving.
    let (own, _) = send_new(store, &new_msg(room.id, bob.id, "mine", at(3))).await;
    store
        .delete_message(room.id, own.id, bob.id, None, at(4))
        .await
        .unwrap();
    let (rude, _) = send_new(store, &new_msg(room.id, bob.id, "rude", at(5))).await;
    assert!(
        store
            .audit_log(Some(room.id), None, 50)
            .await
            .unwrap()
            .is_empty()
    );

    // Moderation, in order.
    store
        .delete_message(room.id, rude.id, owner.id, Some("rude".into()), at(6))
        .await
        .unwrap();
    store
        .set_role(room.id, carol.id, Role::Admin, owner.id, at(7))
        .await
        .unwrap();
    store
        .mute(
            room.id,
            bob.id,
            Some(at(600)),
            carol.id,
            Some("flood".into()),
            at(8),
        )
        .await
        .unwrap();
    store
        .remove_member(room.id, bob.id, carol.id, Some("again".into()), at(9))
        .await
        .unwrap();
    store
        .ban(room.id, bob.id, owner.id, Some("for good".into()), at(10))
        .await
        .unwrap();
    store
        .unban(room.id, bob.id, owner.id, None, at(11))
        .await
        .unwrap();
    let patch = RoomPatch {
        name: Some("Renamed".into()),
        ..RoomPatch::default()
    };
    store
        .update_room(room.id, &patch, owner.id, at(12))
        .await
        .unwrap();
    // Leaving is one's own choice.
    store
        .remove_member(room.id, carol.id, carol.id, None, at(13))
        .await
        .unwrap();
    // Another room's moderation stays there.
    join(store, other.id, owner.id, at(14)).await;
    store
        .remove_member(other.id, owner.id, dave.id, None, at(15))
        .await
        .unwrap();

    let log = store.audit_log(Some(room.id), None, 50).await.unwrap();
    let actions: Vec<AuditAction> = log.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::RoomUpdated,
            AuditAction::MemberUnbanned,
            AuditAction::MemberBanned,
            AuditAction::MemberKicked,
            AuditAction::MemberMuted,
            AuditAction::RoleChanged,
            AuditAction::MessageRemoved,
        ],
        "newest first, moderation only"
    );
    let removed = &log[6];
    assert_eq!(
        (
            removed.actor_id,
            removed.target_user_id,
            removed.target_message_id,
            removed.reason.as_deref(),
            removed.created_at
        ),
        (owner.id, Some(bob.id), Some(rude.id), Some("rude"), at(6))
    );
    let promoted = &log[5];
    assert_eq!(promoted.target_user_id, Some(carol.id));
    assert_eq!(
        promoted.details,
        Some(serde_json::json!({ "role": "admin" }))
    );
    let muted = &log[4];
    assert_eq!(
        (muted.actor_id, muted.reason.as_deref()),
        (carol.id, Some("flood"))
    );
    assert!(muted.details.is_some(), "the mute's end");
    assert_eq!(log[3].reason.as_deref(), Some("again"));
    assert_eq!(log[2].reason.as_deref(), Some("for good"));
    assert_eq!(
        (
            log[1].actor_id,
            log[1].target_user_id,
            log[1].reason.as_deref()
        ),
        (owner.id, Some(bob.id), None)
    );
    assert_eq!(
        log[0].details,
        Some(serde_json::json!({ "name": "Renamed" }))
    );
    assert!(log.iter().all(|e| e.room_id == Some(room.id)));

    // Paging: before an entry's id gives the older ones.
    let page = store
        .audit_log(Some(room.id), Some(log[2].id), 2)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![log[3].id, log[4].id]
    );
    // Every room's entries, for the instance's admins.
    let all = store.audit_log(None, None, 50).await.unwrap();
    assert_eq!(all.len(), 8);
    assert_eq!(all[0].room_id, Some(other.id));

    // Deleting the room is audited, and its entries stay.
    store.delete_room(room.id, owner.id, at(16)).await.unwrap();
    let log = store.audit_log(Some(room.id), None, 50).await.unwrap();
    assert_eq!(log.len(), 8);
    assert_eq!(log[0].action, AuditAction::RoomDeleted);
}

/// A retention purge leaves one entry per batch, by the server, saying how much it removed.
pub async fn audit_log_records_purges(store: &dyn Store) {
    let owner = user(store, "purgeaudit").await;
    let room = group(store, owner.id, "Purged").await;
    for t in 1..=3 {
        send_new(store, &new_msg(room.id, owner.id, "old", at(t))).await;
    }
    let purged = store
        .purge_room(room.id, at(100), 10, at(200))
        .await
        .unwrap();
    assert_eq!(purged.messages, 3);
    let log = store.audit_log(Some(room.id), None, 10).await.unwrap();
    assert_eq!(log.len(), 1, "one entry for the batch, none per tombstone");
    assert_eq!(log[0].action, AuditAction::RetentionPurged);
    assert_eq!(log[0].actor_id, crate::ids::UserId::SERVER);
    assert_eq!(log[0].details.as_ref().unwrap()["messages"], 3);
}
