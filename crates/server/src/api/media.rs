//! `/api/v1/media`: upload, authorised access (a redirect to a short-lived signed URL), and the
//! signed-URL endpoint that serves bytes from the local media store.

use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::Auth;
use crate::http::extract::parse_id;
use crate::media::Variant;
use crate::media::signing::SignatureError;
use crate::state::{App, AppState};
use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use justus_core::MediaId;
use justus_core::media::{Attachment, Media};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use utoipa::{IntoParams, ToSchema};

/// Multipart upload body (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file. Its name is kept as display text only; its type is decided from its bytes.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// Where to fetch an upload, when asked with `Accept: application/json`.
#[derive(Serialize, ToSchema)]
pub struct SignedUrl {
    /// Absolute, or relative to this server. Valid until `expires_at`; needs no token.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedQuery {
    /// Unix seconds.
    pub expires: i64,
    /// Hex HMAC.
    pub signature: String,
}

/// Upload a file (`multipart/form-data`, field `file`). Returns the attachment to send with a
/// message (`attachments: [id]`) within a day, after which unused uploads are deleted.
#[utoipa::path(post, path = "/api/v1/media", tag = "media", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Attachment),
              (status = 400, description = "`invalid_multipart` (bad boundary, body cut off), `missing_file`", body = ErrorBody),
              (status = 413, description = "`file_too_large` (limit of its kind), `payload_too_large`, `quota_exceeded` (`MEDIA_QUOTA_BYTES`, uploads in flight included)", body = ErrorBody),
              (status = 415, description = "`unsupported_media_type` (content not allowed), `extension_mismatch`", body = ErrorBody),
              (status = 422, description = "`image_too_large` (pixel flood, or pixels beyond the decode memory), `invalid_image`, `archive_too_large` (zip bomb), `invalid_archive`, `infected`, `empty_file`", body = ErrorBody),
              (status = 429, description = "`rate_limited`: more than `MEDIA_UPLOADS_PER_MINUTE` uploads; wait `Retry-After` seconds", body = ErrorBody),
              (status = 503, description = "`media_busy`: too many images waiting to be decoded (retry after `Retry-After`); or storage or virus scanner unavailable; nothing stored", body = ErrorBody)))]
pub async fn upload(
    State(app): State<AppState>,
    auth: Auth,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let multipart = multipart.map_err(|e| {
        ApiError::bad_request(
            "invalid_multipart",
            format!("expected a multipart/form-data body: {}", e.body_text()),
        )
    })?;
    let media = crate::media::upload::upload(&app, auth.user_id, multipart).await?;
    Ok((StatusCode::CREATED, Json(media.attachment())).into_response())
}

async fn visible_media(app: &App, user: justus_core::UserId, id: &str) -> ApiResult<Media> {
    let id: MediaId = parse_id(id, "media")?;
    // Unknown and not-yours look the same: an outsider learns nothing about an id.
    if !app.store.media_visible_to(id, user).await? {
        return Err(ApiError::not_found("media"));
    }
    app.store
        .media(id)
        .await
        .map_err(|_| ApiError::not_found("media"))
}

/// A redirect (302) to a short-lived URL of the object, or its JSON form when the client
/// prefers `application/json` (browsers cannot follow an authorised redirect into `<img>`).
async fn redirect(
    app: &App,
    media: &Media,
    variant: Variant,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let svc = &app.media;
    let expires = app.now() + chrono::Duration::seconds(svc.url_ttl.as_secs() as i64);
    let key = variant.key(media.id);
    let serve = crate::media::serve_headers(media, variant);
    let url = match svc
        .store
        .presigned_get(&key, svc.url_ttl, &serve)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot presign a media URL");
            ApiError::unavailable("media storage is unavailable; retry shortly")
        })? {
        Some(url) => url,
        None => {
            let object = format!("{}/{}", media.id, variant.as_string());
            let sig = svc.signer.sign(&object, expires.timestamp());
            let base = app
                .config
                .public_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_owned())
                .unwrap_or_default();
            format!(
                "{base}/api/v1/media/files/{object}?expires={}&signature={sig}",
                expires.timestamp()
            )
        }
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Ok(Json(SignedUrl {
            url,
            expires_at: expires,
        })
        .into_response());
    }
    let location = HeaderValue::from_str(&url).map_err(|_| ApiError::internal())?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

/// Fetch an upload: for its uploader and for members of a room where it was posted. Answers
/// with a redirect to a signed URL valid for `MEDIA_URL_TTL_SECONDS` (or, with
/// `Accept: application/json`, that URL as JSON).
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 302, description = "Location: the signed URL"), (status = 200, description = "With `Accept: application/json`", body = SignedUrl),
              (status = 404, description = "Unknown, or not visible to you", body = ErrorBody)))]
pub async fn get_media(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let media = visible_media(&app, auth.user_id, &id).await?;
    redirect(&app, &media, Variant::Original, &headers).await
}

