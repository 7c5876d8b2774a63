//! Conformance cases: consent to be added — the policy, shared rooms, and invitations.

use super::accounts::user;
use super::support::{MAX_MEMBERS, at, conflict, group, join, not_found};
use crate::event::EventKind;
use crate::store::Store;
use crate::user::GroupAdds;

pub async fn group_adds_policy_roundtrip(store: &dyn Store) {
    let bob = user(store, "policybob").await;
    assert_eq!(store.group_adds(bob.id).await.unwrap(), GroupAdds::Anyone);
    store
        .set_group_adds(bob.id, GroupAdds::SharedRoom)
        .await
        .unwrap();
    assert_eq!(
        store.group_adds(bob.id).await.unwrap(),
        GroupAdds::SharedRoom
    );
    not_found(store.group_adds(crate::ids::UserId::new()).await);
    not_found(
        store
            .set_group_adds(crate::ids::UserId::new(), GroupAdds::Nobody)
            .await,
    );
}

pub async fn invitations_accept_and_decline(store: &dyn Store) {
    let alice = user(store, "invalice").await;
    let bob = user(store, "invbob").await;
    let carol = user(store, "invcarol").await;
    let room = group(store, alice.id, "Invited").await;
    let other = group(store, carol.id, "Other").await;

    assert!(!store.share_a_room(alice.id, bob.id).await.unwrap());
    join(store, other.id, bob.id, at(1)).await;
    assert!(store.share_a_room(bob.id, carol.id).await.unwrap());
    assert!(!store.share_a_room(alice.id, bob.id).await.unwrap());

    let inv = store
        .invite_member(room.id, bob.id, alice.id, at(2))
        .await
        .unwrap();
    assert_eq!(
        (inv.room_id, inv.user_id, inv.invited_by, inv.created_at),
        (room.id, bob.id, alice.id, at(2))
    );
    conflict(
        store.invite_member(room.id, bob.id, alice.id, at(3)).await,
        "invited",
    );
    conflict(
        store
            .invite_member(room.id, alice.id, alice.id, at(3))
            .await,
        "member",
    );
    assert!(
        store.member(room.id, bob.id).await.unwrap().is_none(),
        "an invitation is not a membership"
    );
    assert_eq!(store.invitations(bob.id).await.unwrap(), vec![inv.clone()]);

    let (member, ev) = store
        .accept_invitation(room.id, bob.id, MAX_MEMBERS, at(4))
        .await
        .unwrap();
    assert_eq!(member.user_id, bob.id);
    assert_eq!(
        (ev.kind, ev.actor_id, ev.user_id),
        (EventKind::MemberJoined, alice.id, Some(bob.id)),
        "joined, added by the inviter"
    );
    assert!(store.invitations(bob.id).await.unwrap().is_empty());
    not_found(
        store
            .accept_invitation(room.id, bob.id, MAX_MEMBERS, at(5))
            .await,
    );

    // Declined: gone, nothing joined.
    store
        .invite_member(room.id, carol.id, alice.id, at(6))
        .await
        .unwrap();
    store.decline_invitation(room.id, carol.id).await.unwrap();
    not_found(store.decline_invitation(room.id, carol.id).await);
    assert!(store.member(room.id, carol.id).await.unwrap().is_none());

    // Banned people are not invited; a full room refuses the acceptance and keeps the
    // invitation; a deleted room's invitations disappear.
    store
        .ban(room.id, carol.id, alice.id, None, at(7))
        .await
        .unwrap();
    conflict(
        store
            .invite_member(room.id, carol.id, alice.id, at(8))
            .await,
        "banned",
    );
    let dave = user(store, "invdave").await;
    store
        .invite_member(room.id, dave.id, alice.id, at(9))
        .await
        .unwrap();
    conflict(
        store.accept_invitation(room.id, dave.id, 2, at(10)).await,
        "room_full",
    );
    assert_eq!(store.invitations(dave.id).await.unwrap().len(), 1, "kept");
    store.delete_room(room.id, alice.id, at(11)).await.unwrap();
    assert!(store.invitations(dave.id).await.unwrap().is_empty());
    not_found(
        store
            .invite_member(room.id, dave.id, alice.id, at(12))
            .await,
    );
}
