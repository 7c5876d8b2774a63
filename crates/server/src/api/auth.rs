//! `/api/v1/auth`: register, login, refresh, logout, sessions.
//!
//! Refresh tokens reach browsers only in an HttpOnly cookie (`session_cookie: true` at login);
//! other clients get them in the body. See docs/security.md for the rules.

use crate::auth::credentials;
use crate::auth::issue::{self, Issued};
use crate::auth::register;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, Auth};
use crate::state::AppState;
use crate::wire::{Me, SessionView};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use justus_core::user::{Email, Password, User};
use justus_core::{SessionId, StoreError};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 characters of `a-z 0-9 _ .` (case-insensitive; surrounding white space is ignored).
    #[schema(
        pattern = r"^[\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[A-Za-z0-9_.]{3,32}[\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub username: String,
    /// Defaults to the username. 1–64 characters once trimmed; no control characters.
    #[schema(min_length = 1, pattern = r"\S")]
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// 8–256 characters; common passwords are refused.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// Deliver the refresh token in an HttpOnly cookie (web client) instead of the body.
    #[serde(default)]
    pub session_cookie: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or e-mail address.
    pub login: String,
    /// At most 256 characters.
    #[schema(max_length = 256)]
    pub password: String,
    #[serde(default)]
    pub session_cookie: bool,
    /// The `device_token` of this device's last login to this account (clients that do not
    /// keep cookies). With it, failed attempts by others cannot throttle this device.
    pub device_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token, for clients that keep it themselves. Omit to use the cookie.
    pub refresh_token: Option<String>,
}

/// Tokens for a session.
#[derive(Serialize, ToSchema)]
pub struct AuthResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    /// Present unless the refresh token was set as a cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// After a login: keep it and send it with the next login to this account (web clients
    /// get it as an HttpOnly cookie instead). See docs/security.md, "device tokens".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    pub session_id: Uuid,
    pub user: Me,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

/// The refresh-token cookie, and the device-token cookie (`auth::device`).
#[derive(Clone, Copy)]
enum Cookie {
    Refresh,
    Device,
}

fn cookie_name(app: &AppState, which: Cookie) -> &'static str {
    // `__Host-` requires Secure, which browsers refuse to set over plain http (local runs).
    match (which, app.config.is_https()) {
        (Cookie::Refresh, true) => "__Host-justus_refresh",
        (Cookie::Refresh, false) => "justus_refresh",
        (Cookie::Device, true) => "__Host-justus_device",
        (Cookie::Device, false) => "justus_device",
    }
}

fn set_cookie(app: &AppState, which: Cookie, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if app.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        cookie_name(app, which)
    ))
    .ok()
}

fn clear_cookie(app: &AppState) -> Option<HeaderValue> {
    set_cookie(app, Cookie::Refresh, "", 0)
}

fn read_cookie(app: &AppState, headers: &HeaderMap) -> Option<String> {
    read_named_cookie(headers, cookie_name(app, Cookie::Refresh))
}

/// The device token a web client's browser holds, if any.
pub fn device_cookie(app: &AppState, headers: &HeaderMap) -> Option<String> {
    read_named_cookie(headers, cookie_name(app, Cookie::Device))
}

fn read_named_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Cookie-authenticated requests must come from our own pages: a cross-site POST carrying the
/// cookie (CSRF) is refused. Browsers always send `Origin` on POST and modern ones send
/// `Sec-Fetch-Site`; a client sending neither is not a browser and cannot be a CSRF vector.
fn check_same_site(app: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let refuse = || {
        ApiError::forbidden(
            "cross_site_request",
            "cross-site requests may not use the session cookie",
        )
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(refuse());
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let same_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            == Some(host);
        if !same_host && !app.allowed_origins.iter().any(|o| o == origin) {
            return Err(refuse());
        }
    }
    Ok(())
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect())
}

/// Starts a session for `user` and answers with its tokens (and, after a login, the device
/// token: in the body, and as a cookie for web clients).
async fn start_session(
    app: &AppState,
    user: User,
    ip: IpAddr,
    headers: &HeaderMap,
    cookie: bool,
    device_token: Option<String>,
    status: StatusCode,
) -> ApiResult<Response> {
    let issued = issue::start(app, user, ip, user_agent(headers)).await?;
    let mut res = tokens_response(
        app,
        issued,
        cookie,
        device_token.as_deref().filter(|_| !cookie),
        status,
    );
    if let Some(t) = device_token.filter(|_| cookie)
        && let Some(v) = set_cookie(app, Cookie::Device, &t, crate::auth::device::TTL_SECS)
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The tokens of a session: the refresh token in the body, or in the HttpOnly cookie.
fn tokens_response(
    app: &AppState,
    issued: Issued,
    cookie: bool,
    device_token: Option<&str>,
    status: StatusCode,
) -> Response {
    let now = app.now();
    let body = AuthResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.access_expires - now.timestamp(),
        expires_at: DateTime::from_timestamp(issued.access_expires, 0).unwrap_or(now),
        refresh_token: (!cookie).then(|| issued.refresh_token.clone()),
        device_token: device_token.map(str::to_owned),
        session_id: issued.session.0,
        user: Me {
            instance_admin: Some(crate::chat::reports::is_admin(app, &issued.user)),
            ..Me::from(&issued.user)
        },
    };
    let mut res = (status, axum::Json(body)).into_response();
    if cookie {
        let max_age = (issued.session_expires - now).num_seconds().max(0);
        if let Some(v) = set_cookie(app, Cookie::Refresh, &issued.refresh_token, max_age) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Create an account and log in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the new session's tokens", body = AuthResponse),
        (status = 409, description = "`registration_conflict`: the username or the e-mail address is taken (one answer for both)", body = ErrorBody),
        (status = 422, description = "A field fails validation (`field` names it)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many registrations (or refused ones) from this address", body = ErrorBody),
    ))]
