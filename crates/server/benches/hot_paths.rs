//! Criterion micro-benchmarks of per-message hot paths: event serialisation (once per event,
//! shared by all recipients), permission checks, body validation and mention extraction, and
//! access-token verification (every REST call and every gateway auth).
//!
//! `cargo bench -p justus-server --bench hot_paths`; figures in docs/performance.md.

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::ids::{MessageId, RoomId, SessionId, UserId};
use justus_core::message::{Message, count_links, parse_body, parse_mentions, spam_fingerprint};
use justus_core::room::{Action, Role, Room, RoomKind, can};
use justus_server::auth::jwt::Keyring;
use std::hint::black_box;

fn message(body: &str) -> Message {
    Message {
        id: MessageId::new(),
        room_id: RoomId::new(),
        seq: 4242,
        sender_id: UserId::new(),
        client_id: "c-1234567890".into(),
        body: body.into(),
        reply_to: None,
        forwarded: None,
        mentions: vec![UserId::new()],
        mentions_room: false,
        pinned: false,
        reactions: vec![],
        created_at: Utc::now(),
        edited_at: None,
        deleted_at: None,
        deleted_by: None,
        attachments: vec![],
    }
}

const BODY: &str = "Hey @ada and @grace, the **release** is at https://example.org/r/42 — see `notes.md`\n\
                    > quoted line\n- item one\n- item two with _emphasis_ and @everyone";

fn serialisation(c: &mut Criterion) {
    let m = message(BODY);
    let mut ev = RoomEvent::new(
        m.room_id,
        m.seq,
        EventKind::MessageCreated,
        m.sender_id,
        m.created_at,
    );
    ev.message_id = Some(m.id);
    ev.message = Some(m);
    c.bench_function("event_frame_serialise", |b| {
        b.iter(|| justus_server::gateway::frames::frame("event", None, black_box(&ev)))
    });
}

fn permissions(c: &mut Criterion) {
    let room = Room {
        id: RoomId::new(),
        kind: RoomKind::Group,
        name: Some("Team".into()),
        topic: None,
        created_by: UserId::new(),
        created_at: Utc::now(),
        last_seq: 10,
        last_activity_at: Utc::now(),
        only_admins_post: true,
        member_count: 100,
        avatar: None,
        retention_days: None,
        slow_mode_seconds: 0,
        permissions: Default::default(),
    };
    let actions = [
        Action::Post,
        Action::Kick,
        Action::MentionRoom,
        Action::DeleteRoom,
    ];
    let roles = [Role::Member, Role::Admin, Role::Owner];
    c.bench_function("permission_check_12", |b| {
        b.iter(|| {
            let mut n = 0;
            for a in actions {
                for r in roles {
                    n += usize::from(can(black_box(&room), r, a));
                }
            }
            n
        })
    });
}

fn bodies(c: &mut Criterion) {
    c.bench_function("parse_body_markdown", |b| {
        b.iter(|| parse_body(black_box(BODY), 4000))
    });
    c.bench_function("parse_mentions", |b| {
        b.iter(|| parse_mentions(black_box(BODY)))
    });
    // The spam heuristics every send runs (chat::abuse).
    c.bench_function("count_links", |b| b.iter(|| count_links(black_box(BODY))));
    c.bench_function("spam_fingerprint", |b| {
        b.iter(|| spam_fingerprint(black_box(BODY)))
    });
    let config = <justus_server::config::Config as clap::Parser>::try_parse_from(["justus"])
        .expect("default config");
    let limits = justus_server::limits::Limits::new(&config, None);
    let users: Vec<UserId> = (0..1000).map(|_| UserId::new()).collect();
    let rooms: Vec<RoomId> = (0..10).map(|_| RoomId::new()).collect();
    let mut i = 0usize;
    c.bench_function("duplicate_text_check", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            // Distinct texts: the common case, every check records one.
            limits.duplicate_text(users[i % users.len()], rooms[i % rooms.len()], i as u64, 3)
        })
    });
}

fn tokens(c: &mut Criterion) {
    let keys = Keyring::new(
        &[b"bench-secret-bench-secret-bench-secret-01".to_vec()],
        "justus".into(),
    )
    .expect("keyring");
    let (token, _) = keys
        .issue(UserId::new(), SessionId::new(), Utc::now().timestamp())
        .expect("issue");
    c.bench_function("access_token_verify", |b| {
        b.iter(|| keys.verify(black_box(&token)).is_ok())
    });
}

criterion_group!(benches, serialisation, permissions, bodies, tokens);
criterion_main!(benches);
