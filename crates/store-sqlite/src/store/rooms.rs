// Over 600 lines: the 20 methods of `Rooms` and the join, role and membership helpers they share.
//! Rooms, membership, bans and invites. Every write runs inside one writer job, every query on
//! a reader; the helpers below take the job's connection.

use super::SqliteStore;
use super::history::{record, record_because};
use super::load;
use crate::conn::map_err;
use crate::rows::{self, INVITE_COLS, MEMBER_COLS, ROOM_COLS, ROOM_NCOLS, ts};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::room::{
    Invitation, Invite, Member, NewGroup, Role, Room, RoomKind, RoomPatch, RoomSummary, UNREAD_CAP,
    check_ownership_transfer,
};
use justus_core::store::Rooms;
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use uuid::Uuid;

/// The live room `id`.
pub(super) fn room(c: &Connection, id: RoomId) -> StoreResult<Room> {
    c.prepare_cached(&format!(
        "SELECT {ROOM_COLS} FROM rooms r WHERE r.id = ?1 AND r.deleted_at IS NULL"
    ))
    .and_then(|mut st| st.query_row([id.0], rows::room))
    .map_err(map_err)
}

#[allow(clippy::too_many_arguments)] // one per column; a struct would only rename them
fn insert_room(
    c: &Connection,
    id: RoomId,
    kind: RoomKind,
    name: Option<&str>,
    topic: Option<&str>,
    created_by: UserId,
    now: DateTime<Utc>,
    dm_key: Option<&str>,
) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO rooms (id, kind, name, topic, created_by, created_at, last_activity_at, dm_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id.0,
            kind.as_str(),
            name,
            topic,
            created_by.0,
            ts(now),
            dm_key
        ])
    })
    .map(drop)
    .map_err(map_err)
}

/// Inserts the membership and its `member.joined` event. The read marker starts at the join.
fn join(
    c: &Connection,
    room: RoomId,
    user: UserId,
    role: Role,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<(Member, RoomEvent)> {
    let ev = record(c, room, EventKind::MemberJoined, actor, now, |e| {
        e.user_id = Some(user);
        e.role = Some(role);
    })?;
    c.prepare_cached(
        "INSERT INTO room_members (room_id, user_id, role, joined_at, read_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| st.execute(params![room.0, user.0, role.as_str(), ts(now), ev.seq]))
    .map_err(map_err)?;
    adjust_member_count(c, room, 1)?;
    let member = Member {
        room_id: room,
        user_id: user,
        role,
        joined_at: now,
        read_seq: ev.seq,
        muted_until: None,
    };
    Ok((member, ev))
}

fn adjust_member_count(c: &Connection, room: RoomId, delta: i64) -> StoreResult<()> {
    c.prepare_cached("UPDATE rooms SET member_count = member_count + ?2 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![room.0, delta]))
        .map(drop)
        .map_err(map_err)
}

/// `"<smaller uuid>:<larger uuid>"`, hyphenated lower-case.
fn dm_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    format!("{}:{}", lo.0.hyphenated(), hi.0.hyphenated())
}

// --- membership ------------------------------------------------------------------------------

fn member(c: &Connection, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
    c.prepare_cached(&format!(
        "SELECT {MEMBER_COLS} FROM room_members m JOIN rooms r ON r.id = m.room_id \
         WHERE m.room_id = ?1 AND m.user_id = ?2 AND r.deleted_at IS NULL"
    ))
    .and_then(|mut st| {
        st.query_row(params![room.0, user.0], rows::member)
            .optional()
    })
    .map_err(map_err)
}

fn is_member(c: &Connection, room: RoomId, user: UserId) -> StoreResult<bool> {
    c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = ?1 AND user_id = ?2)",
    )
    .and_then(|mut st| st.query_row(params![room.0, user.0], |r| r.get(0)))
    .map_err(map_err)
}

fn is_banned(c: &Connection, room: RoomId, user: UserId) -> StoreResult<bool> {
    c.prepare_cached("SELECT EXISTS (SELECT 1 FROM room_bans WHERE room_id = ?1 AND user_id = ?2)")
        .and_then(|mut st| st.query_row(params![room.0, user.0], |r| r.get(0)))
        .map_err(map_err)
}

