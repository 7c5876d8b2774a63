//! Conformance cases: accounts and sessions.

use super::support::at;
use crate::error::StoreError;
use crate::ids::{SessionId, UserId};
use crate::session::{NewSession, RefreshOutcome, RefreshPolicy, TokenHash};
use crate::store::Store;
use crate::user::{DisplayName, Email, NewUser, User, UserPatch, Username};
use chrono::{DateTime, Duration, Utc};

pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("valid timestamp")
}

pub fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        username: Username::parse(name).expect("valid username"),
        display_name: DisplayName::parse(name).expect("valid name"),
        email: Some(Email::parse(&format!("{name}@example.org")).expect("valid email")),
        password_hash: format!("hash-of-{name}"),
        now: t0(),
    }
}

pub async fn user(store: &dyn Store, name: &str) -> User {
    store
        .create_user(&new_user(name))
        .await
        .expect("create user")
}

fn hash(n: u8) -> TokenHash {
    TokenHash([n; 32])
}

fn new_session(user: UserId, token: TokenHash, now: DateTime<Utc>) -> NewSession {
    NewSession {
        id: SessionId::new(),
        user_id: user,
        token,
        now,
        expires_at: now + Duration::days(30),
        user_agent: Some("conformance/1.0".into()),
        ip: Some("127.0.0.1".into()),
    }
}

pub async fn user_roundtrip(store: &dyn Store) {
    let new = new_user("ada");
    let created = store.create_user(&new).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.username.as_str(), "ada");
    assert_eq!(created.created_at, t0());
    let fetched = store.user_by_id(new.id).await.unwrap();
    assert_eq!(fetched, created);
    assert_eq!(store.password_hash(new.id).await.unwrap(), "hash-of-ada");
    store.ping().await.unwrap();
}

pub async fn username_unique_case_insensitive(store: &dyn Store) {
    user(store, "grace").await;
    let mut dup = new_user("grace");
    dup.email = None;
    // Usernames are normalised to lower case by parsing; the store enforces uniqueness.
    dup.username = Username::parse("GRACE").unwrap();
    match store.create_user(&dup).await {
        Err(StoreError::Conflict("username")) => {}
        other => panic!("expected username conflict, got {other:?}"),
    }
}

pub async fn email_unique(store: &dyn Store) {
    user(store, "linus").await;
    let mut dup = new_user("linus2");
    dup.email = Some(Email::parse("LINUS@example.org").unwrap());
    match store.create_user(&dup).await {
        Err(StoreError::Conflict("email")) => {}
        other => panic!("expected email conflict, got {other:?}"),
    }
    // Several users without e-mail are fine.
    for name in ["noemail1", "noemail2"] {
        let mut u = new_user(name);
        u.email = None;
        store.create_user(&u).await.unwrap();
    }
}

