//! AI features behind the REST API: translation (cached per message version and language,
//! single-flight), catch-me-up, smart replies, the room switch and user preferences.
//!
//! Every feature first checks that AI is configured (`ai_disabled`), that the caller is a
//! member, and that the room has AI on (`ai_not_enabled`); only then is text redacted and sent.

use super::{AiService, disabled};
use crate::chat::{member_access, not_found, require};
use crate::error::{Error, Result};
use crate::state::App;
use dashmap::DashMap;
use justus_core::ai::prompt::{self, Quoted};
use justus_core::ai::{AiPrefs, RedactionMap, parse_language_tag, redact};
use justus_core::message::{Message, Page};
use justus_core::room::{Action, Member, Room};
use justus_core::{MessageId, RoomId, StoreError, UserId};
use std::collections::HashMap;
use std::sync::Arc;

/// The AI service, or `ai_disabled`.
pub fn service(app: &App) -> Result<Arc<AiService>> {
    app.ai.clone().ok_or_else(disabled)
}

/// Member of a room that has AI on.
async fn ai_room(
    app: &App,
    user: UserId,
    room_id: RoomId,
) -> Result<(Arc<AiService>, Room, Member)> {
    let ai = service(app)?;
    let (room, member) = member_access(app, room_id, user).await?;
    if !app.store.room_ai_enabled(room_id).await? {
        return Err(not_enabled());
    }
    Ok((ai, room, member))
}

pub fn not_enabled() -> Error {
    Error::forbidden(
        "ai_not_enabled",
        "AI is off in this room; a room admin can switch it on",
    )
}

/// The cache key part that changes with every edit.
pub fn version_of(m: &Message) -> i64 {
    m.edited_at.map(|t| t.timestamp_micros()).unwrap_or(0)
}

/// Concurrent identical requests share one upstream call: the first runs it while the others
/// wait on the same lock and then find its result in the cache.
#[derive(Default)]
pub struct SingleFlight(DashMap<String, Arc<tokio::sync::Mutex<()>>>);

impl SingleFlight {
    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.0.entry(key.to_owned()).or_default().clone()
    }

    fn release(&self, key: &str) {
        // Called after the finishing caller dropped its handle: only the map holds it, so
        // nobody is waiting (the shard lock keeps new waiters out while we look).
        self.0.remove_if(key, |_, v| Arc::strong_count(v) == 1);
    }
}

pub struct Translation {
    pub message_id: MessageId,
    pub lang: String,
    pub text: String,
    /// Served from the cache (no provider call).
    pub cached: bool,
}

/// Translates a message into `lang` for a reader (default: the reader's preferred language).
pub async fn translate(
    app: &App,
    user: UserId,
    room_id: RoomId,
    message_id: MessageId,
    lang: Option<&str>,
) -> Result<Translation> {
    let (ai, _, _) = ai_room(app, user, room_id).await?;
    let lang = match lang {
        Some(l) => parse_language_tag(l).map_err(|e| Error::from(e).with_field("lang"))?,
        None => app
            .store
            .ai_prefs(user)
            .await?
            .preferred_language
            .ok_or_else(|| {
                Error::unprocessable(
                    "no_language",
                    "give `lang`, or set a preferred language first (PATCH /users/me)",
                )
                .with_field("lang")
            })?,
    };
    let message = app
        .store
        .message(room_id, message_id)
        .await
        .map_err(not_found("message"))?;
    if message.deleted_at.is_some() {
        return Err(Error::not_found("message"));
    }
    let version = version_of(&message);
    let done = |text: String, cached: bool| Translation {
        message_id,
        lang: lang.clone(),
        text,
        cached,
    };
    if let Some(text) = app.store.translation(message_id, version, &lang).await? {
        metrics::counter!("ai_translation_cache_total", "result" => "hit").increment(1);
        return Ok(done(text, true));
    }
    let key = format!("{message_id}:{version}:{lang}");
    let lock = ai.single_flight.lock_for(&key);
    let result: Result<Translation> = async {
        let _turn = lock.lock().await;
        if let Some(text) = app.store.translation(message_id, version, &lang).await? {
            metrics::counter!("ai_translation_cache_total", "result" => "hit").increment(1);
            return Ok(done(text, true));
        }
        metrics::counter!("ai_translation_cache_total", "result" => "miss").increment(1);
        let mut map = RedactionMap::new();
        let req = prompt::translate(&lang, &redact(&message.body, &mut map));
        let answer = ai.call("translate", user, room_id, &req, None).await?;
        // Readers of a translation can all read the original: restoring hides nothing new.
        let text = map.restore(answer.text.trim());
        app.store
            .put_translation(message_id, version, &lang, &text, app.now())
            .await?;
        Ok(done(text, false))
    }
    .await;
    drop(lock);
    ai.single_flight.release(&key);
    result
}

/// Usernames for quoting, by id.
async fn names(app: &App, messages: &[Message]) -> Result<HashMap<UserId, String>> {
    let mut ids: Vec<UserId> = messages.iter().map(|m| m.sender_id).collect();
    ids.sort();
    ids.dedup();
    Ok(app
        .store
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username.as_str().to_owned()))
        .collect())
}

/// Live messages quoted for a prompt, redacted through `map`.
pub async fn quote(app: &App, messages: &[Message], map: &mut RedactionMap) -> Result<Vec<Quoted>> {
    let names = names(app, messages).await?;
    Ok(messages
        .iter()
        .filter(|m| m.deleted_at.is_none())
        .map(|m| Quoted {
            author: names
                .get(&m.sender_id)
                .cloned()
                .unwrap_or_else(|| "someone".into()),
            text: redact(&m.body, map),
        })
        .collect())
}