fn add_member(
    c: &Connection,
    room: RoomId,
    user: UserId,
    role: Role,
    actor: UserId,
    max_members: u32,
    now: DateTime<Utc>,
) -> StoreResult<(Member, RoomEvent)> {
    let count: i64 = c
        .prepare_cached("SELECT member_count FROM rooms WHERE id = ?1 AND deleted_at IS NULL")
        .and_then(|mut st| st.query_row([room.0], |r| r.get(0)))
        .map_err(map_err)?;
    if is_member(c, room, user)? {
        return Err(StoreError::Conflict("member"));
    }
    if is_banned(c, room, user)? {
        return Err(StoreError::Conflict("banned"));
    }
    if count >= i64::from(max_members) {
        return Err(StoreError::Conflict("room_full"));
    }
    join(c, room, user, role, actor, now)
}

fn update_role(c: &Connection, room: RoomId, user: UserId, role: Role) -> StoreResult<()> {
    let n = c
        .prepare_cached("UPDATE room_members SET role = ?3 WHERE room_id = ?1 AND user_id = ?2")
        .and_then(|mut st| st.execute(params![room.0, user.0, role.as_str()]))
        .map_err(map_err)?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn role_changed(
    c: &Connection,
    room: RoomId,
    user: UserId,
    role: Role,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<RoomEvent> {
    update_role(c, room, user, role)?;
    record(c, room, EventKind::MemberRoleChanged, actor, now, |e| {
        e.user_id = Some(user);
        e.role = Some(role);
    })
}

/// Deletes the membership if there is one; says whether there was.
fn drop_membership(c: &Connection, room: RoomId, user: UserId) -> StoreResult<bool> {
    let n = c
        .prepare_cached("DELETE FROM room_members WHERE room_id = ?1 AND user_id = ?2")
        .and_then(|mut st| st.execute(params![room.0, user.0]))
        .map_err(map_err)?;
    if n > 0 {
        adjust_member_count(c, room, -1)?;
    }
    Ok(n > 0)
}

// --- invites ---------------------------------------------------------------------------------

/// An invite to a live room.
fn invite(c: &Connection, code: &str) -> StoreResult<Invite> {
    c.prepare_cached(&format!(
        "SELECT {INVITE_COLS} FROM invites WHERE code = ?1 \
         AND EXISTS (SELECT 1 FROM rooms r WHERE r.id = invites.room_id AND r.deleted_at IS NULL)"
    ))
    .and_then(|mut st| st.query_row([code], rows::invite))
    .map_err(map_err)
}

#[async_trait]
impl Rooms for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_group", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "create_group"))]
    async fn create_group(&self, new: &NewGroup) -> StoreResult<(Room, RoomEvent)> {
        let new = new.clone();
        self.threads
            .write(move |c| {
                insert_room(
                    c,
                    new.id,
                    RoomKind::Group,
                    Some(&new.name),
                    new.topic.as_deref(),
                    new.owner,
                    new.now,
                    None,
                )?;
                let (_, ev) = join(c, new.id, new.owner, Role::Owner, new.owner, new.now)?;
                Ok((room(c, new.id)?, ev))
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "open_dm", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "open_dm"))]
    async fn open_dm(
        &self,
        id: RoomId,
        a: UserId,
        b: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, bool, Vec<RoomEvent>)> {
        self.threads
            .write(move |c| {
                let key = dm_key(a, b);
                let existing = c
                    .prepare_cached(&format!(
                        "SELECT {ROOM_COLS} FROM rooms r WHERE r.dm_key = ?1 AND r.deleted_at IS NULL"
                    ))
                    .and_then(|mut st| st.query_row([&key], rows::room).optional())
                    .map_err(map_err)?;
                if let Some(room) = existing {
                    return Ok((room, false, Vec::new()));
                }
                insert_room(c, id, RoomKind::Dm, None, None, a, now, Some(&key))?;
                let mut events = vec![join(c, id, a, Role::Member, a, now)?.1];
                if b != a {
                    events.push(join(c, id, b, Role::Member, a, now)?.1);
                }
                Ok((room(c, id)?, true, events))
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "room", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "room"))]
    async fn room(&self, id: RoomId) -> StoreResult<Room> {
        self.threads.read(move |c| room(c, id)).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "update_room", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "update_room"))]
    async fn update_room(
        &self,
        id: RoomId,
        patch: &RoomPatch,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, Option<RoomEvent>)> {
        let patch = patch.clone();
        self.threads
            .write(move |c| {
                // A deleted room is `NotFound` before any seq is spent or anything written.
                room(c, id)?;
                let ev = match patch.changes() {
                    Some(changes) => {
                        Some(record(c, id, EventKind::RoomUpdated, actor, now, |e| {
                            e.changes = Some(changes);
                        })?)
                    }
                    None => None,
                };
                c.prepare_cached(
                    "UPDATE rooms SET name = CASE WHEN ?2 THEN ?3 ELSE name END, \
                     topic = CASE WHEN ?4 THEN ?5 ELSE topic END, \
                     only_admins_post = coalesce(?6, only_admins_post), \
                     avatar = CASE WHEN ?7 THEN ?8 ELSE avatar END, \
                     retention_days = CASE WHEN ?9 THEN ?10 ELSE retention_days END, \
                     slow_mode_seconds = coalesce(?11, slow_mode_seconds), \
                     invite_role = coalesce(?12, invite_role), pin_role = coalesce(?13, pin_role), \
                     mention_room_role = coalesce(?14, mention_room_role) WHERE id = ?1",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        id.0,
                        patch.name.is_some(),
                        patch.name,
                        patch.topic.is_some(),
                        patch.topic.clone().flatten(),
                        patch.only_admins_post,
                        patch.avatar.is_some(),
                        patch.avatar.flatten().map(|a| a.0),
                        patch.retention_days.is_some(),
                        patch.retention_days.flatten(),
                        patch.slow_mode_seconds,
                        patch.permissions.invite.map(Role::as_str),
                        patch.permissions.pin.map(Role::as_str),
                        patch.permissions.mention_room.map(Role::as_str),
                    ])
                })
                .map_err(map_err)?;
                if let Some(enabled) = patch.ai_enabled {
                    super::ai::set_room_ai(c, id, enabled, actor, now)?;
                }
                Ok((room(c, id)?, ev))
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "delete_room", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "delete_room"))]
    async fn delete_room(
        &self,
        id: RoomId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| {
                let ev = record(c, id, EventKind::RoomDeleted, actor, now, |_| {})?;
                // Clearing the DM key lets the two users open a fresh DM later.
                c.prepare_cached("UPDATE rooms SET deleted_at = ?2, dm_key = NULL WHERE id = ?1")
                    .and_then(|mut st| st.execute(params![id.0, ts(now)]))
                    .map_err(map_err)?;
                Ok(ev)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "rooms_for_user", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "rooms_for_user"))]
    async fn rooms_for_user(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
        self.threads
            .read(move |c| {
                // Unread and mention counts stop at UNREAD_CAP: the LIMIT inside each count
                // bounds the work. Mentions go through indexes only: the user's
                // `message_mentions` rows, and the room's `@room` messages (partial index),
                // deduplicated by the UNION.
                let sql = format!(
                    "SELECT {ROOM_COLS}, m.role, m.read_seq, \
                       (SELECT count(*) FROM (SELECT 1 FROM messages x WHERE x.room_id = r.id AND x.seq > m.read_seq \
                          AND x.sender_id <> m.user_id AND x.deleted_at IS NULL LIMIT ?2)), \
                       (SELECT count(*) FROM ( \
                          SELECT mm.message_id FROM message_mentions mm JOIN messages x ON x.id = mm.message_id \
                           WHERE mm.user_id = m.user_id AND mm.room_id = r.id AND mm.seq > m.read_seq \
                             AND x.sender_id <> m.user_id AND x.deleted_at IS NULL \
                          UNION \
                          SELECT x.id FROM messages x WHERE x.room_id = r.id AND x.mentions_room <> 0 \
                             AND x.seq > m.read_seq AND x.sender_id <> m.user_id AND x.deleted_at IS NULL \
                          LIMIT ?2)), \
                       (SELECT x.id FROM messages x WHERE x.room_id = r.id AND x.deleted_at IS NULL \
                          ORDER BY x.seq DESC LIMIT 1), \
                       CASE WHEN r.kind = 'dm' THEN (SELECT o.user_id FROM room_members o \
                          WHERE o.room_id = r.id AND o.user_id <> m.user_id LIMIT 1) END \
                     FROM room_members m JOIN rooms r ON r.id = m.room_id \
                     WHERE m.user_id = ?1 AND r.deleted_at IS NULL \
                     ORDER BY r.last_activity_at DESC, r.id DESC"
                );
                struct Row {
                    summary: RoomSummary,
                    last: Option<MessageId>,
                }
                let mut st = c.prepare_cached(&sql).map_err(map_err)?;
                let rows: Vec<Row> = st
                    .query_map(params![user.0, UNREAD_CAP], |r| {
                        let role: String = r.get(ROOM_NCOLS)?;
                        Ok(Row {
                            summary: RoomSummary {
                                room: rows::room(r)?,
                                my_role: Role::parse(&role).unwrap_or(Role::Member),
                                read_seq: r.get(ROOM_NCOLS + 1)?,
                                unread: r.get(ROOM_NCOLS + 2)?,
                                mentions: r.get(ROOM_NCOLS + 3)?,
                                last_message: None,
                                dm_peer: r.get::<_, Option<Uuid>>(ROOM_NCOLS + 5)?.map(UserId),
                            },
                            last: r.get::<_, Option<Uuid>>(ROOM_NCOLS + 4)?.map(MessageId),
                        })
                    })
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)?;
                let ids: Vec<MessageId> = rows.iter().filter_map(|r| r.last).collect();
                let mut last: HashMap<MessageId, _> = if ids.is_empty() {
                    HashMap::new()
                } else {
                    load::messages_by_ids(c, &ids)?
                        .into_iter()
                        .map(|m| (m.id, m))
                        .collect()
                };
                Ok(rows
                    .into_iter()
                    .map(|mut r| {
                        r.summary.last_message = r.last.and_then(|id| last.remove(&id));
                        r.summary
                    })
                    .collect())
            })
            .await
    }

    // --- membership --------------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "member", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "member"))]
    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        self.threads.read(move |c| member(c, room, user)).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "members_named", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "members_named"))]
    async fn members_named(&self, room: RoomId, usernames: &[String]) -> StoreResult<Vec<UserId>> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        // JSON array in, one row per match: one statement whatever the number of names.
        let names = serde_json::to_string(usernames)
            .map_err(|e| StoreError::Other(format!("cannot encode usernames: {e}")))?;
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT u.id FROM users u JOIN room_members m ON m.user_id = u.id \
                         WHERE m.room_id = ?1 AND u.username IN (SELECT value FROM json_each(?2))",
                    )
                    .map_err(map_err)?;
                let ids = st
                    .query_map(params![room.0, names], |r| r.get(0))
                    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                    .map_err(map_err)?;
                Ok(ids.into_iter().map(UserId).collect())
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "room_and_member", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "room_and_member"))]
    async fn room_and_member(
        &self,
        room_id: RoomId,
        user: UserId,
    ) -> StoreResult<(Room, Option<Member>)> {
        // One reader job: a thread hand-off saved on every room-scoped request.
        self.threads
            .read(move |c| Ok((room(c, room_id)?, member(c, room_id, user)?)))
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "members", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "members"))]
    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {MEMBER_COLS} FROM room_members m JOIN rooms r ON r.id = m.room_id \
                         WHERE m.room_id = ?1 AND r.deleted_at IS NULL \
                         ORDER BY m.role = 'owner' DESC, m.joined_at, m.user_id"
                    ))
                    .map_err(map_err)?;
                st.query_map([room.0], rows::member)
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "add_member", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "add_member"))]
    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        self.threads
            .write(move |c| add_member(c, room, user, role, actor, max_members, now))
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_role", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_role"))]
    async fn set_role(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| role_changed(c, room, user, role, actor, now))
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "transfer_ownership", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "transfer_ownership"))]
    async fn transfer_ownership(
        &self,
        room: RoomId,
        from: UserId,
        to: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RoomEvent>> {
        check_ownership_transfer(from, to)?;
        self.threads
            .write(move |c| {
                let promoted = role_changed(c, room, to, Role::Owner, from, now)?;
                let demoted = role_changed(c, room, from, Role::Admin, from, now)?;
                Ok(vec![promoted, demoted])
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "remove_member", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "remove_member"))]
    async fn remove_member(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| {
                if !drop_membership(c, room, user)? {
                    return Err(StoreError::NotFound);
                }
                let kind = if actor == user {
                    EventKind::MemberLeft
                } else {
                    EventKind::MemberKicked
                };
                record_because(c, room, kind, actor, now, reason.as_deref(), |e| {
                    e.user_id = Some(user)
                })
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "ban", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "ban"))]
    async fn ban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| {
                // Recorded first: a missing or deleted room fails here, before anything
                // changes.
                let ev = record_because(
                    c,
                    room,
                    EventKind::MemberBanned,
                    actor,
                    now,
                    reason.as_deref(),
                    |e| e.user_id = Some(user),
                )?;
                drop_membership(c, room, user)?;
                c.prepare_cached(
                    "INSERT INTO room_bans (room_id, user_id, banned_by, created_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT DO NOTHING",
                )
                .and_then(|mut st| st.execute(params![room.0, user.0, actor.0, ts(now)]))
                .map_err(map_err)?;
                Ok(ev)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "unban", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "unban"))]
    async fn unban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached("DELETE FROM room_bans WHERE room_id = ?1 AND user_id = ?2")
                    .and_then(|mut st| st.execute(params![room.0, user.0]))
                    .map_err(map_err)?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                super::audit::insert(
                    c,
                    &justus_core::audit::unbanned(room, user, actor, reason, now),
                )
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "mute", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "mute"))]
    async fn mute(
        &self,
        room: RoomId,
        user: UserId,
        until: Option<DateTime<Utc>>,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE room_members SET muted_until = ?3 WHERE room_id = ?1 AND user_id = ?2",
                    )
                    .and_then(|mut st| st.execute(params![room.0, user.0, until.map(ts)]))
                    .map_err(map_err)?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                let kind = if until.is_some() {
                    EventKind::MemberMuted
                } else {
                    EventKind::MemberUnmuted
                };
                record_because(c, room, kind, actor, now, reason.as_deref(), |e| {
                    e.user_id = Some(user);
                    e.muted_until = until;
                })
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "bans", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "bans"))]
    async fn bans(&self, room: RoomId) -> StoreResult<Vec<UserId>> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT user_id FROM room_bans WHERE room_id = ?1 ORDER BY created_at, user_id",
                    )
                    .map_err(map_err)?;
                st.query_map([room.0], |r| Ok(UserId(r.get(0)?)))
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "is_banned", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "is_banned"))]
    async fn is_banned(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
        self.threads.read(move |c| is_banned(c, room, user)).await
    }

    // --- invitations (consent to be added) ---------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "share_a_room", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "share_a_room"))]
    async fn share_a_room(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.threads
            .read(move |c| {
                c.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM room_members x JOIN room_members y ON y.room_id = x.room_id \
                     JOIN rooms r ON r.id = x.room_id \
                     WHERE x.user_id = ?1 AND y.user_id = ?2 AND r.deleted_at IS NULL)",
                )
                .and_then(|mut st| st.query_row(params![a.0, b.0], |r| r.get(0)))
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "invite_member", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "invite_member"))]
    async fn invite_member(
        &self,
        room_id: RoomId,
        user: UserId,
        by: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Invitation> {
        self.threads
            .write(move |c| {
                room(c, room_id)?;
                if is_member(c, room_id, user)? {
                    return Err(StoreError::Conflict("member"));
                }
                if is_banned(c, room_id, user)? {
                    return Err(StoreError::Conflict("banned"));
                }
                let n = c
                    .prepare_cached(
                        "INSERT INTO room_invitations (room_id, user_id, invited_by, created_at) \
                         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    )
                    .and_then(|mut st| st.execute(params![room_id.0, user.0, by.0, ts(now)]))
                    .map_err(map_err)?;
                if n == 0 {
                    return Err(StoreError::Conflict("invited"));
                }
                Ok(Invitation {
                    room_id,
                    user_id: user,
                    invited_by: by,
                    created_at: now,
                })
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "invitations", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "invitations"))]
    async fn invitations(&self, user: UserId) -> StoreResult<Vec<Invitation>> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT i.room_id, i.user_id, i.invited_by, i.created_at FROM room_invitations i \
                         JOIN rooms r ON r.id = i.room_id \
                         WHERE i.user_id = ?1 AND r.deleted_at IS NULL \
                         ORDER BY i.created_at DESC, i.room_id",
                    )
                    .map_err(map_err)?;
                st.query_map([user.0], |r| {
                    Ok(Invitation {
                        room_id: RoomId(r.get(0)?),
                        user_id: UserId(r.get(1)?),
                        invited_by: UserId(r.get(2)?),
                        created_at: rows::from_ts(r.get(3)?),
                    })
                })
                .and_then(|rows| rows.collect())
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "accept_invitation", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "accept_invitation"))]
    async fn accept_invitation(
        &self,
        room_id: RoomId,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        self.threads
            .write(move |c| {
                let by: Option<Uuid> = c
                    .prepare_cached(
                        "DELETE FROM room_invitations WHERE room_id = ?1 AND user_id = ?2 RETURNING invited_by",
                    )
                    .and_then(|mut st| st.query_row(params![room_id.0, user.0], |r| r.get(0)).optional())
                    .map_err(map_err)?;
                let by = UserId(by.ok_or(StoreError::NotFound)?);
                // A failed join fails the job, so the deletion above is rolled back with it.
                add_member(c, room_id, user, Role::Member, by, max_members, now)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "decline_invitation", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "decline_invitation"))]
    async fn decline_invitation(&self, room_id: RoomId, user: UserId) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "DELETE FROM room_invitations WHERE room_id = ?1 AND user_id = ?2",
                    )
                    .and_then(|mut st| st.execute(params![room_id.0, user.0]))
                    .map_err(map_err)?;
                if n == 0 {
                    Err(StoreError::NotFound)
                } else {
                    Ok(())
                }
            })
            .await
    }

    // --- invites -----------------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_invite", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "create_invite"))]
    async fn create_invite(&self, invite: &Invite) -> StoreResult<()> {
        let invite = invite.clone();
        self.threads
            .write(move |c| {
                room(c, invite.room_id)?;
                c.prepare_cached(&format!(
                    "INSERT INTO invites ({INVITE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ))
                .and_then(|mut st| {
                    st.execute(params![
                        invite.code,
                        invite.room_id.0,
                        invite.created_by.0,
                        ts(invite.created_at),
                        invite.expires_at.map(ts),
                        invite.max_uses,
                        invite.uses,
                    ])
                })
                .map(drop)
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "invite", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "invite"))]
    async fn invite(&self, code: &str) -> StoreResult<Invite> {
        let code = code.to_owned();
        self.threads.read(move |c| invite(c, &code)).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "accept_invite", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "accept_invite"))]
    async fn accept_invite(
        &self,
        code: &str,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        let code = code.to_owned();
        self.threads
            .write(move |c| {
                let inv = invite(c, &code)?;
                if is_member(c, inv.room_id, user)? {
                    return Err(StoreError::Conflict("member"));
                }
                if !inv.usable(now) {
                    return Err(StoreError::Conflict("invite_expired"));
                }
                let joined =
                    add_member(c, inv.room_id, user, Role::Member, user, max_members, now)?;
                c.prepare_cached("UPDATE invites SET uses = uses + 1 WHERE code = ?1")
                    .and_then(|mut st| st.execute([code]))
                    .map_err(map_err)?;
                Ok(joined)
            })
            .await
    }
}
