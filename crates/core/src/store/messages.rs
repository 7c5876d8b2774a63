//! The messages of a room: sending, editing, deleting, reactions and pins.

use crate::error::StoreResult;
use crate::event::RoomEvent;
use crate::ids::{MessageId, RoomId, UserId};
use crate::message::{Message, NewMessage, Page};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
#[allow(clippy::too_many_arguments)] // the port mirrors its operations' inputs one to one
pub trait Messages: Send + Sync {
    /// Persists a message with the room's next seq and its `message.created` event, in one
    /// transaction, or — when (sender, client_id) already exists — returns that message
    /// untouched as `SendOutcome::Existing` (the caller decides whether it is a retry or a
    /// conflicting reuse). `NotFound` if the sender is not a member of the live room (re-checked
    /// inside the transaction), or `reply_to` is not a live message of the same room.
    /// `new.attachments` are linked to the message (in order) and marked attached.
    async fn send_message(&self, new: &NewMessage) -> StoreResult<SendOutcome>;
    /// Whether sends commit in the order their `send_message` futures were first polled (one
    /// writer queue, as SQLite's): then a socket may submit its next send before the previous
    /// one commits without their seqs swapping. `false` (PostgreSQL's pool of connections):
    /// each send waits for the previous one.
    fn commits_sends_in_order(&self) -> bool {
        false
    }
    /// Whether `sender` already sent a message with `client_id` (a retry, which a rate limit
    /// such as slow mode must not refuse).
    async fn client_id_used(&self, sender: UserId, client_id: &str) -> StoreResult<bool>;
    /// A message of `room` (tombstones included); `NotFound` if it is in another room.
    async fn message(&self, room: RoomId, id: MessageId) -> StoreResult<Message>;
    /// A page of messages (tombstones included), returned in ascending seq order.
    async fn messages(&self, room: RoomId, page: Page, limit: u32) -> StoreResult<Vec<Message>>;
    /// Replaces the body (keeping the previous one in the edit history), sets `edited_at`,
    /// replaces mentions; records `message.edited`. `NotFound` for a deleted or foreign message.
    async fn edit_message(
        &self,
        room: RoomId,
        id: MessageId,
        body: &str,
        mentions: &[UserId],
        mentions_room: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, RoomEvent)>;
    /// Previous bodies of a message, oldest first, with the time each was replaced.
    async fn edit_history(
        &self,
        room: RoomId,
        id: MessageId,
    ) -> StoreResult<Vec<(String, DateTime<Utc>)>>;
    /// Tombstones a message (body emptied, edit history, reactions, mentions and pin removed);
    /// records `message.deleted` (audited with `reason` when the actor is not the sender).
    /// `NotFound` if already deleted or foreign.
    async fn delete_message(
        &self,
        room: RoomId,
        id: MessageId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// Adds (`add`) or removes a reaction; `Ok(None)` when nothing changed (idempotent).
    /// `NotFound` for a deleted or foreign message.
    async fn set_reaction(
        &self,
        room: RoomId,
        id: MessageId,
        user: UserId,
        emoji: &str,
        add: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>>;
    /// Pins or unpins; `Ok(None)` when nothing changed; `Conflict("too_many_pins")` past
    /// [`crate::message::MAX_PINS`]. `NotFound` for a deleted or foreign message.
    async fn set_pinned(
        &self,
        room: RoomId,
        id: MessageId,
        pinned: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>>;
    /// Pinned messages, most recently created first.
    async fn pinned(&self, room: RoomId) -> StoreResult<Vec<Message>>;
}

/// Result of [`Messages::send_message`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // short-lived return value; boxing would cost an allocation per send
pub enum SendOutcome {
    Created(Message, RoomEvent),
    Existing(Message),
}
