//! The `@ai` assistant: a bot member (username `ai`, which people cannot register: usernames
//! need three characters) that answers mentions in rooms with AI on.
//!
//! The assistant listens on the bus for `message.created` (chat knows nothing of it): the
//! listener only does a cheap text check and hands the message to a bounded channel; a worker
//! task does everything else, so a send is never delayed by AI. The reply is created
//! at once as a message (`reply_to` the question), streamed to the room as ephemeral
//! `ai.delta` gateway frames, and committed as an edit of that message when complete, so
//! history holds the final text. Failures become the reply's text, in place.

use super::AiService;
use super::features::quote;
use crate::error::Result;
use crate::state::{App, AppState};
use justus_core::StoreError;
use justus_core::ai::prompt;
use justus_core::ai::{DeltaSink, RedactionMap, redact};
use justus_core::bus::{BusMessage, BusSink, Ephemeral};
use justus_core::event::EventKind;
use justus_core::message::{Message, NewMessage, Page};
use justus_core::room::Role;
use justus_core::store::SendOutcome;
use justus_core::user::{DisplayName, NewUser, Username};
use justus_core::{MessageId, RoomId, UserId};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use tokio::sync::{OnceCell, mpsc};

pub const BOT_USERNAME: &str = "ai";
/// Placeholder body while the answer streams (bodies may not be empty).
pub const PENDING_BODY: &str = "…";
/// Mentions waiting for the worker; beyond this they are dropped (and counted).
const CHANNEL: usize = 256;

#[derive(Default)]
pub struct Assistant {
    bot: OnceCell<UserId>,
    /// Set once the worker and listener run (`start` is idempotent).
    started: OnceLock<()>,
}

/// The bot account's id, creating the account on first use.
pub async fn bot_id(app: &App) -> Result<UserId> {
    let ai = super::features::service(app)?;
    let id = ai
        .assistant
        .bot
        .get_or_try_init(|| async {
            match app.store.user_by_login(BOT_USERNAME).await {
                Ok((u, _)) => return Ok(u.id),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
            let new = NewUser {
                id: UserId::new(),
                username: Username::from_trusted(BOT_USERNAME.into()),
                display_name: DisplayName::parse("AI assistant")
                    .map_err(|e| StoreError::Other(e.message))?,
                email: None,
                // Not a PHC string: no password ever verifies, so nobody can log in as the bot.
                password_hash: "!no-login".into(),
                now: app.now(),
            };
            match app.store.create_user(&new).await {
                Ok(u) => Ok(u.id),
                // Another instance created it first.
                Err(StoreError::Conflict(_)) => app
                    .store
                    .user_by_login(BOT_USERNAME)
                    .await
                    .map(|(u, _)| u.id),
                Err(e) => Err(e),
            }
        })
        .await?;
    Ok(*id)
}

/// Starts the worker that answers mentions and attaches its listener to the bus. The worker
/// holds the app weakly and ends with it.
pub fn start(app: &AppState) {
    let Some(ai) = app.ai.as_ref() else { return };
    if ai.assistant.started.set(()).is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::channel::<Message>(CHANNEL);
    app.bus.attach(Arc::new(Listener { ai: ai.clone(), tx }));
    let weak: Weak<App> = Arc::downgrade(app);
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let Some(app) = weak.upgrade() else { break };
            tokio::spawn(async move {
                if let Err(e) = answer(&app, msg).await {
                    tracing::warn!(error = %e.message, "assistant could not answer");
                }
            });
        }
    });
}

/// Hears `message.created` on the bus. Only events committed by this process
/// (`BusMessage::Event`, not `Relayed`) count, so with several instances the one that stored
/// the question answers it, once. Never awaits: a cheap text check, then a bounded queue.
struct Listener {
    ai: Arc<AiService>,
    tx: mpsc::Sender<Message>,
}

