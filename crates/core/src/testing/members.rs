//! Conformance cases: membership, roles and ownership, bans, invites.
//!
//! Only the contract is asserted (the `Store` doc comments and the shared schema rules): no
//! adapter's incidental orderings. Where two rows could tie on a timestamp, the cases give them
//! distinct times; where the contract gives a list no order (mentions), it is compared sorted.

use super::accounts::{t0, user};
use super::support::{MAX_MEMBERS, at, conflict, group, join, last_seq, new_msg, not_found};
use crate::event::EventKind;
use crate::ids::{RoomId, UserId};
use crate::room::{Invite, Role};
use crate::store::Store;
use chrono::{DateTime, Utc};

// --- membership ----------------------------------------------------------------------------------

/// Mention resolution: only members of that room, by exact (lowercase) username, one call.
pub async fn members_named_resolves_mentions(store: &dyn Store) {
    let owner = user(store, "mowner").await;
    let bob = user(store, "mbob").await;
    let outsider = user(store, "moutsider").await;
    let room = group(store, owner.id, "Mentions").await;
    let other = group(store, outsider.id, "Elsewhere").await;
    join(store, room.id, bob.id, at(1)).await;
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut found = store
        .members_named(
            room.id,
            &names(&["mbob", "moutsider", "nobody", "mowner", "mbo"]),
        )
        .await
        .unwrap();
    found.sort();
    let mut expected = vec![owner.id, bob.id];
    expected.sort();
    assert_eq!(found, expected, "members only, exact names");
    assert!(store.members_named(room.id, &[]).await.unwrap().is_empty());
    assert_eq!(
        store
            .members_named(other.id, &names(&["mbob", "moutsider"]))
            .await
            .unwrap(),
        vec![outsider.id]
    );
}

pub async fn add_member_conflicts(store: &dyn Store) {
    let owner = user(store, "host").await;
    let guest = user(store, "guest").await;
    let third = user(store, "third").await;
    let room = group(store, owner.id, "Club").await;
    let (m, ev) = store
        .add_member(room.id, guest.id, Role::Member, owner.id, 2, at(1))
        .await
        .unwrap();
    assert_eq!(
        (m.room_id, m.user_id, m.role, m.joined_at),
        (room.id, guest.id, Role::Member, at(1))
    );
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id, ev.user_id, ev.role),
        (
            EventKind::MemberJoined,
            2,
            owner.id,
            Some(guest.id),
            Some(Role::Member)
        )
    );
    assert_eq!(m.read_seq, ev.seq, "history before the join is not unread");
    assert_eq!(
        store.member(room.id, guest.id).await.unwrap(),
        Some(m.clone())
    );
    let r = store.room(room.id).await.unwrap();
    assert_eq!((r.member_count, r.last_seq), (2, 2));

    conflict(
        store
            .add_member(
                room.id,
                guest.id,
                Role::Member,
                owner.id,
                MAX_MEMBERS,
                at(2),
            )
            .await,
        "member",
    );
    conflict(
        store
            .add_member(room.id, third.id, Role::Member, owner.id, 2, at(2))
            .await,
        "room_full",
    );
    assert_eq!(
        last_seq(store, room.id).await,
        2,
        "failed adds record nothing"
    );

    store
        .ban(room.id, third.id, owner.id, None, at(3))
        .await
        .unwrap();
    conflict(
        store
            .add_member(
                room.id,
                third.id,
                Role::Member,
                owner.id,
                MAX_MEMBERS,
                at(4),
            )
            .await,
        "banned",
    );

    // Owner first, then by join time.
    let late = user(store, "late").await;
    join(store, room.id, late.id, at(5)).await;
    let order: Vec<UserId> = store
        .members(room.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(order, vec![owner.id, guest.id, late.id]);
}

