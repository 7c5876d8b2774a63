//! The authorization matrix: every room endpoint × {outsider, member, admin, owner, banned},
//! plus blocked users in DMs, asserting the exact status.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

crate::both_backends!(
    authorization_matrix,
    the_send_path_cache_never_outlives_a_change
);

/// Sends remember who may post where (`chat::access`); every change of a room or its members
/// applies to the very next send, and even an entry the cache was never told about (a change
/// committed without its event reaching this process) cannot let a removed member post.
async fn the_send_path_cache_never_outlives_a_change(app: TestApp) {
    let (owner, _) = app.user("cacheowner").await;
    let (member, member_id) = app.user("cachemember").await;
    let room = app.group(&owner, "Cached").await;
    app.add(&owner, &room, &member_id).await;
    let r = format!("/api/v1/rooms/{room}");
    let msgs = format!("{r}/messages");
    let send = |c: &str| json!({"client_id": c, "body": format!("body {c}")});
    let status = |resp: Resp| resp.status;
    app.say(&member, &room, "warm the cache").await;
    let state = &app._server.state;
    let ids = |room: &str, user: &str| {
        (
            justus_core::RoomId(room.parse().unwrap()),
            justus_core::UserId(user.parse().unwrap()),
        )
    };
    let (room_id, user_id) = ids(&room, &member_id);
    assert!(state.post_access.get(room_id, user_id).is_some(), "cached");

    app.patch(&r, Some(&owner), json!({"only_admins_post": true}))
        .await;
    assert_eq!(
        status(app.post(&msgs, Some(&member), send("c1")).await),
        StatusCode::FORBIDDEN
    );
    app.patch(&r, Some(&owner), json!({"only_admins_post": false}))
        .await;
    assert_eq!(
        status(app.post(&msgs, Some(&member), send("c2")).await),
        StatusCode::CREATED
    );

    let kick = app
        .delete(&format!("{r}/members/{member_id}"), Some(&owner))
        .await;
    assert!(kick.status.is_success(), "{}", kick.text);
    assert_eq!(
        status(app.post(&msgs, Some(&member), send("c3")).await),
        StatusCode::NOT_FOUND
    );

    // Back in, cached again; then removed behind the cache's back.
    app.add(&owner, &room, &member_id).await;
    assert_eq!(
        status(app.post(&msgs, Some(&member), send("c4")).await),
        StatusCode::CREATED
    );
    assert!(state.post_access.get(room_id, user_id).is_some());
    state
        .store
        .remove_member(room_id, user_id, user_id, None, chrono::Utc::now())
        .await
        .expect("removed without publishing");
    assert!(
        state.post_access.get(room_id, user_id).is_some(),
        "still cached"
    );
    assert_eq!(
        status(app.post(&msgs, Some(&member), send("c5")).await),
        StatusCode::NOT_FOUND
    );
    let history = app.get(&format!("{msgs}?limit=100"), Some(&owner)).await;
    let bodies: Vec<&str> = history.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(
        bodies.contains(&"body c4") && !bodies.contains(&"body c5"),
        "{bodies:?}"
    );
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Outsider,
    Member,
    Admin,
    Owner,
    Banned,
}

const ALL: [Who; 5] = [
    Who::Outsider,
    Who::Member,
    Who::Admin,
    Who::Owner,
    Who::Banned,
];