pub struct CatchUp {
    pub summary: Option<String>,
    pub message_count: usize,
    /// The newest seq covered (mark read up to it once shown).
    pub up_to_seq: Option<i64>,
}

/// "Catch me up": a summary, private to the caller, of what they have not read.
pub async fn catch_up(app: &App, user: UserId, room_id: RoomId) -> Result<CatchUp> {
    let (ai, _, member) = ai_room(app, user, room_id).await?;
    let recent = app
        .store
        .messages(room_id, Page::Latest, ai.context_messages)
        .await?;
    let unread: Vec<Message> = recent
        .into_iter()
        .filter(|m| m.seq > member.read_seq && m.deleted_at.is_none())
        .collect();
    if unread.is_empty() {
        return Ok(CatchUp {
            summary: None,
            message_count: 0,
            up_to_seq: None,
        });
    }
    let mut map = RedactionMap::new();
    let quoted = quote(app, &unread, &mut map).await?;
    let answer = ai
        .call("summary", user, room_id, &prompt::summary(&quoted), None)
        .await?;
    Ok(CatchUp {
        // Shown only to the caller, who can read every quoted message.
        summary: Some(map.restore(answer.text.trim())),
        message_count: unread.len(),
        up_to_seq: unread.last().map(|m| m.seq),
    })
}

pub struct Suggestions {
    pub message_id: Option<MessageId>,
    pub suggestions: Vec<String>,
}

/// Up to three short replies to the last message someone else wrote.
pub async fn suggestions(app: &App, user: UserId, room_id: RoomId) -> Result<Suggestions> {
    let (ai, _, _) = ai_room(app, user, room_id).await?;
    let recent: Vec<Message> = app
        .store
        .messages(room_id, Page::Latest, 10)
        .await?
        .into_iter()
        .filter(|m| m.deleted_at.is_none())
        .collect();
    let Some(pos) = recent.iter().rposition(|m| m.sender_id != user) else {
        return Ok(Suggestions {
            message_id: None,
            suggestions: Vec::new(),
        });
    };
    let mut map = RedactionMap::new();
    let quoted = quote(app, &recent[..=pos], &mut map).await?;
    let Some((last, context)) = quoted.split_last() else {
        return Ok(Suggestions {
            message_id: None,
            suggestions: Vec::new(),
        });
    };
    let answer = ai
        .call(
            "suggestions",
            user,
            room_id,
            &prompt::suggestions(context, last),
            None,
        )
        .await?;
    Ok(Suggestions {
        message_id: Some(recent[pos].id),
        suggestions: prompt::parse_suggestions(&answer.text)
            .into_iter()
            .map(|s| map.restore(&s))
            .collect(),
    })
}

/// Whether AI is on in a room the caller is a member of.
pub async fn room_enabled(app: &App, user: UserId, room_id: RoomId) -> Result<bool> {
    service(app)?;
    member_access(app, room_id, user).await?;
    Ok(app.store.room_ai_enabled(room_id).await?)
}

/// Checks that `user` may switch AI in `room_id` (AI configured, `EditRoom`) and says whether
/// it is on now. The switch itself is committed with the rest of a `RoomPatch`.
pub async fn check_switch(app: &App, user: UserId, room_id: RoomId) -> Result<bool> {
    service(app)?;
    require(app, room_id, user, Action::EditRoom).await?;
    Ok(app.store.room_ai_enabled(room_id).await?)
}

/// After a committed switch from `was` to `enabled`: the assistant joins as a member when AI
/// is switched on and leaves when it is switched off, so everyone sees who can read along.
pub async fn after_switch(
    app: &App,
    user: UserId,
    room_id: RoomId,
    was: bool,
    enabled: bool,
) -> Result<()> {
    if was == enabled {
        return Ok(());
    }
    let bot = super::assistant::bot_id(app).await?;
    if enabled {
        match app
            .store
            .add_member(
                room_id,
                bot,
                justus_core::room::Role::Member,
                user,
                app.config.limits.room_max_members.saturating_add(1),
                app.now(),
            )
            .await
        {
            Ok((_, ev)) => {
                app.publish_events([ev]);
                crate::chat::rooms::publish_membership(app, room_id, bot, true);
            }
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    } else {
        // The bot leaves on its own (`member.left`): nobody was kicked.
        match app
            .store
            .remove_member(room_id, bot, bot, None, app.now())
            .await
        {
            Ok(ev) => {
                app.publish_events([ev]);
                crate::chat::rooms::publish_membership(app, room_id, bot, false);
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Validates and stores the caller's AI preferences; `None` fields stay as they are.
pub async fn update_prefs(
    app: &App,
    user: UserId,
    preferred_language: Option<Option<String>>,
    auto_translate: Option<bool>,
) -> Result<AiPrefs> {
    let mut prefs = app.store.ai_prefs(user).await?;
    if let Some(lang) = preferred_language {
        prefs.preferred_language = match lang {
            Some(l) if !l.trim().is_empty() => Some(parse_language_tag(&l)?),
            _ => None,
        };
    }
    if let Some(auto) = auto_translate {
        prefs.auto_translate = auto;
    }
    app.store.set_ai_prefs(user, &prefs, app.now()).await?;
    Ok(prefs)
}
