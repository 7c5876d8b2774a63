//! The embedded web client (`web/dist`, built by `npm run build` in `web/`).
//!
//! Hashed files under `/assets/` are immutable and cached for a year; everything else
//! (`index.html`, the service worker, the manifest) must be revalidated so a new release is
//! picked up at once. Unknown paths that look like app routes get `index.html` (client-side
//! routing); unknown files (anything under `/assets/`, or a last segment with an extension,
//! e.g. `/robots.txt`, `/favicon.ico`) get a real 404, so a missing script is not answered
//! with HTML and crawlers see what exists. Responses carry an ETag; compression is applied by
//! the router's layer.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Dist;

/// Paths that belong to the server, never to the web app.
fn is_server_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/api" || matches!(path, "/health" | "/ready" | "/metrics")
}

/// Paths that name a file, not an app route: they 404 when missing.
fn is_file_path(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    path.starts_with("/assets/") || last.contains('.')
}

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if is_server_path(path) {
        return crate::http::error::ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such endpoint",
        )
        .into_response();
    }
    let key = path.trim_start_matches('/');
    let (key, file) = match Dist::get(key).filter(|_| !key.is_empty()) {
        Some(f) => (key, f),
        None if is_file_path(path) => {
            return crate::http::error::ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such file",
            )
            .into_response();
        }
        None => match Dist::get("index.html") {
            Some(f) => ("index.html", f),
            None => return not_built(),
        },
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let cache = if key.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, cache.to_owned()),
            ],
        )
            .into_response();
    }
    let mut res = Response::new(Body::from(file.data.into_owned()));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if key == "sw.js" {
        // The service worker controls the whole origin.
        h.insert("service-worker-allowed", HeaderValue::from_static("/"));
    }
    res
}

fn not_built() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
        "JustUs is running, but this binary was built without the web client (web/dist was missing). \
         Run `npm ci && npm run build` in web/ and rebuild. The API is at /api/v1 (docs: /api/docs).",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::is_file_path;

    #[test]
    fn files_and_routes() {
        for p in [
            "/assets/x.js",
            "/assets/gone",
            "/robots.txt",
            "/favicon.ico",
            "/a/b.json",
        ] {
            assert!(is_file_path(p), "{p}");
        }
        for p in ["/", "/rooms/abc", "/invite/Ab-9_x", "/settings"] {
            assert!(!is_file_path(p), "{p}");
        }
    }
}
