//! `/api/openapi.json` (generated from the handlers' annotations) and `/api/docs`, a small
//! self-contained reference page rendered from it (no CDN, no inline script).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;

const PAGE: &str = include_str!("docs_assets/index.html");
const SCRIPT: &str = include_str!("docs_assets/docs.js");
const STYLE: &str = include_str!("docs_assets/docs.css");

pub fn router<S: Clone + Send + Sync + 'static>(spec_json: String) -> Router<S> {
    let spec: Arc<str> = spec_json.into();
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        spec.to_string(),
                    )
                }
            }),
        )
        .route(
            "/api/docs",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
            }),
        )
        .route(
            "/api/docs/docs.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    SCRIPT,
                )
            }),
        )
        .route(
            "/api/docs/docs.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }),
        )
}
