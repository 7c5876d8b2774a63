//! AI endpoints (opt-in): server capabilities, the room switch, translation, catch-me-up and
//! smart replies. With no provider configured every AI endpoint answers 404 `ai_disabled`
//! and `GET /api/v1/config` says so, so clients hide their AI controls.

use crate::ai::features;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::parse_id;
use crate::http::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use justus_core::{MessageId, RoomId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct AiCapabilities {
    /// Whether a provider is configured. False: hide every AI control.
    pub enabled: bool,
    /// What the server offers when enabled: `translate`, `assistant`, `summary`, `suggestions`.
    pub features: Vec<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct ClientConfig {
    pub ai: AiCapabilities,
    /// Days the server keeps messages (`null`: forever); a room may keep them for less.
    pub retention_days: Option<u32>,
}

/// Server capabilities the client needs before sign-in (no auth).
#[utoipa::path(get, path = "/api/v1/config", tag = "ai", responses((status = 200, body = ClientConfig)))]
pub async fn client_config(State(app): State<AppState>) -> Json<ClientConfig> {
    let enabled = app.ai.is_some();
    Json(ClientConfig {
        ai: AiCapabilities {
            enabled,
            features: if enabled {
                vec!["translate", "assistant", "summary", "suggestions"]
            } else {
                Vec::new()
            },
        },
        retention_days: (app.config.retention.days > 0).then_some(app.config.retention.days),
    })
}

#[derive(Serialize, ToSchema)]
pub struct RoomAi {
    pub room_id: Uuid,
    pub ai_enabled: bool,
}

/// Whether AI is on in a room (members). Switch it with `PATCH /rooms/{id}` `{"ai_enabled": …}`.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/ai", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RoomAi), (status = 404, description = "`ai_disabled` or `not_found`", body = ErrorBody)))]
pub async fn room_ai(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RoomAi>> {
    let room: RoomId = parse_id(&id, "room")?;
    let ai_enabled = features::room_enabled(&app, auth.user_id, room).await?;
    Ok(Json(RoomAi {
        room_id: room.0,
        ai_enabled,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateReq {
    /// Target language (BCP-47), e.g. `de`, `pt-BR`. Omitted: the caller's preferred language
    /// (422 `no_language` if they have none).
    pub lang: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TranslationView {
    pub message_id: Uuid,
    /// The normalised target language.
    pub lang: String,
    pub text: String,
    /// True when served from the cache (no provider call).
    pub cached: bool,
}

const AI_ERRORS: &str = "`ai_not_enabled` (403), `ai_budget_exceeded` (429), `ai_busy` / `ai_unavailable` / `ai_rate_limited` (503), `ai_timeout` (504), `ai_upstream_error` (502)";

/// Translate a message into a language. Cached per message version and language: every reader
/// after the first gets the cached text; an edit makes a new version.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/messages/{message_id}/translate", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path)), request_body = TranslateReq,
    responses((status = 200, body = TranslationView),
              (status = 404, description = "`ai_disabled`, or room/message `not_found`", body = ErrorBody),
              (status = 422, description = "`invalid_language`, `no_language`", body = ErrorBody),
              (status = 403, description = AI_ERRORS, body = ErrorBody)))]
pub async fn translate(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, message_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<TranslateReq>,
) -> ApiResult<Json<TranslationView>> {
    let room: RoomId = parse_id(&id, "room")?;
    let msg: MessageId = parse_id(&message_id, "message")?;
    let t = features::translate(&app, auth.user_id, room, msg, req.lang.as_deref()).await?;
    Ok(Json(TranslationView {
        message_id: t.message_id.0,
        lang: t.lang,
        text: t.text,
        cached: t.cached,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SummaryView {
    /// Null when there is nothing unread (no provider call was made).
    #[schema(required = true)]
    pub summary: Option<String>,
    /// Unread messages summarised (the newest `AI_CONTEXT_MESSAGES` at most).
    pub message_count: usize,
    /// The newest seq covered; mark the room read up to it once shown.
    #[schema(required = true)]
    pub up_to_seq: Option<i64>,
}

/// "Catch me up": a summary of the caller's unread messages, private to them.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/ai/summary", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SummaryView), (status = 404, description = "`ai_disabled` or `not_found`", body = ErrorBody),
              (status = 403, description = AI_ERRORS, body = ErrorBody)))]
pub async fn summary(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<SummaryView>> {
    let room: RoomId = parse_id(&id, "room")?;
    let c = features::catch_up(&app, auth.user_id, room).await?;
    Ok(Json(SummaryView {
        summary: c.summary,
        message_count: c.message_count,
        up_to_seq: c.up_to_seq,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionsView {
    /// The message the suggestions answer (the last one someone else wrote); null if none.
    #[schema(required = true)]
    pub message_id: Option<Uuid>,
    /// At most three short replies.
    pub suggestions: Vec<String>,
}

/// Smart replies: up to three short replies to the last message someone else wrote.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/ai/suggestions", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SuggestionsView), (status = 404, description = "`ai_disabled` or `not_found`", body = ErrorBody),
              (status = 403, description = AI_ERRORS, body = ErrorBody)))]
pub async fn suggestions(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<SuggestionsView>> {
    let room: RoomId = parse_id(&id, "room")?;
    let s = features::suggestions(&app, auth.user_id, room).await?;
    Ok(Json(SuggestionsView {
        message_id: s.message_id.map(|m| m.0),
        suggestions: s.suggestions,
    }))
}