async fn authorization_matrix(app: TestApp) {
    let (owner, _) = app.user("owner").await;
    let (admin, admin_id) = app.user("admin").await;
    let (member, member_id) = app.user("member").await;
    let (outsider, _) = app.user("outsider").await;
    let (banned, banned_id) = app.user("banned").await;
    let room = app.group(&owner, "Matrix").await;
    for id in [&admin_id, &member_id, &banned_id] {
        app.add(&owner, &room, id).await;
    }
    assert_eq!(
        app.patch(
            &format!("/api/v1/rooms/{room}/members/{admin_id}"),
            Some(&owner),
            json!({"role": "admin"})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let banned_msg = app.say(&banned, &room, "before the ban").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/rooms/{room}/bans"),
            Some(&owner),
            json!({"user_id": banned_id})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let token = |w: Who| match w {
        Who::Outsider => outsider.clone(),
        Who::Member => member.clone(),
        Who::Admin => admin.clone(),
        Who::Owner => owner.clone(),
        Who::Banned => banned.clone(),
    };
    let owner_msg = app.say(&owner, &room, "owner's message").await;
    let mid = owner_msg["id"].as_str().unwrap().to_owned();
    let r = format!("/api/v1/rooms/{room}");
    let n = 404u16;
    let mut counter = 0;

    // (method, path, body, expected for [outsider, member, admin, owner, banned])
    let table: Vec<(Method, String, Option<Value>, [u16; 5])> = vec![
        (Method::GET, r.clone(), None, [n, 200, 200, 200, n]),
        (
            Method::GET,
            format!("{r}/messages"),
            None,
            [n, 200, 200, 200, n],
        ),
        (
            Method::GET,
            format!("{r}/events?after=0"),
            None,
            [n, 200, 200, 200, n],
        ),
        (
            Method::GET,
            format!("{r}/members"),
            None,
            [n, 200, 200, 200, n],
        ),
        (
            Method::GET,
            format!("{r}/pins"),
            None,
            [n, 200, 200, 200, n],
        ),
        (
            Method::GET,
            format!("{r}/messages/{mid}/history"),
            None,
            [n, 200, 200, 200, n],
        ),
        (
            Method::GET,
            format!("/api/v1/search?q=owner&room={room}"),
            None,
            [n, 200, 200, 200, n],
        ),
        (
            Method::POST,
            format!("{r}/read"),
            Some(json!({"seq": 1})),
            [n, 200, 200, 200, n],
        ),
        (
            Method::POST,
            format!("{r}/messages"),
            Some(json!({"body": "hi"})),
            [n, 201, 201, 201, n],
        ),
        (
            Method::PUT,
            format!("{r}/messages/{mid}/reactions/%F0%9F%91%8D"),
            None,
            [n, 204, 204, 204, n],
        ),
        (
            Method::PATCH,
            format!("{r}/messages/{mid}"),
            Some(json!({"body": "edited"})),
            [n, 403, 403, 200, n],
        ),
        (
            Method::PATCH,
            r.clone(),
            Some(json!({"topic": "t"})),
            [n, 403, 200, 200, n],
        ),
        (
            Method::GET,
            format!("{r}/bans"),
            None,
            [n, 403, 200, 200, n],
        ),
        (
            Method::POST,
            format!("{r}/invites"),
            Some(json!({})),
            [n, 403, 201, 201, n],
        ),
        (
            Method::PUT,
            format!("{r}/messages/{mid}/pin"),
            None,
            [n, 403, 204, 204, n],
        ),
        (
            Method::DELETE,
            format!("{r}/messages/{mid}/pin"),
            None,
            [n, 403, 204, 204, n],
        ),
        (
            Method::DELETE,
            format!("{r}/bans/{banned_id}"),
            None,
            [n, 403, 204, 404, n],
        ),
        (Method::DELETE, r.clone(), None, [n, 403, 403, 0, n]),
    ];
    for (method, path, body, expected) in table {
        for (i, who) in ALL.iter().enumerate() {
            if expected[i] == 0 {
                continue;
            }
            let body = body.clone().map(|mut b| {
                if b.get("body").is_some() && method == Method::POST {
                    counter += 1;
                    b["client_id"] = json!(format!("m-{counter}"));
                }
                b
            });
            let res = app
                .send(method.clone(), &path, Some(&token(*who)), body, &[])
                .await;
            assert_eq!(
                res.status.as_u16(),
                expected[i],
                "{who:?} {method} {path}: {}",
                res.text
            );
        }
    }

    // Acting on other members: fresh targets for each allowed attempt.
    for who in ALL {
        let (_, target) = app.user(&format!("target{}", who as u8)).await;
        app.add(&owner, &room, &target).await;
        let add_path = format!("{r}/members");
        let (_, newbie) = app.user(&format!("newbie{}", who as u8)).await;
        let add = app
            .post(&add_path, Some(&token(who)), json!({"user_id": newbie}))
            .await
            .status
            .as_u16();
        let kick = app
            .delete(&format!("{r}/members/{target}"), Some(&token(who)))
            .await
            .status
            .as_u16();
        let (exp_add, exp_kick) = match who {
            Who::Outsider | Who::Banned => (404, 404),
            Who::Member => (403, 403),
            Who::Admin | Who::Owner => (201, 204),
        };
        assert_eq!((add, kick), (exp_add, exp_kick), "{who:?} add/kick");
        let role = app
            .patch(
                &format!("{r}/members/{newbie}"),
                Some(&token(who)),
                json!({"role": "admin"}),
            )
            .await
            .status
            .as_u16();
        let exp_role = match who {
            Who::Outsider | Who::Banned => 404,
            Who::Member | Who::Admin => 403,
            Who::Owner => 204,
        };
        if add == 201 || who == Who::Owner {
            assert_eq!(role, exp_role, "{who:?} role change");
        }
    }
    // Deleting others' messages: admins and the owner may, members may not.
    let (poster, poster_id) = app.user("poster").await;
    app.add(&owner, &room, &poster_id).await;
    for (who, expected) in [
        (Who::Member, 403),
        (Who::Admin, 204),
        (Who::Owner, 204),
        (Who::Outsider, 404),
        (Who::Banned, 404),
    ] {
        let m = app.say(&poster, &room, "someone's words").await;
        let res = app
            .delete(
                &format!("{r}/messages/{}", m["id"].as_str().unwrap()),
                Some(&token(who)),
            )
            .await;
        assert_eq!(
            res.status.as_u16(),
            expected,
            "{who:?} delete others' message"
        );
    }
    // Admins cannot act on the owner or on each other.
    let (_, admin2) = app.user("admin2").await;
    app.add(&owner, &room, &admin2).await;
    app.patch(
        &format!("{r}/members/{admin2}"),
        Some(&owner),
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(
        app.delete(&format!("{r}/members/{admin2}"), Some(&admin))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            &format!("{r}/bans"),
            Some(&admin),
            json!({"user_id": admin2})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Only admins post in an announcement room.
    app.patch(&r, Some(&owner), json!({"only_admins_post": true}))
        .await;
    let msgs = format!("{r}/messages");
    let announce = |c: &str| json!({"client_id": c, "body": "announce"});
    assert_eq!(
        app.post(&msgs, Some(&member), announce("ann-1"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&msgs, Some(&admin), announce("ann-2"))
            .await
            .status,
        StatusCode::CREATED
    );
    // A banned user's earlier message is still there but they cannot touch it.
    let res = app
        .delete(
            &format!("{r}/messages/{}", banned_msg["id"].as_str().unwrap()),
            Some(&banned),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Cross-room references: forwarding from a room the caller is not in.
    let other = app.group(&outsider, "Elsewhere").await;
    let secret = app.say(&outsider, &other, "not for you").await;
    let fwd = app
        .post(&format!("{r}/messages"), Some(&admin), json!({"client_id": "fwd", "forward_from": {"room_id": other, "message_id": secret["id"]}}))
        .await;
    assert_eq!(
        fwd.status,
        StatusCode::NOT_FOUND,
        "cannot forward from a room you are not in"
    );
    let own_fwd = app
        .post(&format!("/api/v1/rooms/{other}/messages"), Some(&outsider), json!({"client_id": "fwd2", "forward_from": {"room_id": other, "message_id": secret["id"]}}))
        .await;
    assert_eq!(own_fwd.status, StatusCode::CREATED, "{}", own_fwd.text);
    assert_eq!(own_fwd.body["body"], "not for you");
    assert!(own_fwd.body["forwarded"]["sender_id"].is_string());
    // The owner deletes the room: it is gone for everyone.
    assert_eq!(
        app.delete(&r, Some(&owner)).await.status,
        StatusCode::NO_CONTENT
    );
    for who in [Who::Owner, Who::Admin, Who::Member] {
        assert_eq!(
            app.get(&r, Some(&token(who))).await.status,
            StatusCode::NOT_FOUND
        );
    }

    // Blocked: in a DM, the blocked user can read but not write, and cannot open a new DM.
    let (blocker, blocker_id) = app.user("blocker").await;
    let (blocked, blocked_id) = app.user("blockee").await;
    let dm = app
        .post(
            "/api/v1/dms",
            Some(&blocker),
            json!({"user_id": blocked_id}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.put(&format!("/api/v1/users/{blocked_id}/block"), Some(&blocker))
        .await;
    assert_eq!(
        app.get(&format!("/api/v1/rooms/{dm}/messages"), Some(&blocked))
            .await
            .status,
        StatusCode::OK
    );
    let w = app
        .post(
            &format!("/api/v1/rooms/{dm}/messages"),
            Some(&blocked),
            json!({"client_id": "b1", "body": "hi"}),
        )
        .await;
    assert_eq!((w.status, w.code()), (StatusCode::FORBIDDEN, "blocked"));
    let (third, third_id) = app.user("third").await;
    app.put(&format!("/api/v1/users/{blocker_id}/block"), Some(&third))
        .await;
    let open = app
        .post("/api/v1/dms", Some(&blocker), json!({"user_id": third_id}))
        .await;
    assert_eq!(
        (open.status, open.code()),
        (StatusCode::FORBIDDEN, "blocked")
    );
    let _ = third;
    // Nobody manages a DM.
    assert_eq!(
        app.post(
            &format!("/api/v1/rooms/{dm}/invites"),
            Some(&blocker),
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&format!("/api/v1/rooms/{dm}"), Some(&blocker))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