impl BusSink for Listener {
    fn deliver(&self, msg: BusMessage) {
        let BusMessage::Event(ev) = msg else { return };
        let Some(message) = ev.message.as_ref() else {
            return;
        };
        if ev.kind != EventKind::MessageCreated
            || !prompt::mentions_ai(&message.body)
            || self.ai.assistant.bot.get() == Some(&message.sender_id)
        {
            return;
        }
        if self.tx.try_send(message.clone()).is_err() {
            metrics::counter!("ai_calls_total", "feature" => "assistant", "outcome" => "dropped")
                .increment(1);
        }
    }
}

/// Publishes streamed text as `ai.delta` frames to the room, numbered from 0.
struct GatewaySink<'a> {
    app: &'a App,
    room_id: RoomId,
    message_id: MessageId,
    next: AtomicU32,
}

impl DeltaSink for GatewaySink<'_> {
    fn delta(&self, text: &str) {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        self.app
            .bus
            .publish(BusMessage::Ephemeral(Ephemeral::AiDelta {
                room_id: self.room_id,
                message_id: self.message_id,
                index,
                delta: text.to_owned(),
            }));
    }
}

async fn answer(app: &App, asking: Message) -> Result<()> {
    let room_id = asking.room_id;
    // Nothing about a room leaves unless the room has AI on.
    if !app.store.room_ai_enabled(room_id).await? {
        return Ok(());
    }
    let ai: Arc<AiService> = super::features::service(app)?;
    let bot = bot_id(app).await?;
    if asking.sender_id == bot {
        return Ok(());
    }
    if app.store.member(room_id, bot).await?.is_none() {
        match app
            .store
            .add_member(room_id, bot, Role::Member, bot, u32::MAX, app.now())
            .await
        {
            Ok((_, ev)) => app.publish_events([ev]),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let n = prompt::context_size(&asking.body, ai.context_messages, 200);
    // "…my unread messages": what the asker had not read when asking; else the last N.
    let unread_from = if asking.body.to_lowercase().contains("unread") {
        app.store
            .member(room_id, asking.sender_id)
            .await?
            .map(|m| m.read_seq)
    } else {
        None
    };
    let context: Vec<Message> = match unread_from {
        Some(read_seq) => app
            .store
            .messages(room_id, Page::After(read_seq), n)
            .await?
            .into_iter()
            .filter(|m| m.seq < asking.seq)
            .collect(),
        None => {
            app.store
                .messages(room_id, Page::Before(asking.seq), n)
                .await?
        }
    };
    let reply = NewMessage {
        id: MessageId::new(),
        room_id,
        sender_id: bot,
        // One reply per question, even if the question is delivered twice.
        client_id: format!("ai-reply:{}", asking.id),
        body: PENDING_BODY.into(),
        reply_to: Some(asking.id),
        forwarded: None,
        mentions: Vec::new(),
        mentions_room: false,
        attachments: Vec::new(),
        now: app.now(),
    };
    let reply = match app.store.send_message(&reply).await? {
        SendOutcome::Created(m, ev) => {
            app.publish_events([ev]);
            m
        }
        SendOutcome::Existing(_) => return Ok(()),
    };
    let mut map = RedactionMap::new();
    let question = quote(app, std::slice::from_ref(&asking), &mut map)
        .await?
        .pop()
        .unwrap_or(prompt::Quoted {
            author: "someone".into(),
            text: redact(&asking.body, &mut map),
        });
    let context = quote(app, &context, &mut map).await?;
    let req = prompt::assistant(&question, &context);
    let sink = GatewaySink {
        app,
        room_id,
        message_id: reply.id,
        next: AtomicU32::new(0),
    };
    let max = app.config.limits.message_max_chars as usize;
    let text = match ai
        .call("assistant", asking.sender_id, room_id, &req, Some(&sink))
        .await
    {
        // The reply is room history, visible to members who join later: placeholders stay.
        Ok(done) if !done.text.trim().is_empty() => done.text.trim().chars().take(max).collect(),
        Ok(_) => "(The assistant had nothing to say.)".to_owned(),
        Err(f) => format!("⚠️ {}", f.user_message()),
    };
    let (_, ev) = app
        .store
        .edit_message(room_id, reply.id, &text, &[], false, bot, app.now())
        .await?;
    app.publish_events([ev]);
    Ok(())
}
