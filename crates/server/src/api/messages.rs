//! `/api/v1/rooms/{id}/messages`, reactions, pins, `/events`, `/read`, and `/search`.

use crate::chat;
use crate::chat::messages::SendInput;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::parse_id;
use crate::http::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use justus_core::event::RoomEvent;
use justus_core::message::{Message, Page};
use justus_core::store::{HIGHLIGHT_END, HIGHLIGHT_START};
use justus_core::{MediaId, MessageId, RoomId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardRef {
    pub room_id: Uuid,
    pub message_id: Uuid,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Idempotency key chosen by the client (1–64 printable ASCII), unique per sender. A retry
    /// with the same key returns the original message (200) instead of creating another.
    #[schema(min_length = 1, max_length = 64, pattern = r"^[!-~]{1,64}$")]
    pub client_id: String,
    /// Markdown source, up to 4000 characters by default. Omit when forwarding.
    pub body: Option<String>,
    pub reply_to: Option<Uuid>,
    /// Forward a message from another room you belong to (body and attribution are copied).
    pub forward_from: Option<ForwardRef>,
    /// Ids of your own uploads (`POST /api/v1/media`), at most 10, in display order. With
    /// attachments the body may be omitted. Someone else's upload → 403 `attachment_forbidden`.
    #[serde(default)]
    pub attachments: Vec<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    pub body: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Messages with seq < before (older page). Not together with `after` (400 `invalid_page`).
    pub before: Option<i64>,
    /// Messages with seq > after (newer page). Not together with `before` (400 `invalid_page`).
    pub after: Option<i64>,
    /// The page around a point of history (a message's seq, e.g. to jump to a search result
    /// or a reply far back): the older half of `limit` ends with the message at or just before
    /// this seq, the newer half follows it. Not with `before` or `after`.
    #[param(minimum = 0)]
    pub around: Option<i64>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct MessagePage {
    /// Ascending by seq.
    pub messages: Vec<Message>,
    /// Whether more messages exist beyond this page in the direction asked (for `around`:
    /// older ones).
    pub has_more: bool,
    /// `around` pages only: whether newer messages exist after this page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_newer: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Return changes with seq > after (0 for everything).
    #[param(minimum = 0)]
    pub after: i64,
    /// 1–1000, default 200.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct EventsPage {
    /// Ascending by seq, gap-free within the page.
    pub events: Vec<RoomEvent>,
    /// More events follow: ask again with `after` = the last seq here.
    pub has_more: bool,
    /// The room's latest seq when this page was read.
    pub last_seq: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadState {
    pub read_seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PinList {
    pub messages: Vec<Message>,
}

#[derive(Serialize, ToSchema)]
pub struct EditEntry {
    pub body: String,
    pub replaced_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct EditHistory {
    /// Previous versions, oldest first.
    pub edits: Vec<EditEntry>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (all must match; the last may be a prefix). At most 256 characters.
    #[param(max_length = 256)]
    pub q: String,
    /// Restrict to one room.
    pub room: Option<Uuid>,
    /// Default 20; values above 100 count as 100.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

/// A piece of a search snippet; render `text` as text, emphasised when `highlight`.
#[derive(Serialize, ToSchema)]
pub struct SnippetPart {
    pub text: String,
    pub highlight: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResult {
    pub room_id: Uuid,
    pub message: Message,
    pub snippet: Vec<SnippetPart>,
    pub rank: f64,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
}

fn ids(room: &str, message: &str) -> ApiResult<(RoomId, MessageId)> {
    Ok((parse_id(room, "room")?, parse_id(message, "message")?))
}

/// Send a message (201), or get the original back for a retried `client_id` (200).
#[utoipa::path(post, path = "/api/v1/rooms/{id}/messages", tag = "messages", security(("bearer" = [])), request_body = SendMessage,
    params(("id" = Uuid, Path)),
    responses((status = 201, body = Message), (status = 200, description = "Retry of an earlier send", body = Message),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`client_id_reused` with different content", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, description = "Not persisted; retry with the same client_id", body = ErrorBody)))]
pub async fn send_message(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SendMessage>,
) -> ApiResult<Response> {
    let room_id: RoomId = parse_id(&id, "room")?;
    let input = SendInput {
        client_id: req.client_id,
        body: req.body,
        reply_to: req.reply_to.map(MessageId),
        forward_from: req
            .forward_from
            .map(|f| (RoomId(f.room_id), MessageId(f.message_id))),
        attachments: req.attachments.into_iter().map(MediaId).collect(),
    };
    let (message, created) = chat::messages::send(&app, auth.user_id, room_id, input).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(message),
    )
        .into_response())
}

/// A page of messages by seq (keyset): newest by default, or `before`/`after`/`around` a seq.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), PageQuery), responses((status = 200, body = MessagePage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<MessagePage>> {
    let room_id: RoomId = parse_id(&id, "room")?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1–200",
        ));
    }
    let page = match (q.before, q.after, q.around) {
        (None, None, Some(around)) => {
            return around_page(&app, auth.user_id, room_id, around, limit)
                .await
                .map(Json);
        }
        (Some(b), None, None) => Page::Before(b),
        (None, Some(a), None) => Page::After(a),
        (None, None, None) => Page::Latest,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_page",
                "use one of before, after or around",
            ));
        }
    };
    // One extra row tells whether another page exists.
    let mut messages = chat::messages::list(&app, auth.user_id, room_id, page, limit + 1).await?;
    let has_more = messages.len() > limit as usize;
    if has_more {
        match page {
            Page::After(_) => {
                messages.truncate(limit as usize);
            }
            Page::Latest | Page::Before(_) => {
                messages.remove(0);
            }
        }
    }
    Ok(Json(MessagePage {
        messages,
        has_more,
        has_newer: None,
    }))
}

