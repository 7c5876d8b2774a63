// Over 600 lines: the 20 methods of `Rooms`, a transaction each, and the lock-ordered join helpers.
//! Rooms, membership, bans and invites.
//!
//! Every history change takes the room's row lock first (through [`next_seq`], or the same
//! `FOR NO KEY UPDATE` lock where checks must precede the seq), so a room's writers are
//! serialised and nothing else is. `accept_invite` locks its invite before the room; no path
//! locks them the other way round.

use crate::PgStore;
use crate::errors::MapErr;
use crate::history::{Tx, abort, event, fill, member_event, next_seq, record, record_because};
use crate::rows::{InviteRow, MemberRow, MessageRow, RoomMemberRow, RoomRow, dm_key};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::room::{
    Invitation, Invite, Member, NewGroup, Role, Room, RoomPatch, RoomSummary, UNREAD_CAP,
    check_ownership_transfer,
};
use justus_core::store::Rooms;
use justus_core::{RoomId, StoreError, StoreResult, UserId};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

// --- rooms ------------------------------------------------------------------------------------

async fn insert_member(
    conn: &mut PgConnection,
    room: RoomId,
    user: UserId,
    role: Role,
    now: DateTime<Utc>,
    read_seq: i64,
) -> StoreResult<Member> {
    let row: MemberRow = sqlx::query_as(concat!(
        "INSERT INTO room_members AS m (room_id, user_id, role, joined_at, read_seq) ",
        "VALUES ($1, $2, $3, $4, $5) RETURNING ",
        member_columns!()
    ))
    .bind(room.as_uuid())
    .bind(user.as_uuid())
    .bind(role.as_str())
    .bind(now)
    .bind(read_seq)
    .fetch_one(conn)
    .await
    .store()?;
    row.try_into()
}

fn joined_event(
    room: RoomId,
    seq: i64,
    actor: UserId,
    user: UserId,
    role: Role,
    now: DateTime<Utc>,
) -> RoomEvent {
    let mut ev = member_event(room, seq, EventKind::MemberJoined, actor, user, now);
    ev.role = Some(role);
    ev
}

/// The live DM with this key, if any.
async fn dm_by_key(pool: &PgPool, key: &str) -> StoreResult<Option<RoomRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        room_columns!(),
        " FROM rooms r WHERE r.dm_key = $1 AND r.deleted_at IS NULL"
    ))
    .bind(key)
    .fetch_optional(pool)
    .await
    .store()
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    room: RoomRow,
    my_role: String,
    read_seq: i64,
    unread: i64,
    mentions: i64,
    last_message_id: Option<Uuid>,
}

// --- membership -------------------------------------------------------------------------------

/// First half of a join: locks the live room and checks `user` is not a member yet. Returns the
/// room's member count.
async fn lock_for_join(tx: &mut Tx, room: RoomId, user: UserId) -> StoreResult<i64> {
    let count: Option<i64> = sqlx::query_scalar(
        "SELECT member_count FROM rooms WHERE id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE",
    )
    .bind(room.as_uuid())
    .fetch_optional(&mut **tx)
    .await
    .store()?;
    let count = count.ok_or(StoreError::NotFound)?;
    let is_member: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(room.as_uuid())
    .bind(user.as_uuid())
    .fetch_one(&mut **tx)
    .await
    .store()?;
    if is_member {
        return Err(StoreError::Conflict("member"));
    }
    Ok(count)
}

/// Second half of a join (room locked by [`lock_for_join`]): checks bans and capacity, then
/// adds the member with their `member.joined` event; the read marker starts at that event.
#[allow(clippy::too_many_arguments)]
async fn finish_join(
    tx: &mut Tx,
    room: RoomId,
    user: UserId,
    role: Role,
    actor: UserId,
    member_count: i64,
    max_members: u32,
    now: DateTime<Utc>,
) -> StoreResult<(Member, RoomEvent)> {
    let banned: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM room_bans WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(room.as_uuid())
    .bind(user.as_uuid())
    .fetch_one(&mut **tx)
    .await
    .store()?;
    if banned {
        return Err(StoreError::Conflict("banned"));
    }
    if member_count >= i64::from(max_members) {
        return Err(StoreError::Conflict("room_full"));
    }
    let seq: i64 = sqlx::query_scalar(
        "UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = $2, \
         member_count = member_count + 1 WHERE id = $1 RETURNING last_seq",
    )
    .bind(room.as_uuid())
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .store()?;
    let member = insert_member(tx, room, user, role, now, seq).await?;
    let ev = joined_event(room, seq, actor, user, role, now);
    record(tx, &ev).await?;
    Ok((member, ev))
}

