//! The HTTP API: one module per resource, all wired in [`router`].

pub mod admin;
pub mod ai;
pub mod auth;
pub mod docs;
pub mod media;
pub mod messages;
pub mod ops;
pub mod reports;
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
        (name = "moderation", description = "Reports, the instance's report queue and audit log"),
        (name = "admin", description = "Instance admins: suspended accounts, sign-up blocks"),
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
        .routes(routes!(rooms::mute_member, rooms::unmute_member))
        .routes(routes!(rooms::audit_log))
        .routes(routes!(rooms::list_invitations))
        .routes(routes!(rooms::accept_invitation))
        .routes(routes!(rooms::decline_invitation))
        .routes(routes!(reports::create_report))
        .routes(routes!(reports::my_reports))
        .routes(routes!(reports::room_reports))
        .routes(routes!(reports::resolve_report))
        .routes(routes!(reports::admin_reports))
        .routes(routes!(reports::admin_audit))
        .routes(routes!(admin::list_suspended))
        .routes(routes!(admin::suspend, admin::reinstate))
        .routes(routes!(admin::list_signup_blocks, admin::block_signups))
        .routes(routes!(admin::unblock_signups))
        .routes(routes!(rooms::create_invite))
        .routes(routes!(rooms::get_invite))
        .routes(routes!(rooms::accept_invite))
        .routes(routes!(messages::send_message, messages::list_messages))
        .routes(routes!(
            messages::get_message,
            messages::edit_message,
            messages::delete_message
        ))
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
    let mut spec = openapi_router().split_for_parts().1;
    complete(&mut spec);
    spec
}

/// What the handlers' annotations cannot say on their own.
fn complete(spec: &mut utoipa::openapi::OpenApi) {
    CommonResponses.modify(spec);
    OptionalBodies.modify(spec);
}

/// Request bodies that may be left out. utoipa marks a body optional only when its type is an
/// `Option`, which would also document `null` as a body (refused with 422).
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::Required;
        // POST /api/v1/auth/refresh: no body means "use the refresh-token cookie".
        if let Some(body) = openapi
            .paths
            .paths
            .get_mut("/api/v1/auth/refresh")
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.request_body.as_mut())
        {
            body.required = Some(Required::False);
        }
    }
}

/// The answers every route of a kind can give, whatever its handler does, added to each
/// operation that does not already describe them: they come from the shared extractors and
/// middleware (`Auth`, `ApiJson`, path ids, query strings), so declaring them route by route
/// would only let one be forgotten. A route's own description of a status wins.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for (path, item) in openapi.paths.paths.iter_mut() {
            // Every `{id}` and `{…_id}` is a UUID, parsed by `parse_id`.
            let has_path_id = path.contains("{id}") || path.contains("_id}");
            for (changes, op) in [
                (false, &mut item.get),
                (true, &mut item.put),
                (true, &mut item.post),
                (true, &mut item.delete),
                (true, &mut item.patch),
            ] {
                let Some(op) = op else { continue };
                let authenticated = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let json_body = op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                let has_query = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let mut bad_request = Vec::new();
                if has_path_id {
                    bad_request.push("`invalid_id`: a path id is not a UUID");
                }
                if has_query {
                    bad_request.push("`bad_request`: a query parameter is malformed");
                }
                if json_body {
                    bad_request.push("`invalid_json`: the body is not JSON");
                }
                if !bad_request.is_empty() {
                    add(op, "400", &bad_request.join("; "));
                }
                if authenticated {
                    add(
                        op,
                        "401",
                        "`missing_token`, `invalid_token`, `token_expired` or `session_revoked`",
                    );
                }
                if authenticated && changes {
                    add(
                        op,
                        "429",
                        "`rate_limited`: too many requests that change something; wait `Retry-After` seconds",
                    );
                }
                if json_body {
                    add(
                        op,
                        "413",
                        "`payload_too_large`: the body is over `MAX_BODY_BYTES`",
                    );
                    add(
                        op,
                        "415",
                        "`unsupported_media_type`: the body is not `Content-Type: application/json`",
                    );
                    add(
                        op,
                        "422",
                        "`invalid_body`: the JSON does not fit the schema, or a field fails validation (`field` names it)",
                    );
                }
            }
        }

        fn add(op: &mut utoipa::openapi::path::Operation, status: &str, description: &str) {
            use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| {
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build()
                        .into()
                });
        }
    }
}

pub fn router(state: AppState) -> Router {
    let (api, mut spec) = openapi_router().split_for_parts();
    complete(&mut spec);
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
        .layer(DefaultBodyLimit::max(
            state.config.limits.max_body_bytes as usize,
        ))
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
