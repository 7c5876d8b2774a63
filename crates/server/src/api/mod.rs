//! The HTTP API: one module per resource, all wired in [`router`].

pub mod ai;
pub mod auth;
pub mod docs;
pub mod media;
pub mod messages;
pub mod ops;
pub mod rooms;
pub mod users;

use crate::http::error::ErrorBody;
use crate::http::middleware;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, header};
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "JustUs API", description = "REST API of JustUs. Errors are `{\"error\": {\"code\", \"message\"}}`; see docs/protocol.md for the gateway."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags(
        (name = "auth", description = "Accounts, login and sessions"),
        (name = "users", description = "Profiles, user search, blocks"),
        (name = "rooms", description = "DMs and groups, members, roles, bans, invites"),
        (name = "messages", description = "Messages, reactions, pins, catch-up, read state, search"),
        (name = "ops", description = "Health and readiness (metrics are on the private METRICS_BIND listener)"),
        (name = "ai", description = "Opt-in AI: capabilities, translation, catch-me-up, smart replies"),
        (name = "media", description = "Uploads, authorised downloads through short-lived signed URLs"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

/// Every route and its OpenAPI description, in one place.
pub fn openapi_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::logout_all))
        .routes(routes!(auth::list_sessions))
        .routes(routes!(auth::revoke_session))
        .routes(routes!(users::me, users::patch_me))
        .routes(routes!(users::change_password))
        .routes(routes!(users::get_user))
        .routes(routes!(users::search_users))
        .routes(routes!(users::list_blocks))
        .routes(routes!(users::block, users::unblock))
        .routes(routes!(rooms::list_rooms, rooms::create_room))
        .routes(routes!(rooms::open_dm))
        .routes(routes!(
            rooms::get_room,
            rooms::patch_room,
            rooms::delete_room
        ))
        .routes(routes!(rooms::list_members, rooms::add_member))
        .routes(routes!(rooms::set_role, rooms::remove_member))
        .routes(routes!(rooms::ban, rooms::list_bans))
        .routes(routes!(rooms::unban))
        .routes(routes!(rooms::create_invite))
        .routes(routes!(rooms::get_invite))
        .routes(routes!(rooms::accept_invite))
        .routes(routes!(messages::send_message, messages::list_messages))
        .routes(routes!(messages::edit_message, messages::delete_message))
        .routes(routes!(messages::edit_history))
        .routes(routes!(messages::add_reaction, messages::remove_reaction))
        .routes(routes!(messages::pin, messages::unpin))
        .routes(routes!(messages::list_pins))
        .routes(routes!(messages::events))
        .routes(routes!(messages::mark_read))
        .routes(routes!(messages::search))
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ai::client_config))
        .routes(routes!(ai::room_ai))
        .routes(routes!(ai::translate))
        .routes(routes!(ai::summary))
        .routes(routes!(ai::suggestions))
        .merge(media_routes())
}

/// Media routes. The upload route lifts the global body limit: uploads are streamed to disk
/// and the per-kind limits (and the largest of them for the body) are enforced while streaming.
fn media_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(media::upload))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(media::get_media))
        .routes(routes!(media::get_thumbnail))
        .routes(routes!(media::serve_file))
        .routes(routes!(media::user_avatar))
        .routes(routes!(media::room_avatar))
}

/// The generated OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi_router().split_for_parts().1
}

pub fn router(state: AppState) -> Router {
    let (api, spec) = openapi_router().split_for_parts();
    let spec_json = spec.to_pretty_json().unwrap_or_default();
    let origins = state
        .allowed_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect::<Vec<axum::http::HeaderValue>>();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            middleware::REQUEST_ID,
            HeaderName::from_static("traceparent"),
        ])
        .expose_headers([middleware::REQUEST_ID, header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600));
    api.merge(docs::router(spec_json))
        .route("/api/v1/ws", axum::routing::get(crate::gateway::upgrade))
        .fallback(crate::web::serve)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes as usize))
        // Inside the security headers, CORS and metrics, so a shed or timed-out request is
        // still a proper, counted answer.
        .layer(axum::middleware::from_fn_with_state(
            crate::http::overload::Overload::from_config(&state.config),
            crate::http::overload::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::middleware::log_refusals,
        ))
        .layer(cors)
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            crate::http::error::ApiError::internal().into_response()
        }))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(middleware::observe))
        .with_state(state)
}