pub async fn set_role_and_transfer(store: &dyn Store) {
    let owner = user(store, "founder").await;
    let heir = user(store, "heir").await;
    let outsider = user(store, "outsider").await;
    let room = group(store, owner.id, "Dynasty").await;
    join(store, room.id, heir.id, at(1)).await;

    let ev = store
        .set_role(room.id, heir.id, Role::Admin, owner.id, at(2))
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id, ev.user_id, ev.role),
        (
            EventKind::MemberRoleChanged,
            3,
            owner.id,
            Some(heir.id),
            Some(Role::Admin)
        )
    );
    assert_eq!(
        store.member(room.id, heir.id).await.unwrap().unwrap().role,
        Role::Admin
    );
    not_found(
        store
            .set_role(room.id, outsider.id, Role::Admin, owner.id, at(3))
            .await,
    );
    // To oneself would leave the room without an owner; refused before any seq is taken.
    conflict(
        store
            .transfer_ownership(room.id, owner.id, owner.id, at(3))
            .await,
        "owner",
    );

    let events = store
        .transfer_ownership(room.id, owner.id, heir.id, at(4))
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.kind == EventKind::MemberRoleChanged)
    );
    let mut seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    seqs.sort();
    assert_eq!(seqs, vec![4, 5]);
    let change_of = |u: UserId| {
        events
            .iter()
            .find(|e| e.user_id == Some(u))
            .and_then(|e| e.role)
    };
    assert_eq!(change_of(heir.id), Some(Role::Owner));
    assert_eq!(change_of(owner.id), Some(Role::Admin));
    assert_eq!(
        store.member(room.id, heir.id).await.unwrap().unwrap().role,
        Role::Owner
    );
    assert_eq!(
        store.member(room.id, owner.id).await.unwrap().unwrap().role,
        Role::Admin
    );
    assert_eq!(
        store.members(room.id).await.unwrap()[0].user_id,
        heir.id,
        "owner first"
    );
    assert_eq!(last_seq(store, room.id).await, 5);
    let listed = store.rooms_for_user(owner.id).await.unwrap();
    assert_eq!(listed[0].my_role, Role::Admin);
}

pub async fn remove_member_kinds(store: &dyn Store) {
    let owner = user(store, "boss").await;
    let leaver = user(store, "leaver").await;
    let kicked = user(store, "kicked").await;
    let room = group(store, owner.id, "Office").await;
    join(store, room.id, leaver.id, at(1)).await;
    join(store, room.id, kicked.id, at(2)).await;
    assert_eq!(store.room(room.id).await.unwrap().member_count, 3);

    let left = store
        .remove_member(room.id, leaver.id, leaver.id, None, at(3))
        .await
        .unwrap();
    assert_eq!(
        (left.kind, left.actor_id, left.user_id, left.seq),
        (EventKind::MemberLeft, leaver.id, Some(leaver.id), 4)
    );
    let out = store
        .remove_member(room.id, kicked.id, owner.id, None, at(4))
        .await
        .unwrap();
    assert_eq!(
        (out.kind, out.actor_id, out.user_id, out.seq),
        (EventKind::MemberKicked, owner.id, Some(kicked.id), 5)
    );

    assert_eq!(store.member(room.id, leaver.id).await.unwrap(), None);
    assert_eq!(store.room(room.id).await.unwrap().member_count, 1);
    assert!(store.rooms_for_user(kicked.id).await.unwrap().is_empty());
    not_found(
        store
            .remove_member(room.id, kicked.id, owner.id, None, at(5))
            .await,
    );
    // Removed members may come back (no ban).
    join(store, room.id, kicked.id, at(6)).await;
}

pub async fn ban_and_unban(store: &dyn Store) {
    let owner = user(store, "sheriff").await;
    let outlaw = user(store, "outlaw").await;
    let stranger = user(store, "stranger").await;
    let room = group(store, owner.id, "Town").await;
    join(store, room.id, outlaw.id, at(1)).await;

    let ev = store
        .ban(room.id, outlaw.id, owner.id, None, at(2))
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.actor_id, ev.user_id, ev.seq),
        (EventKind::MemberBanned, owner.id, Some(outlaw.id), 3)
    );
    assert_eq!(
        store.member(room.id, outlaw.id).await.unwrap(),
        None,
        "a ban removes the membership"
    );
    assert_eq!(store.room(room.id).await.unwrap().member_count, 1);
    assert!(store.is_banned(room.id, outlaw.id).await.unwrap());
    assert!(store.rooms_for_user(outlaw.id).await.unwrap().is_empty());
    conflict(
        store
            .add_member(
                room.id,
                outlaw.id,
                Role::Member,
                owner.id,
                MAX_MEMBERS,
                at(3),
            )
            .await,
        "banned",
    );
    not_found(
        store
            .send_message(&new_msg(room.id, outlaw.id, "let me in", at(3)))
            .await,
    );

    // Banning a non-member records the ban and the event.
    let ev = store
        .ban(room.id, stranger.id, owner.id, None, at(4))
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.user_id),
        (EventKind::MemberBanned, Some(stranger.id))
    );
    assert!(store.is_banned(room.id, stranger.id).await.unwrap());
    let mut bans = store.bans(room.id).await.unwrap();
    bans.sort();
    let mut want = vec![outlaw.id, stranger.id];
    want.sort();
    assert_eq!(bans, want);
    assert_eq!(store.room(room.id).await.unwrap().member_count, 1);

    let seq_before = last_seq(store, room.id).await;
    store
        .unban(room.id, outlaw.id, owner.id, None, at(5))
        .await
        .unwrap();
    assert_eq!(
        last_seq(store, room.id).await,
        seq_before,
        "unban is not history"
    );
    assert!(!store.is_banned(room.id, outlaw.id).await.unwrap());
    not_found(store.unban(room.id, outlaw.id, owner.id, None, at(6)).await);
    assert_eq!(store.bans(room.id).await.unwrap(), vec![stranger.id]);
    join(store, room.id, outlaw.id, at(5)).await;
}

