//! Criterion micro-benchmarks of per-message hot paths: event serialisation (once per event,
//! shared by all recipients), permission checks, body validation and mention extraction, and
//! access-token verification (every REST call and every gateway auth).
//!
//! `cargo bench -p justus-server --bench hot_paths`; figures in docs/performance.md.

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::ids::{MessageId, RoomId, SessionId, UserId};
use justus_core::message::{Message, parse_body, parse_mentions};
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