/// A WebP thumbnail of an image upload (longest side `size`: 320 or 1280), same rules and
/// answers as the original.
#[utoipa::path(get, path = "/api/v1/media/{id}/thumbnails/{size}", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("size" = u32, Path, description = "320 or 1280")),
    responses((status = 302, description = "Location: the signed URL"), (status = 200, body = SignedUrl),
              (status = 404, description = "Unknown, not visible, no thumbnails, or another size", body = ErrorBody)))]
pub async fn get_thumbnail(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, size)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let media = visible_media(&app, auth.user_id, &id).await?;
    let variant = Variant::parse(&format!("w{size}"))
        .filter(|_| media.has_thumbs)
        .ok_or_else(|| ApiError::not_found("thumbnail"))?;
    redirect(&app, &media, variant, &headers).await
}

/// A user's avatar (512×512 WebP), for any signed-in user. Same answers as
/// `GET /api/v1/media/{id}`.
#[utoipa::path(get, path = "/api/v1/users/{id}/avatar", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 302, description = "Location: the signed URL"), (status = 200, description = "With `Accept: application/json`", body = SignedUrl),
              (status = 404, description = "Unknown user, or no avatar", body = ErrorBody)))]
pub async fn user_avatar(
    State(app): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id: justus_core::UserId = parse_id(&id, "user")?;
    let user = app
        .store
        .user_by_id(id)
        .await
        .map_err(crate::chat::not_found("user"))?;
    avatar_redirect(&app, user.avatar, &headers).await
}

/// A group's avatar (512×512 WebP), for its members (others: 404). Same answers as
/// `GET /api/v1/media/{id}`.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/avatar", tag = "rooms", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 302, description = "Location: the signed URL"), (status = 200, description = "With `Accept: application/json`", body = SignedUrl),
              (status = 404, description = "Unknown room, not a member, or no avatar", body = ErrorBody)))]
pub async fn room_avatar(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id: justus_core::RoomId = parse_id(&id, "room")?;
    let (room, _) = crate::chat::member_access(&app, id, auth.user_id).await?;
    avatar_redirect(&app, room.avatar, &headers).await
}

async fn avatar_redirect(
    app: &App,
    avatar: Option<MediaId>,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let id = avatar.ok_or_else(|| ApiError::not_found("avatar"))?;
    let media = app
        .store
        .media(id)
        .await
        .map_err(crate::chat::not_found("avatar"))?;
    redirect(app, &media, Variant::Original, headers).await
}

/// The bytes behind a signed URL (local media store). No token: the signature is the
/// authorisation. Supports `Range`. Expired or tampered signatures → 403.
#[utoipa::path(get, path = "/api/v1/media/files/{id}/{variant}", tag = "media",
    params(("id" = uuid::Uuid, Path), ("variant" = String, Path, description = "`original`, `w320` or `w1280`"), SignedQuery),
    responses((status = 200, description = "The file, with its sniffed Content-Type, `nosniff`, a sandbox CSP, and `Content-Disposition: attachment` unless image/audio/video"),
              (status = 206, description = "A `Range` of it"),
              (status = 403, description = "`signature_expired` or `invalid_signature`", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn serve_file(
    State(app): State<AppState>,
    Path((id, variant)): Path<(String, String)>,
    Query(q): Query<SignedQuery>,
    req: Request,
) -> ApiResult<Response> {
    let object = format!("{id}/{variant}");
    app.media
        .signer
        .verify(&object, q.expires, &q.signature, app.now().timestamp())
        .map_err(|e| match e {
            SignatureError::Expired => {
                ApiError::forbidden("signature_expired", "this media link has expired")
            }
            SignatureError::Invalid => {
                ApiError::forbidden("invalid_signature", "this media link is not valid")
            }
        })?;
    let id: MediaId = parse_id(&id, "media")?;
    let variant = Variant::parse(&variant).ok_or_else(|| ApiError::not_found("media"))?;
    let media = app
        .store
        .media(id)
        .await
        .map_err(|_| ApiError::not_found("media"))?;
    let path = app
        .media
        .store
        .local_path(&variant.key(id))
        .ok_or_else(|| ApiError::not_found("media"))?;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(ApiError::not_found("media"));
    }
    let res = tower_http::services::ServeFile::new(path)
        .oneshot(req)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot serve a media file");
            ApiError::internal()
        })?;
    let (mut parts, body) = res.into_parts();
    if parts.status.is_success() {
        let (mime, inline) = match variant {
            Variant::Original => (media.mime.as_str(), media.kind.inline()),
            Variant::Thumb(_) => ("image/webp", true),
        };
        let h = &mut parts.headers;
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(mime)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "sandbox; default-src 'none'; img-src 'self'; media-src 'self'",
            ),
        );
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&crate::media::disposition::content_disposition(
                inline,
                &media.name,
            ))
            .unwrap_or(HeaderValue::from_static("attachment")),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=300"),
        );
        // Range responses must reach the client as they are.
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
    }
    Ok(Response::from_parts(parts, Body::new(body)))
}