// --- invites -------------------------------------------------------------------------------------

fn invite_for(
    room: RoomId,
    by: UserId,
    code: &str,
    expires_at: Option<DateTime<Utc>>,
    max_uses: Option<i64>,
) -> Invite {
    Invite {
        code: code.into(),
        room_id: room,
        created_by: by,
        created_at: t0(),
        expires_at,
        max_uses,
        uses: 0,
    }
}

pub async fn invites(store: &dyn Store) {
    let owner = user(store, "inviter").await;
    let u1 = user(store, "invitee1").await;
    let u2 = user(store, "invitee2").await;
    let u3 = user(store, "invitee3").await;
    let room = group(store, owner.id, "Party").await;
    let inv = invite_for(room.id, owner.id, "abc123", Some(at(3600)), Some(2));
    store.create_invite(&inv).await.unwrap();
    assert_eq!(store.invite("abc123").await.unwrap(), inv);

    let (m, ev) = store
        .accept_invite("abc123", u1.id, MAX_MEMBERS, at(10))
        .await
        .unwrap();
    assert_eq!(
        (m.user_id, m.role, m.read_seq),
        (u1.id, Role::Member, ev.seq)
    );
    assert_eq!(
        (ev.kind, ev.user_id, ev.actor_id, ev.role),
        (
            EventKind::MemberJoined,
            Some(u1.id),
            u1.id,
            Some(Role::Member)
        )
    );
    assert_eq!(store.invite("abc123").await.unwrap().uses, 1);

    // Already a member: a conflict that uses nothing.
    conflict(
        store
            .accept_invite("abc123", u1.id, MAX_MEMBERS, at(11))
            .await,
        "member",
    );
    assert_eq!(store.invite("abc123").await.unwrap().uses, 1);

    store
        .accept_invite("abc123", u2.id, MAX_MEMBERS, at(12))
        .await
        .unwrap();
    assert_eq!(store.invite("abc123").await.unwrap().uses, 2);
    conflict(
        store
            .accept_invite("abc123", u3.id, MAX_MEMBERS, at(13))
            .await,
        "invite_expired",
    );
    assert_eq!(store.member(room.id, u3.id).await.unwrap(), None);

    // Expiry.
    store
        .create_invite(&invite_for(room.id, owner.id, "short", Some(at(60)), None))
        .await
        .unwrap();
    conflict(
        store
            .accept_invite("short", u3.id, MAX_MEMBERS, at(60))
            .await,
        "invite_expired",
    );
    conflict(
        store
            .accept_invite("short", u3.id, MAX_MEMBERS, at(61))
            .await,
        "invite_expired",
    );
    assert_eq!(store.invite("short").await.unwrap().uses, 0);

    // Unlimited invites still obey add_member's rules.
    store
        .create_invite(&invite_for(room.id, owner.id, "open", None, None))
        .await
        .unwrap();
    conflict(
        store.accept_invite("open", u3.id, 3, at(70)).await,
        "room_full",
    );
    store
        .ban(room.id, u3.id, owner.id, None, at(71))
        .await
        .unwrap();
    conflict(
        store
            .accept_invite("open", u3.id, MAX_MEMBERS, at(72))
            .await,
        "banned",
    );
    assert_eq!(
        store.invite("open").await.unwrap().uses,
        0,
        "failed accepts use nothing"
    );
    not_found(
        store
            .accept_invite("nope", u3.id, MAX_MEMBERS, at(73))
            .await,
    );
}