pub async fn register(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<Response> {
    let registration = register::Registration {
        username: &req.username,
        display_name: req.display_name.as_deref(),
        email: req.email.as_deref(),
        password: &req.password,
    };
    let user = register::register(&app, registration, ip).await?;
    start_session(
        &app,
        user,
        ip,
        &headers,
        req.session_cookie,
        None,
        StatusCode::CREATED,
    )
    .await
}

/// Log in with username or e-mail and password.
///
/// Unknown accounts and wrong passwords get the same answer in the same time. Repeated
/// failures are throttled per account and per address with growing delays (`429` with
/// `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = AuthResponse),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: wait `retry_after` seconds", body = ErrorBody),
    ))]
pub async fn login(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    Password::check_length(&req.password)?;
    let login: String = req.login.trim().to_lowercase();
    let invalid =
        || ApiError::unauthorized("invalid_credentials", "wrong username, e-mail or password");
    if login.is_empty() || login.len() > Email::MAX {
        return Err(invalid());
    }
    let cookie_device = device_cookie(&app, &headers);
    let presented = credentials::Presented {
        password: &req.password,
        ip,
        device_token: req.device_token.as_deref().or(cookie_device.as_deref()),
    };
    let logged_in = match credentials::login(&app, &login, presented).await {
        Ok(l) => l,
        Err(credentials::Refused::Throttled(wait)) => {
            return Err(ApiError::too_many(
                "too_many_attempts",
                "too many failed attempts; wait before trying again",
                wait.as_secs_f64().ceil() as u64,
            ));
        }
        Err(credentials::Refused::Wrong) => {
            metrics::counter!("auth_logins_total", "outcome" => "failure").increment(1);
            return Err(invalid());
        }
        Err(credentials::Refused::Store(e)) => return Err(e.into()),
    };
    // After the password check, so a guesser learns nothing about the account.
    crate::auth::instance_bans::check_not_suspended(&logged_in.user)?;
    metrics::counter!("auth_logins_total", "outcome" => "success").increment(1);
    tracing::info!(user_id = %logged_in.user.id, "login");
    start_session(
        &app,
        logged_in.user,
        ip,
        &headers,
        req.session_cookie,
        Some(logged_in.device_token),
        StatusCode::OK,
    )
    .await
}

/// Exchange a refresh token for new tokens (rotation).
///
/// The token comes from the body (`refresh_token`) or, for the web client, the HttpOnly
/// cookie; the answer uses the same channel. Replaying a rotated token revokes the whole
/// session (see docs/security.md for the grace rule after a lost response).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body(content = RefreshRequest, description = "Optional: send no body to use the refresh-token cookie"),
    responses(
        (status = 200, description = "New tokens", body = AuthResponse),
        (status = 401, description = "`missing_token`, `invalid_refresh_token`, `session_expired` or `refresh_token_reused`", body = ErrorBody),
        (status = 403, description = "`cross_site_request`: cookie used cross-site", body = ErrorBody),
    ))]
pub async fn refresh(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        if !crate::http::extract::is_json(&headers) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ));
        }
        crate::http::extract::require_object(&body)?;
        let req: RefreshRequest = serde_json::from_slice(&body).map_err(|e| {
            if e.is_data() {
                ApiError::unprocessable("invalid_body", e.to_string())
            } else {
                ApiError::bad_request("invalid_json", "request body is not valid JSON")
            }
        })?;
        req.refresh_token
    };
    let (token, cookie) = match from_body {
        Some(t) => (t, false),
        None => {
            let t = read_cookie(&app, &headers).ok_or_else(|| {
                ApiError::unauthorized("missing_token", "no refresh token in body or cookie")
            })?;
            check_same_site(&app, &headers)?;
            (t, true)
        }
    };
    let fail = |code: &'static str, msg: &'static str| {
        let mut res = ApiError::unauthorized(code, msg).into_response();
        if cookie && let Some(v) = clear_cookie(&app) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        res
    };
    match issue::rotate(&app, &token).await? {
        Ok(issued) => Ok(tokens_response(&app, issued, cookie, None, StatusCode::OK)),
        Err(refused) => Ok(fail(refused.code(), refused.message())),
    }
}

/// End this session (this device).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Logged out"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(app): State<AppState>, auth: Auth) -> ApiResult<Response> {
    match app
        .store
        .revoke_session(auth.user_id, auth.session_id, app.now())
        .await
    {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    app.end_sessions(&[auth.session_id]);
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = clear_cookie(&app) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// End every session of the account, this one included.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "All sessions ended"), (status = 401, body = ErrorBody)))]
pub async fn logout_all(State(app): State<AppState>, auth: Auth) -> ApiResult<Response> {
    let mut revoked = app
        .store
        .revoke_sessions(auth.user_id, None, app.now())
        .await?;
    revoked.push(auth.session_id);
    app.end_sessions(&revoked);
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = clear_cookie(&app) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The account's live sessions (devices), newest first.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<SessionList>> {
    let sessions = app.store.list_sessions(auth.user_id, app.now()).await?;
    Ok(axum::Json(SessionList {
        sessions: sessions
            .iter()
            .map(|s| SessionView::new(s, s.id == auth.session_id))
            .collect(),
    }))
}

/// End one session of the account (e.g. a lost device).
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Session ended"), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn revoke_session(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: SessionId = id
        .parse()
        .map_err(|_| ApiError::bad_request("invalid_id", "session id must be a UUID"))?;
    app.store
        .revoke_session(auth.user_id, id, app.now())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("session"),
            other => other.into(),
        })?;
    app.end_sessions(&[id]);
    Ok(StatusCode::NO_CONTENT)
}