pub async fn login_by_username_or_email(store: &dyn Store) {
    let u = user(store, "barbara").await;
    let (by_name, h1) = store.user_by_login("barbara").await.unwrap();
    let (by_mail, h2) = store.user_by_login("barbara@example.org").await.unwrap();
    assert_eq!(by_name.id, u.id);
    assert_eq!(by_mail.id, u.id);
    assert_eq!(h1, "hash-of-barbara");
    assert_eq!(h2, h1);
    assert!(matches!(
        store.user_by_login("nobody").await,
        Err(StoreError::NotFound)
    ));
    // Metacharacters are data, never syntax.
    assert!(matches!(
        store.user_by_login("' OR 1=1 --").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn update_profile(store: &dyn Store) {
    let u = user(store, "edsger").await;
    let later = t0() + Duration::minutes(5);
    let patch = UserPatch {
        display_name: Some(DisplayName::parse("E. W. Dijkstra").unwrap()),
        email: None,
    };
    let updated = store.update_user(u.id, &patch, later).await.unwrap();
    assert_eq!(updated.display_name.as_str(), "E. W. Dijkstra");
    assert_eq!(updated.email, u.email);
    assert_eq!(updated.updated_at, later);
    let cleared = store
        .update_user(
            u.id,
            &UserPatch {
                display_name: None,
                email: Some(None),
            },
            later,
        )
        .await
        .unwrap();
    assert_eq!(cleared.email, None);
    let other = user(store, "tony").await;
    let steal = UserPatch {
        display_name: None,
        email: Some(other.email.clone()),
    };
    assert!(matches!(
        store.update_user(u.id, &steal, later).await,
        Err(StoreError::Conflict("email"))
    ));
    assert!(matches!(
        store.update_user(UserId::new(), &patch, later).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn password_hash_update(store: &dyn Store) {
    let u = user(store, "niklaus").await;
    store
        .set_password_hash(u.id, "new-hash", t0())
        .await
        .unwrap();
    assert_eq!(store.password_hash(u.id).await.unwrap(), "new-hash");
    assert_eq!(store.user_by_login("niklaus").await.unwrap().1, "new-hash");
}

pub async fn session_lifecycle(store: &dyn Store) {
    let u = user(store, "alan").await;
    let s1 = store
        .create_session(&new_session(u.id, hash(1), t0()))
        .await
        .unwrap();
    let s2 = store
        .create_session(&new_session(u.id, hash(2), t0() + Duration::seconds(1)))
        .await
        .unwrap();
    assert_eq!(s1.user_agent.as_deref(), Some("conformance/1.0"));
    let list = store
        .list_sessions(u.id, t0() + Duration::seconds(2))
        .await
        .unwrap();
    assert_eq!(
        list.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![s2.id, s1.id],
        "newest first"
    );
    store
        .revoke_session(u.id, s1.id, t0() + Duration::seconds(3))
        .await
        .unwrap();
    let list = store
        .list_sessions(u.id, t0() + Duration::seconds(4))
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert!(store.session(s1.id).await.unwrap().revoked_at.is_some());
    // Revoking twice, or someone else's session, is NotFound.
    assert!(matches!(
        store.revoke_session(u.id, s1.id, t0()).await,
        Err(StoreError::NotFound)
    ));
    let mallory = user(store, "mallory").await;
    assert!(matches!(
        store.revoke_session(mallory.id, s2.id, t0()).await,
        Err(StoreError::NotFound)
    ));
    // A revoked session's token no longer refreshes.
    let out = store
        .refresh(
            &hash(1),
            &hash(9),
            t0() + Duration::seconds(5),
            &RefreshPolicy::default(),
        )
        .await
        .unwrap();
    assert_eq!(out, RefreshOutcome::Expired);
}

pub async fn refresh_rotates(store: &dyn Store) {
    let u = user(store, "barbara").await;
    let s = store
        .create_session(&new_session(u.id, hash(1), t0()))
        .await
        .unwrap();
    let p = RefreshPolicy::default();
    let later = t0() + Duration::hours(1);
    match store.refresh(&hash(1), &hash(2), later, &p).await.unwrap() {
        RefreshOutcome::Rotated(sess) => {
            assert_eq!(sess.id, s.id);
            assert_eq!(sess.last_used_at, later, "refresh touches the session");
        }
        other => panic!("expected rotation, got {other:?}"),
    }
    let much_later = later + Duration::hours(1);
    assert!(matches!(
        store
            .refresh(&hash(2), &hash(3), much_later, &p)
            .await
            .unwrap(),
        RefreshOutcome::Rotated(_)
    ));
    assert_eq!(
        store
            .refresh(&hash(77), &hash(78), much_later, &p)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
}

pub async fn refresh_reuse_revokes_family(store: &dyn Store) {
    let u = user(store, "ken").await;
    let s = store
        .create_session(&new_session(u.id, hash(1), t0()))
        .await
        .unwrap();
    let p = RefreshPolicy::default();
    let t1 = t0() + Duration::minutes(1);
    assert!(matches!(
        store.refresh(&hash(1), &hash(2), t1, &p).await.unwrap(),
        RefreshOutcome::Rotated(_)
    ));
    // The successor is used: the old token is now definitely retired.
    assert!(matches!(
        store.refresh(&hash(2), &hash(3), t1, &p).await.unwrap(),
        RefreshOutcome::Rotated(_)
    ));
    let t2 = t1 + Duration::seconds(5);
    assert_eq!(
        store.refresh(&hash(1), &hash(4), t2, &p).await.unwrap(),
        RefreshOutcome::ReuseDetected {
            session_id: s.id,
            user_id: u.id
        }
    );
    // The whole family is dead, including the newest token.
    assert_eq!(
        store.refresh(&hash(3), &hash(5), t2, &p).await.unwrap(),
        RefreshOutcome::Expired
    );
    assert!(store.session(s.id).await.unwrap().revoked_at.is_some());
}

pub async fn refresh_grace_for_lost_response(store: &dyn Store) {
    let u = user(store, "dennis").await;
    store
        .create_session(&new_session(u.id, hash(1), t0()))
        .await
        .unwrap();
    let p = RefreshPolicy::default();
    let t1 = t0() + Duration::minutes(1);
    assert!(matches!(
        store.refresh(&hash(1), &hash(2), t1, &p).await.unwrap(),
        RefreshOutcome::Rotated(_)
    ));
    // Response lost: the client retries with token 1 within the grace window.
    let t2 = t1 + Duration::seconds(10);
    assert!(matches!(
        store.refresh(&hash(1), &hash(3), t2, &p).await.unwrap(),
        RefreshOutcome::Rotated(_)
    ));
    // Token 2 (never delivered) was retired with it; token 3 works.
    assert!(matches!(
        store.refresh(&hash(3), &hash(4), t2, &p).await.unwrap(),
        RefreshOutcome::Rotated(_)
    ));
    // Past the grace window a replay of token 1 is theft.
    let t3 = t2 + p.grace + Duration::seconds(1);
    assert!(matches!(
        store.refresh(&hash(1), &hash(5), t3, &p).await.unwrap(),
        RefreshOutcome::ReuseDetected { .. }
    ));
}

pub async fn refresh_expiry(store: &dyn Store) {
    let u = user(store, "john").await;
    let p = RefreshPolicy::default();
    store
        .create_session(&new_session(u.id, hash(1), t0()))
        .await
        .unwrap();
    // Idle expiry: unused for 7 days.
    assert_eq!(
        store
            .refresh(&hash(1), &hash(2), t0() + Duration::days(7), &p)
            .await
            .unwrap(),
        RefreshOutcome::Expired
    );
    // Absolute expiry: used every 6 days, still over after 30.
    store
        .create_session(&new_session(u.id, hash(10), t0()))
        .await
        .unwrap();
    let mut current = 10u8;
    let mut now = t0();
    for _ in 0..4 {
        now += Duration::days(6);
        assert!(matches!(
            store
                .refresh(&hash(current), &hash(current + 1), now, &p)
                .await
                .unwrap(),
            RefreshOutcome::Rotated(_)
        ));
        current += 1;
    }
    now += Duration::days(6);
    assert_eq!(
        store
            .refresh(&hash(current), &hash(current + 1), now, &p)
            .await
            .unwrap(),
        RefreshOutcome::Expired
    );
    assert!(
        store.list_sessions(u.id, now).await.unwrap().is_empty(),
        "expired sessions are not listed"
    );
}

pub async fn revoke_sessions_except(store: &dyn Store) {
    let u = user(store, "margaret").await;
    let other = user(store, "katherine").await;
    let keep = store
        .create_session(&new_session(u.id, hash(1), t0()))
        .await
        .unwrap();
    let a = store
        .create_session(&new_session(u.id, hash(2), t0()))
        .await
        .unwrap();
    let b = store
        .create_session(&new_session(u.id, hash(3), t0()))
        .await
        .unwrap();
    let theirs = store
        .create_session(&new_session(other.id, hash(4), t0()))
        .await
        .unwrap();
    let mut revoked = store
        .revoke_sessions(u.id, Some(keep.id), t0())
        .await
        .unwrap();
    revoked.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(revoked, expected);
    let live: Vec<_> = store
        .list_sessions(u.id, t0())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, vec![keep.id]);
    assert_eq!(
        store.list_sessions(other.id, t0()).await.unwrap()[0].id,
        theirs.id
    );
    let all = store.revoke_sessions(u.id, None, t0()).await.unwrap();
    assert_eq!(all, vec![keep.id]);
}

/// Two devices racing with the same token: at most one gets a fresh successor through the
/// ordinary path; the loser either gets the grace retry or (never) a second family.
pub async fn concurrent_refresh_single_winner(store: &dyn Store) {
    let u = user(store, "racer").await;
    store
        .create_session(&new_session(u.id, hash(1), t0()))
        .await
        .unwrap();
    let p = RefreshPolicy::default();
    let now = t0() + Duration::minutes(1);
    let (h1, h2, h3) = (hash(1), hash(2), hash(3));
    let (a, b) = tokio::join!(
        store.refresh(&h1, &h2, now, &p),
        store.refresh(&h1, &h3, now, &p)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, RefreshOutcome::Rotated(_)))
        .count();
    assert!(rotated >= 1, "{outcomes:?}");
    // Exactly one of the two successors is live afterwards.
    let live2 = matches!(
        store.refresh(&hash(2), &hash(4), now, &p).await.unwrap(),
        RefreshOutcome::Rotated(_)
    );
    let live3 = matches!(
        store.refresh(&hash(3), &hash(5), now, &p).await.unwrap(),
        RefreshOutcome::Rotated(_)
    );
    assert!(!(live2 && live3), "both successors live: the family forked");
}

pub async fn unknown_ids_not_found(store: &dyn Store) {
    assert!(matches!(
        store.user_by_id(UserId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.password_hash(UserId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.session(SessionId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.set_password_hash(UserId::new(), "x", t0()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn users_by_ids_batch(store: &dyn Store) {
    let a = user(store, "batch_a").await;
    let b = user(store, "batch_b").await;
    assert!(store.users_by_ids(&[]).await.unwrap().is_empty());
    let mut got: Vec<UserId> = store
        .users_by_ids(&[a.id, UserId::new(), b.id, a.id])
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    got.sort();
    got.dedup();
    let mut want = vec![a.id, b.id];
    want.sort();
    assert_eq!(got, want, "unknown ids are skipped");
    let found = store.users_by_ids(&[b.id]).await.unwrap();
    assert_eq!(found, vec![b]);
}

// --- users: blocks and search --------------------------------------------------------------------

pub async fn blocks(store: &dyn Store) {
    let a = user(store, "blocker").await;
    let b = user(store, "blockee").await;
    let c = user(store, "neutral").await;
    assert!(!store.is_blocked_between(a.id, b.id).await.unwrap());
    store.block_user(a.id, b.id, at(1)).await.unwrap();
    store.block_user(a.id, b.id, at(2)).await.unwrap();
    assert!(store.is_blocked_between(a.id, b.id).await.unwrap());
    assert!(
        store.is_blocked_between(b.id, a.id).await.unwrap(),
        "either direction"
    );
    assert!(!store.is_blocked_between(a.id, c.id).await.unwrap());
    assert_eq!(store.blocked_users(a.id).await.unwrap(), vec![b.id]);
    assert!(store.blocked_users(b.id).await.unwrap().is_empty());
    store.block_user(a.id, c.id, at(3)).await.unwrap();
    let mut list = store.blocked_users(a.id).await.unwrap();
    list.sort();
    let mut want = vec![b.id, c.id];
    want.sort();
    assert_eq!(list, want);
    store.unblock_user(a.id, b.id).await.unwrap();
    store.unblock_user(a.id, b.id).await.unwrap();
    assert!(!store.is_blocked_between(b.id, a.id).await.unwrap());
    assert_eq!(store.blocked_users(a.id).await.unwrap(), vec![c.id]);
}

pub async fn search_users_by_prefix(store: &dyn Store) {
    for name in ["alpine", "alpha", "alps_fan", "beta", "ann_x", "annex"] {
        user(store, name).await;
    }
    let names = |users: Vec<crate::user::User>| {
        users
            .iter()
            .map(|u| u.username.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(store.search_users("alp", 10).await.unwrap()),
        vec!["alpha", "alpine", "alps_fan"]
    );
    assert_eq!(
        names(store.search_users("alp", 2).await.unwrap()),
        vec!["alpha", "alpine"]
    );
    assert_eq!(
        names(store.search_users("beta", 10).await.unwrap()),
        vec!["beta"]
    );
    assert!(store.search_users("zed", 10).await.unwrap().is_empty());
    // Pattern characters are data.
    assert_eq!(
        names(store.search_users("ann_", 10).await.unwrap()),
        vec!["ann_x"]
    );
    assert!(store.search_users("%", 10).await.unwrap().is_empty());
    assert!(store.search_users("a%", 10).await.unwrap().is_empty());
    assert!(
        store
            .search_users("' or 1=1 --", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Suspending ends every session and is audited, in one step; reinstating is audited too;
/// doing either twice changes nothing.
pub async fn account_suspension(store: &dyn Store) {
    use crate::audit::AuditAction;
    let u = user(store, "suspendee").await;
    let admin = user(store, "instadmin").await;
    let bystander = user(store, "bystander").await;
    let a = store
        .create_session(&new_session(u.id, hash(41), t0()))
        .await
        .unwrap();
    let b = store
        .create_session(&new_session(u.id, hash(42), t0()))
        .await
        .unwrap();
    let theirs = store
        .create_session(&new_session(bystander.id, hash(43), t0()))
        .await
        .unwrap();
    assert_eq!(u.suspended_at, None);
    let later = t0() + chrono::Duration::seconds(5);

    let mut ended = store
        .set_suspended(u.id, true, admin.id, Some("spam".into()), later)
        .await
        .unwrap()
        .expect("a change");
    ended.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(ended, expected);
    assert!(store.list_sessions(u.id, later).await.unwrap().is_empty());
    assert_eq!(
        store.list_sessions(bystander.id, later).await.unwrap()[0].id,
        theirs.id
    );
    assert_eq!(
        store.user_by_id(u.id).await.unwrap().suspended_at,
        Some(later)
    );
    let (by_login, _) = store.user_by_login("suspendee").await.unwrap();
    assert_eq!(by_login.suspended_at, Some(later), "login sees it");
    let listed = store.suspended_users().await.unwrap();
    assert_eq!(listed.iter().map(|x| x.id).collect::<Vec<_>>(), vec![u.id]);
    assert_eq!(
        store
            .set_suspended(u.id, true, admin.id, None, later)
            .await
            .unwrap(),
        None,
        "already suspended"
    );

    let back = t0() + chrono::Duration::seconds(9);
    assert_eq!(
        store
            .set_suspended(u.id, false, admin.id, Some("appeal".into()), back)
            .await
            .unwrap(),
        Some(vec![])
    );
    assert_eq!(store.user_by_id(u.id).await.unwrap().suspended_at, None);
    assert!(store.suspended_users().await.unwrap().is_empty());

    let log = store.audit_log(None, None, 10).await.unwrap();
    let mine: Vec<_> = log
        .iter()
        .filter(|e| e.target_user_id == Some(u.id))
        .map(|e| (e.action, e.actor_id, e.room_id, e.reason.clone()))
        .collect();
    assert_eq!(
        mine,
        vec![
            (
                AuditAction::AccountUnsuspended,
                admin.id,
                None,
                Some("appeal".into())
            ),
            (
                AuditAction::AccountSuspended,
                admin.id,
                None,
                Some("spam".into())
            ),
        ],
        "newest first, instance-wide, each once"
    );
    assert!(matches!(
        store
            .set_suspended(UserId::new(), true, admin.id, None, later)
            .await,
        Err(crate::StoreError::NotFound)
    ));
}

/// Sign-up blocks: added once per range (audited), listed newest first, lifted by id.
pub async fn signup_blocks_roundtrip(store: &dyn Store) {
    use crate::audit::AuditAction;
    use crate::instance_ban::SignupBlock;
    let admin = user(store, "blockadmin").await;
    let block = |cidr: &str, secs: i64| SignupBlock {
        id: crate::SignupBlockId::new(),
        cidr: cidr.into(),
        reason: Some(format!("abuse from {cidr}")),
        created_by: admin.id,
        created_at: t0() + chrono::Duration::seconds(secs),
    };
    assert!(store.signup_blocks().await.unwrap().is_empty());
    let first = block("203.0.113.0/24", 1);
    let second = block("2001:db8::/32", 2);
    store.add_signup_block(&first).await.unwrap();
    store.add_signup_block(&second).await.unwrap();
    assert!(matches!(
        store.add_signup_block(&block("203.0.113.0/24", 3)).await,
        Err(crate::StoreError::Conflict("cidr"))
    ));
    assert_eq!(
        store.signup_blocks().await.unwrap(),
        vec![second.clone(), first.clone()]
    );

    let lifted = store
        .remove_signup_block(first.id, admin.id, Some("fixed".into()), t0())
        .await
        .unwrap();
    assert_eq!(lifted, first);
    assert_eq!(store.signup_blocks().await.unwrap(), vec![second.clone()]);
    assert!(matches!(
        store
            .remove_signup_block(first.id, admin.id, None, t0())
            .await,
        Err(crate::StoreError::NotFound)
    ));

    let log = store.audit_log(None, None, 10).await.unwrap();
    let actions: Vec<_> = log
        .iter()
        .map(|e| {
            (
                e.action,
                e.details
                    .as_ref()
                    .and_then(|d| d["cidr"].as_str().map(str::to_owned)),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            (
                AuditAction::SignupBlockRemoved,
                Some("203.0.113.0/24".into())
            ),
            (AuditAction::SignupBlockAdded, Some("2001:db8::/32".into())),
            (AuditAction::SignupBlockAdded, Some("203.0.113.0/24".into())),
        ]
    );
}

/// "Last seen" is recorded per user and read back; unknown users are `NotFound`.
pub async fn last_seen_roundtrip(store: &dyn Store) {
    let u = user(store, "wanderer").await;
    assert_eq!(
        store.last_seen(u.id).await.unwrap(),
        None,
        "never online yet"
    );
    let at = t0() + chrono::Duration::seconds(90);
    store.set_last_seen(u.id, at).await.unwrap();
    assert_eq!(store.last_seen(u.id).await.unwrap(), Some(at));
    let later = at + chrono::Duration::seconds(30);
    store.set_last_seen(u.id, later).await.unwrap();
    assert_eq!(store.last_seen(u.id).await.unwrap(), Some(later));
    assert!(matches!(
        store.set_last_seen(UserId::new(), at).await,
        Err(crate::StoreError::NotFound)
    ));
    assert!(matches!(
        store.last_seen(UserId::new()).await,
        Err(crate::StoreError::NotFound)
    ));
}