/// `?around=seq`: the older half of `limit` up to and including `seq`, the newer half after it,
/// each asked for one extra row to tell whether more exist that way.
async fn around_page(
    app: &AppState,
    user: justus_core::UserId,
    room_id: RoomId,
    around: i64,
    limit: u32,
) -> ApiResult<MessagePage> {
    if around < 0 {
        return Err(ApiError::bad_request("invalid_page", "around must be ≥ 0"));
    }
    let older = limit.div_ceil(2);
    let newer = limit - older;
    let mut messages = chat::messages::list(
        app,
        user,
        room_id,
        Page::Before(around.saturating_add(1)),
        older + 1,
    )
    .await?;
    let has_more = messages.len() > older as usize;
    if has_more {
        messages.remove(0);
    }
    let mut after =
        chat::messages::list(app, user, room_id, Page::After(around), newer + 1).await?;
    let has_newer = after.len() > newer as usize;
    after.truncate(newer as usize);
    messages.extend(after);
    Ok(MessagePage {
        messages,
        has_more,
        has_newer: Some(has_newer),
    })
}

/// One message (a tombstone too), e.g. to learn the `seq` of a reply's original or of a linked
/// message before loading the page `around` it.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path)),
    responses((status = 200, body = Message), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_message(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<Json<Message>> {
    let message = chat::messages::get(
        &app,
        auth.user_id,
        parse_id(&id, "room")?,
        parse_id(&message_id, "message")?,
    )
    .await?;
    Ok(Json(message))
}

/// Edit your message.
#[utoipa::path(patch, path = "/api/v1/rooms/{id}/messages/{message_id}", tag = "messages", security(("bearer" = [])), request_body = EditMessage,
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path)),
    responses((status = 200, body = Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_message(
    State(app): State<AppState>,
    auth: Auth,
    Path((room, msg)): Path<(String, String)>,
    ApiJson(req): ApiJson<EditMessage>,
) -> ApiResult<Json<Message>> {
    let (room, msg) = ids(&room, &msg)?;
    Ok(Json(
        chat::messages::edit(&app, auth.user_id, room, msg, &req.body).await?,
    ))
}

/// Delete a message (yours, or anyone's as an admin: audited with the `reason`). Leaves a
/// tombstone.
#[utoipa::path(delete, path = "/api/v1/rooms/{id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path), crate::api::rooms::ReasonQuery),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "`too_long` or `invalid_characters`: the `reason`", body = ErrorBody)))]
pub async fn delete_message(
    State(app): State<AppState>,
    auth: Auth,
    Path((room, msg)): Path<(String, String)>,
    Query(q): Query<crate::api::rooms::ReasonQuery>,
) -> ApiResult<StatusCode> {
    let (room, msg) = ids(&room, &msg)?;
    chat::messages::delete(&app, auth.user_id, room, msg, q.parse()?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Previous versions of an edited message.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/messages/{message_id}/history", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path)), responses((status = 200, body = EditHistory), (status = 404, body = ErrorBody)))]
pub async fn edit_history(
    State(app): State<AppState>,
    auth: Auth,
    Path((room, msg)): Path<(String, String)>,
) -> ApiResult<Json<EditHistory>> {
    let (room, msg) = ids(&room, &msg)?;
    let edits = chat::messages::edit_history(&app, auth.user_id, room, msg).await?;
    Ok(Json(EditHistory {
        edits: edits
            .into_iter()
            .map(|(body, replaced_at)| EditEntry { body, replaced_at })
            .collect(),
    }))
}

/// React with an emoji (idempotent).
#[utoipa::path(put, path = "/api/v1/rooms/{id}/messages/{message_id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path), ("emoji" = String, Path, description = "One emoji, URL-encoded")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, description = "`invalid_emoji`", body = ErrorBody)))]
pub async fn add_reaction(
    State(app): State<AppState>,
    auth: Auth,
    Path((room, msg, emoji)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (room, msg) = ids(&room, &msg)?;
    chat::messages::react(&app, auth.user_id, room, msg, &emoji, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove your reaction (idempotent).
#[utoipa::path(delete, path = "/api/v1/rooms/{id}/messages/{message_id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path), ("emoji" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_reaction(
    State(app): State<AppState>,
    auth: Auth,
    Path((room, msg, emoji)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (room, msg) = ids(&room, &msg)?;
    chat::messages::react(&app, auth.user_id, room, msg, &emoji, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pin a message (the room's `permissions.pin`: admins unless opened to members; anyone in a DM). At most 50 per room.
#[utoipa::path(put, path = "/api/v1/rooms/{id}/messages/{message_id}/pin", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`too_many_pins`", body = ErrorBody)))]
pub async fn pin(
    State(app): State<AppState>,
    auth: Auth,
    Path((room, msg)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (room, msg) = ids(&room, &msg)?;
    chat::messages::pin(&app, auth.user_id, room, msg, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unpin a message.
#[utoipa::path(delete, path = "/api/v1/rooms/{id}/messages/{message_id}/pin", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unpin(
    State(app): State<AppState>,
    auth: Auth,
    Path((room, msg)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (room, msg) = ids(&room, &msg)?;
    chat::messages::pin(&app, auth.user_id, room, msg, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pinned messages.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/pins", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = PinList), (status = 404, body = ErrorBody)))]
pub async fn list_pins(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PinList>> {
    Ok(Json(PinList {
        messages: chat::messages::pinned(&app, auth.user_id, parse_id(&id, "room")?).await?,
    }))
}

/// Catch-up: every change after `after`, in seq order (tombstones and edits included).
#[utoipa::path(get, path = "/api/v1/rooms/{id}/events", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), EventsQuery), responses((status = 200, body = EventsPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Json<EventsPage>> {
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) || q.after < 0 {
        return Err(ApiError::bad_request(
            "invalid_page",
            "after must be ≥ 0 and limit 1–1000",
        ));
    }
    let (page, last_seq) =
        chat::messages::events(&app, auth.user_id, parse_id(&id, "room")?, q.after, limit).await?;
    Ok(Json(EventsPage {
        events: page.events,
        has_more: page.has_more,
        last_seq,
    }))
}

/// Move your read marker forward (never backwards).
#[utoipa::path(post, path = "/api/v1/rooms/{id}/read", tag = "messages", security(("bearer" = [])), request_body = MarkRead,
    params(("id" = Uuid, Path)), responses((status = 200, body = ReadState), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MarkRead>,
) -> ApiResult<Json<ReadState>> {
    let read_seq =
        chat::messages::mark_read(&app, auth.user_id, parse_id(&id, "room")?, req.seq).await?;
    Ok(Json(ReadState { read_seq }))
}

/// Split a store snippet at the highlight markers into plain-text parts.
fn snippet_parts(snippet: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut highlight = false;
    for c in snippet.chars() {
        if c == HIGHLIGHT_START || c == HIGHLIGHT_END {
            if !current.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut current),
                    highlight,
                });
            }
            highlight = c == HIGHLIGHT_START;
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        parts.push(SnippetPart {
            text: current,
            highlight,
        });
    }
    parts
}

/// Full-text search over your rooms (ranked, with highlighted snippets).
#[utoipa::path(get, path = "/api/v1/search", tag = "messages", security(("bearer" = [])),
    params(SearchQuery), responses((status = 200, body = SearchResults), (status = 400, description = "`query_too_long`", body = ErrorBody),
        (status = 404, description = "`not_found`: `room` is not a room of yours", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many searches", body = ErrorBody)))]
pub async fn search(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    app.limits
        .search(auth.user_id)
        .await
        .map_err(|wait| ApiError::rate_limited("too many searches; slow down", wait))?;
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let hits = chat::messages::search(&app, auth.user_id, &q.q, q.room.map(RoomId), limit).await?;
    Ok(Json(SearchResults {
        results: hits
            .into_iter()
            .map(|h| SearchResult {
                room_id: h.message.room_id.0,
                snippet: snippet_parts(&h.snippet),
                rank: h.rank,
                message: h.message,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn snippets_split_into_text_parts() {
        let parts = super::snippet_parts("a \u{E000}cat\u{E001} <b>x</b>");
        let got: Vec<(&str, bool)> = parts
            .iter()
            .map(|p| (p.text.as_str(), p.highlight))
            .collect();
        assert_eq!(
            got,
            vec![("a ", false), ("cat", true), (" <b>x</b>", false)]
        );
    }
}