/// Whether `user` was a member (and now has `role`).
async fn update_role(
    conn: &mut PgConnection,
    room: RoomId,
    user: UserId,
    role: Role,
) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE room_members SET role = $3 WHERE room_id = $1 AND user_id = $2")
        .bind(room.as_uuid())
        .bind(user.as_uuid())
        .bind(role.as_str())
        .execute(conn)
        .await
        .store()?;
    Ok(done.rows_affected() > 0)
}

/// Removes `user` from the locked room; whether they were a member.
async fn delete_member(conn: &mut PgConnection, room: RoomId, user: UserId) -> StoreResult<bool> {
    let removed = sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
        .bind(room.as_uuid())
        .bind(user.as_uuid())
        .execute(&mut *conn)
        .await
        .store()?
        .rows_affected()
        > 0;
    if removed {
        sqlx::query("UPDATE rooms SET member_count = member_count - 1 WHERE id = $1")
            .bind(room.as_uuid())
            .execute(conn)
            .await
            .store()?;
    }
    Ok(removed)
}

// --- invites ----------------------------------------------------------------------------------

#[async_trait]
impl Rooms for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_group", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "create_group"))]
    async fn create_group(&self, new: &NewGroup) -> StoreResult<(Room, RoomEvent)> {
        let mut tx = self.pool.begin().await.store()?;
        let room: RoomRow = sqlx::query_as(concat!(
            "INSERT INTO rooms AS r (id, kind, name, topic, created_by, created_at, last_seq, ",
            "last_activity_at, member_count) VALUES ($1, 'group', $2, $3, $4, $5, 1, $5, 1) RETURNING ",
            room_columns!()
        ))
        .bind(new.id.as_uuid())
        .bind(&new.name)
        .bind(new.topic.as_deref())
        .bind(new.owner.as_uuid())
        .bind(new.now)
        .fetch_one(&mut *tx)
        .await
        .store()?;
        insert_member(&mut tx, new.id, new.owner, Role::Owner, new.now, 1).await?;
        let ev = joined_event(new.id, 1, new.owner, new.owner, Role::Owner, new.now);
        record(&mut tx, &ev).await?;
        tx.commit().await.store()?;
        Ok((room.try_into()?, ev))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "open_dm", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "open_dm"))]
    async fn open_dm(
        &self,
        id: RoomId,
        a: UserId,
        b: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, bool, Vec<RoomEvent>)> {
        let key = dm_key(a, b);
        if let Some(room) = dm_by_key(&self.pool, &key).await? {
            return Ok((room.try_into()?, false, Vec::new()));
        }
        // `a` opens the DM: their join is seq 1, the peer's seq 2, and each read marker starts at
        // its own join event. A DM with oneself (as the SQLite store allows) has one member.
        let participants: &[UserId] = if a == b { &[a] } else { &[a, b] };
        let count = participants.len() as i64;
        let mut tx = self.pool.begin().await.store()?;
        // A concurrent open of the same pair makes this wait for the other transaction; if that
        // commits, ours inserts nothing and the room is re-read below.
        let created: Option<RoomRow> = sqlx::query_as(concat!(
            "INSERT INTO rooms AS r (id, kind, created_by, created_at, last_seq, last_activity_at, ",
            "member_count, dm_key) VALUES ($1, 'dm', $2, $3, $4, $3, $4, $5) ",
            "ON CONFLICT (dm_key) DO NOTHING RETURNING ",
            room_columns!()
        ))
        .bind(id.as_uuid())
        .bind(a.as_uuid())
        .bind(now)
        .bind(count)
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await
        .store()?;
        let Some(room) = created else {
            tx.rollback().await.store()?;
            // Only a delete racing this call can make the DM vanish in between: worth a retry.
            let room = dm_by_key(&self.pool, &key)
                .await?
                .ok_or_else(|| StoreError::Unavailable("DM deleted while opening it".into()))?;
            return Ok((room.try_into()?, false, Vec::new()));
        };
        let mut events = Vec::with_capacity(participants.len());
        for (seq, &user) in (1..).zip(participants) {
            insert_member(&mut tx, id, user, Role::Member, now, seq).await?;
            let ev = joined_event(id, seq, a, user, Role::Member, now);
            record(&mut tx, &ev).await?;
            events.push(ev);
        }
        tx.commit().await.store()?;
        Ok((room.try_into()?, true, events))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "room", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "room"))]
    async fn room(&self, id: RoomId) -> StoreResult<Room> {
        let row: Option<RoomRow> = sqlx::query_as(concat!(
            "SELECT ",
            room_columns!(),
            " FROM rooms r WHERE r.id = $1 AND r.deleted_at IS NULL"
        ))
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .store()?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "update_room", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "update_room"))]
    async fn update_room(
        &self,
        id: RoomId,
        patch: &RoomPatch,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, Option<RoomEvent>)> {
        let changes = patch.changes();
        let mut tx = self.pool.begin().await.store()?;
        // One statement takes the row lock (serialising the seq) and applies every column; the
        // seq moves only when there is something to announce.
        let row: Option<RoomRow> = sqlx::query_as(concat!(
            "UPDATE rooms AS r SET name = COALESCE($2, r.name), ",
            "topic = CASE WHEN $3 THEN $4 ELSE r.topic END, ",
            "only_admins_post = COALESCE($5, r.only_admins_post), ",
            "avatar = CASE WHEN $7 THEN $8 ELSE r.avatar END, ",
            "retention_days = CASE WHEN $10 THEN $11 ELSE r.retention_days END, ",
            "slow_mode_seconds = COALESCE($12, r.slow_mode_seconds), ",
            "invite_role = COALESCE($13, r.invite_role), pin_role = COALESCE($14, r.pin_role), ",
            "mention_room_role = COALESCE($15, r.mention_room_role), ",
            "last_seq = r.last_seq + CASE WHEN $9 THEN 1 ELSE 0 END, ",
            "last_activity_at = CASE WHEN $9 THEN $6 ELSE r.last_activity_at END ",
            "WHERE r.id = $1 AND r.deleted_at IS NULL RETURNING ",
            room_columns!()
        ))
        .bind(id.as_uuid())
        .bind(patch.name.as_deref())
        .bind(patch.topic.is_some())
        .bind(patch.topic.as_ref().and_then(|t| t.as_deref()))
        .bind(patch.only_admins_post)
        .bind(now)
        .bind(patch.avatar.is_some())
        .bind(patch.avatar.flatten().map(|a| a.0))
        .bind(changes.is_some())
        .bind(patch.retention_days.is_some())
        .bind(patch.retention_days.flatten())
        .bind(patch.slow_mode_seconds)
        .bind(patch.permissions.invite.map(Role::as_str))
        .bind(patch.permissions.pin.map(Role::as_str))
        .bind(patch.permissions.mention_room.map(Role::as_str))
        .fetch_optional(&mut *tx)
        .await
        .store()?;
        let Some(row) = row else {
            return abort(tx, StoreError::NotFound).await;
        };
        let room: Room = row.try_into()?;
        let ev = match changes {
            Some(changes) => {
                let mut ev = event(id, room.last_seq, EventKind::RoomUpdated, actor, now);
                ev.changes = Some(changes);
                record(&mut tx, &ev).await?;
                Some(ev)
            }
            None => None,
        };
        if let Some(enabled) = patch.ai_enabled {
            crate::ai::set_room_ai(&mut tx, id, enabled, actor, now).await?;
        }
        tx.commit().await.store()?;
        Ok((room, ev))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "delete_room", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "delete_room"))]
    async fn delete_room(
        &self,
        id: RoomId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        let mut tx = self.pool.begin().await.store()?;
        // The DM key is released so the pair could open a new DM.
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = $2, deleted_at = $2, \
             dm_key = NULL WHERE id = $1 AND deleted_at IS NULL RETURNING last_seq",
        )
        .bind(id.as_uuid())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .store()?;
        let Some(seq) = seq else {
            return abort(tx, StoreError::NotFound).await;
        };
        let ev = event(id, seq, EventKind::RoomDeleted, actor, now);
        record(&mut tx, &ev).await?;
        tx.commit().await.store()?;
        Ok(ev)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "rooms_for_user", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "rooms_for_user"))]
    async fn rooms_for_user(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
        let mut conn = self.pool.acquire().await.store()?;
        // Counts stop at UNREAD_CAP (count over a LIMITed subquery).
        let rows: Vec<SummaryRow> = sqlx::query_as(concat!(
            "SELECT ",
            room_columns!(),
            ", m.role AS my_role, m.read_seq, ",
            "(SELECT count(*) FROM (SELECT 1 FROM messages x WHERE x.room_id = r.id ",
            "AND x.seq > m.read_seq AND x.sender_id <> m.user_id AND x.deleted_at IS NULL ",
            "LIMIT $2) AS u) AS unread, ",
            // Mentions: `@room` messages (partial index) and the member's own mentions (the
            // (user_id, room_id, seq) index), each bounded by the read marker.
            "(SELECT count(*) FROM (SELECT x.id FROM messages x WHERE x.room_id = r.id ",
            "AND x.mentions_room AND x.seq > m.read_seq AND x.sender_id <> m.user_id ",
            "AND x.deleted_at IS NULL ",
            "UNION SELECT x.id FROM message_mentions mm JOIN messages x ON x.id = mm.message_id ",
            "WHERE mm.user_id = m.user_id AND mm.room_id = r.id AND mm.seq > m.read_seq ",
            "AND x.sender_id <> m.user_id AND x.deleted_at IS NULL LIMIT $2) AS u) AS mentions, ",
            "(SELECT x.id FROM messages x WHERE x.room_id = r.id AND x.deleted_at IS NULL ",
            "ORDER BY x.seq DESC LIMIT 1) AS last_message_id ",
            "FROM room_members m JOIN rooms r ON r.id = m.room_id ",
            "WHERE m.user_id = $1 AND r.deleted_at IS NULL ",
            "ORDER BY r.last_activity_at DESC, r.id DESC"
        ))
        .bind(user.as_uuid())
        .bind(UNREAD_CAP)
        .fetch_all(&mut *conn)
        .await
        .store()?;
        let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.last_message_id).collect();
        let mut last: HashMap<Uuid, _> = if ids.is_empty() {
            HashMap::new()
        } else {
            let msgs: Vec<MessageRow> = sqlx::query_as(concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages msg WHERE msg.id = ANY($1)"
            ))
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await
            .store()?;
            fill(&mut conn, msgs)
                .await?
                .into_iter()
                .map(|m| (m.id.as_uuid(), m))
                .collect()
        };
        rows.into_iter()
            .map(|r| {
                let dm_peer = r.room.dm_peer(user);
                let room: Room = r.room.try_into()?;
                Ok(RoomSummary {
                    dm_peer: if room.kind == justus_core::room::RoomKind::Dm {
                        dm_peer
                    } else {
                        None
                    },
                    room,
                    my_role: crate::rows::parse_role(&r.my_role)?,
                    read_seq: r.read_seq,
                    unread: r.unread,
                    mentions: r.mentions,
                    last_message: r.last_message_id.and_then(|id| last.remove(&id)),
                })
            })
            .collect()
    }

    // --- membership --------------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "member", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "member"))]
    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        let row: Option<MemberRow> = sqlx::query_as(concat!(
            "SELECT ",
            member_columns!(),
            " FROM room_members m JOIN rooms r ON r.id = m.room_id ",
            "WHERE m.room_id = $1 AND m.user_id = $2 AND r.deleted_at IS NULL"
        ))
        .bind(room.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .store()?;
        row.map(Member::try_from).transpose()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "members_named", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "members_named"))]
    async fn members_named(&self, room: RoomId, usernames: &[String]) -> StoreResult<Vec<UserId>> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT u.id FROM users u JOIN room_members m ON m.user_id = u.id \
             WHERE m.room_id = $1 AND u.username = ANY($2)",
        )
        .bind(room.as_uuid())
        .bind(usernames)
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// The room and `user`'s membership in one round trip (every room-scoped request needs both).
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "room_and_member", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "room_and_member"))]
    async fn room_and_member(
        &self,
        room: RoomId,
        user: UserId,
    ) -> StoreResult<(Room, Option<Member>)> {
        let row: Option<RoomMemberRow> = sqlx::query_as(concat!(
            "SELECT ",
            room_columns!(),
            ", m.user_id, m.role, m.joined_at, m.read_seq, m.muted_until FROM rooms r ",
            "LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $2 ",
            "WHERE r.id = $1 AND r.deleted_at IS NULL"
        ))
        .bind(room.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .store()?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "members", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "members"))]
    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        let rows: Vec<MemberRow> = sqlx::query_as(concat!(
            "SELECT ",
            member_columns!(),
            " FROM room_members m JOIN rooms r ON r.id = m.room_id ",
            "WHERE m.room_id = $1 AND r.deleted_at IS NULL ",
            "ORDER BY m.role = 'owner' DESC, m.joined_at, m.read_seq, m.user_id"
        ))
        .bind(room.as_uuid())
        .fetch_all(&self.pool)
        .await
        .store()?;
        rows.into_iter().map(Member::try_from).collect()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "add_member", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "add_member"))]
    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        let mut tx = self.pool.begin().await.store()?;
        let joined = match lock_for_join(&mut tx, room, user).await {
            Ok(count) => {
                finish_join(&mut tx, room, user, role, actor, count, max_members, now).await
            }
            Err(e) => Err(e),
        };
        match joined {
            Ok(out) => {
                tx.commit().await.store()?;
                Ok(out)
            }
            Err(e) => abort(tx, e).await,
        }
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_role", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_role"))]
    async fn set_role(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        let mut tx = self.pool.begin().await.store()?;
        let seq = next_seq(&mut tx, room, now).await?;
        if !update_role(&mut tx, room, user, role).await? {
            return abort(tx, StoreError::NotFound).await;
        }
        let mut ev = member_event(room, seq, EventKind::MemberRoleChanged, actor, user, now);
        ev.role = Some(role);
        record(&mut tx, &ev).await?;
        tx.commit().await.store()?;
        Ok(ev)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "transfer_ownership", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "transfer_ownership"))]
    async fn transfer_ownership(
        &self,
        room: RoomId,
        from: UserId,
        to: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RoomEvent>> {
        check_ownership_transfer(from, to)?;
        let mut tx = self.pool.begin().await.store()?;
        let mut events = Vec::with_capacity(2);
        for (user, role) in [(to, Role::Owner), (from, Role::Admin)] {
            let seq = next_seq(&mut tx, room, now).await?;
            if !update_role(&mut tx, room, user, role).await? {
                return abort(tx, StoreError::NotFound).await;
            }
            let mut ev = member_event(room, seq, EventKind::MemberRoleChanged, from, user, now);
            ev.role = Some(role);
            record(&mut tx, &ev).await?;
            events.push(ev);
        }
        tx.commit().await.store()?;
        Ok(events)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "remove_member", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "remove_member"))]
    async fn remove_member(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        let mut tx = self.pool.begin().await.store()?;
        let seq = next_seq(&mut tx, room, now).await?;
        if !delete_member(&mut tx, room, user).await? {
            return abort(tx, StoreError::NotFound).await;
        }
        let kind = if actor == user {
            EventKind::MemberLeft
        } else {
            EventKind::MemberKicked
        };
        let ev = member_event(room, seq, kind, actor, user, now);
        record_because(&mut tx, &ev, reason.as_deref()).await?;
        tx.commit().await.store()?;
        Ok(ev)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "ban", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "ban"))]
    async fn ban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        let mut tx = self.pool.begin().await.store()?;
        let seq = next_seq(&mut tx, room, now).await?;
        delete_member(&mut tx, room, user).await?;
        sqlx::query(
            "INSERT INTO room_bans (room_id, user_id, banned_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(room.as_uuid())
        .bind(user.as_uuid())
        .bind(actor.as_uuid())
        .bind(now)
        .execute(&mut *tx)
        .await
        .store()?;
        let ev = member_event(room, seq, EventKind::MemberBanned, actor, user, now);
        record_because(&mut tx, &ev, reason.as_deref()).await?;
        tx.commit().await.store()?;
        Ok(ev)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "unban", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "unban"))]
    async fn unban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.store()?;
        let done = sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2")
            .bind(room.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .store()?;
        if done.rows_affected() == 0 {
            return abort(tx, StoreError::NotFound).await;
        }
        crate::audit::insert(
            &mut tx,
            &justus_core::audit::unbanned(room, user, actor, reason, now),
        )
        .await?;
        tx.commit().await.store()?;
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "mute", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "mute"))]
    async fn mute(
        &self,
        room: RoomId,
        user: UserId,
        until: Option<DateTime<Utc>>,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        let mut tx = self.pool.begin().await.store()?;
        let seq = next_seq(&mut tx, room, now).await?;
        let done = sqlx::query(
            "UPDATE room_members SET muted_until = $3 WHERE room_id = $1 AND user_id = $2",
        )
        .bind(room.as_uuid())
        .bind(user.as_uuid())
        .bind(until)
        .execute(&mut *tx)
        .await
        .store()?;
        if done.rows_affected() == 0 {
            return abort(tx, StoreError::NotFound).await;
        }
        let kind = if until.is_some() {
            EventKind::MemberMuted
        } else {
            EventKind::MemberUnmuted
        };
        let mut ev = member_event(room, seq, kind, actor, user, now);
        ev.muted_until = until;
        record_because(&mut tx, &ev, reason.as_deref()).await?;
        tx.commit().await.store()?;
        Ok(ev)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "bans", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "bans"))]
    async fn bans(&self, room: RoomId) -> StoreResult<Vec<UserId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM room_bans WHERE room_id = $1 ORDER BY created_at, user_id",
        )
        .bind(room.as_uuid())
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "is_banned", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "is_banned"))]
    async fn is_banned(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM room_bans WHERE room_id = $1 AND user_id = $2)",
        )
        .bind(room.as_uuid())
        .bind(user.as_uuid())
        .fetch_one(&self.pool)
        .await
        .store()
    }

    // --- invites -----------------------------------------------------------------------------

    // --- invitations (consent to be added) ---------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "share_a_room", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "share_a_room"))]
    async fn share_a_room(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM room_members x JOIN room_members y ON y.room_id = x.room_id \
             JOIN rooms r ON r.id = x.room_id \
             WHERE x.user_id = $1 AND y.user_id = $2 AND r.deleted_at IS NULL)",
        )
        .bind(a.as_uuid())
        .bind(b.as_uuid())
        .fetch_one(&self.pool)
        .await
        .store()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "invite_member", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "invite_member"))]
    async fn invite_member(
        &self,
        room: RoomId,
        user: UserId,
        by: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Invitation> {
        let mut tx = self.pool.begin().await.store()?;
        let checked = async {
            // The room's lock orders this against joins, bans and deletion.
            lock_for_join(&mut tx, room, user).await?;
            let banned: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM room_bans WHERE room_id = $1 AND user_id = $2)",
            )
            .bind(room.as_uuid())
            .bind(user.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .store()?;
            if banned {
                return Err(StoreError::Conflict("banned"));
            }
            let done = sqlx::query(
                "INSERT INTO room_invitations (room_id, user_id, invited_by, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(room.as_uuid())
            .bind(user.as_uuid())
            .bind(by.as_uuid())
            .bind(now)
            .execute(&mut *tx)
            .await
            .store()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict("invited"));
            }
            Ok(())
        }
        .await;
        match checked {
            Ok(()) => {
                tx.commit().await.store()?;
                Ok(Invitation {
                    room_id: room,
                    user_id: user,
                    invited_by: by,
                    created_at: now,
                })
            }
            Err(e) => abort(tx, e).await,
        }
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "invitations", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "invitations"))]
    async fn invitations(&self, user: UserId) -> StoreResult<Vec<Invitation>> {
        let rows: Vec<(Uuid, Uuid, Uuid, DateTime<Utc>)> = sqlx::query_as(
            "SELECT i.room_id, i.user_id, i.invited_by, i.created_at FROM room_invitations i \
             JOIN rooms r ON r.id = i.room_id WHERE i.user_id = $1 AND r.deleted_at IS NULL \
             ORDER BY i.created_at DESC, i.room_id",
        )
        .bind(user.as_uuid())
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(rows
            .into_iter()
            .map(|(room, user, by, at)| Invitation {
                room_id: RoomId(room),
                user_id: UserId(user),
                invited_by: UserId(by),
                created_at: at,
            })
            .collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "accept_invitation", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "accept_invitation"))]
    async fn accept_invitation(
        &self,
        room: RoomId,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        let mut tx = self.pool.begin().await.store()?;
        let joined = async {
            // The room first, as every other path that touches its invitations does.
            sqlx::query("SELECT 1 FROM rooms WHERE id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE")
                .bind(room.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .store()?
                .ok_or(StoreError::NotFound)?;
            let by: Option<Uuid> = sqlx::query_scalar(
                "DELETE FROM room_invitations WHERE room_id = $1 AND user_id = $2 RETURNING invited_by",
            )
            .bind(room.as_uuid())
            .bind(user.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .store()?;
            let by = UserId(by.ok_or(StoreError::NotFound)?);
            let count = lock_for_join(&mut tx, room, user).await?;
            finish_join(&mut tx, room, user, Role::Member, by, count, max_members, now).await
        }
        .await;
        match joined {
            Ok(out) => {
                tx.commit().await.store()?;
                Ok(out)
            }
            Err(e) => abort(tx, e).await,
        }
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "decline_invitation", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "decline_invitation"))]
    async fn decline_invitation(&self, room: RoomId, user: UserId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM room_invitations WHERE room_id = $1 AND user_id = $2")
            .bind(room.as_uuid())
            .bind(user.as_uuid())
            .execute(&self.pool)
            .await
            .store()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_invite", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "create_invite"))]
    async fn create_invite(&self, invite: &Invite) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO invites (code, room_id, created_by, created_at, expires_at, max_uses, uses) \
             SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS \
             (SELECT 1 FROM rooms WHERE id = $2 AND deleted_at IS NULL)",
        )
        .bind(&invite.code)
        .bind(invite.room_id.as_uuid())
        .bind(invite.created_by.as_uuid())
        .bind(invite.created_at)
        .bind(invite.expires_at)
        .bind(invite.max_uses)
        .bind(invite.uses)
        .execute(&self.pool)
        .await
        .store()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "invite", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "invite"))]
    async fn invite(&self, code: &str) -> StoreResult<Invite> {
        let row: Option<InviteRow> = sqlx::query_as(concat!(
            "SELECT ",
            invite_columns!(),
            " FROM invites i JOIN rooms r ON r.id = i.room_id ",
            "WHERE i.code = $1 AND r.deleted_at IS NULL"
        ))
        .bind(code)
        .fetch_optional(&self.pool)
        .await
        .store()?;
        Ok(row.ok_or(StoreError::NotFound)?.into())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "accept_invite", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "accept_invite"))]
    async fn accept_invite(
        &self,
        code: &str,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        let mut tx = self.pool.begin().await.store()?;
        // The invite's row lock serialises its uses (so `max_uses` holds under concurrency).
        let row: Option<InviteRow> = sqlx::query_as(concat!(
            "SELECT ",
            invite_columns!(),
            " FROM invites i WHERE i.code = $1 FOR NO KEY UPDATE"
        ))
        .bind(code)
        .fetch_optional(&mut *tx)
        .await
        .store()?;
        let Some(row) = row else {
            return abort(tx, StoreError::NotFound).await;
        };
        let invite = Invite::from(row);
        let joined = async {
            // Already a member: Conflict("member"), whatever the state of the invite.
            let count = lock_for_join(&mut tx, invite.room_id, user).await?;
            if !invite.usable(now) {
                return Err(StoreError::Conflict("invite_expired"));
            }
            let out = finish_join(
                &mut tx,
                invite.room_id,
                user,
                Role::Member,
                user,
                count,
                max_members,
                now,
            )
            .await?;
            sqlx::query("UPDATE invites SET uses = uses + 1 WHERE code = $1")
                .bind(code)
                .execute(&mut *tx)
                .await
                .store()?;
            Ok(out)
        }
        .await;
        match joined {
            Ok(out) => {
                tx.commit().await.store()?;
                Ok(out)
            }
            Err(e) => abort(tx, e).await,
        }
    }
}
